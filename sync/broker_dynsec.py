"""The broker's access rules, as mosquitto's dynamic-security plugin file (dynsec.json).

Why the plugin and not an acl_file: mosquitto 2.0's acl_file never refuses a
SUBSCRIBE, so any store could join head office's shared subscription
``$share/hq/touchpoint/v1/+/up/#`` and have the broker divert (then drop) a share of
every store's batches. The plugin checks every SUBSCRIBE against the full filter,
``$share/{group}/`` prefix included, and answers SUBACK 0x87 "Not authorized".

Authentication stays with the mosquitto password file: a dynsec client without a
password makes the plugin defer the password check to ``password_file``. So this
file holds no secrets, only who may do what. Clients that the file does not list
(someone added to the password file by hand) match no rule and get nothing, because
no acl_file is configured behind the plugin to fall back on.

Pure: text out. ``sync.broker_files`` writes it; ``find_dynsec_plugin`` locates the
plugin for the generated mosquitto.conf.
"""

from __future__ import annotations

import glob
import json
import sysconfig
from pathlib import Path

from sync.broker_config import (
    TOPIC_ROOT,
    BrokerSetupError,
    BrokerSpec,
    kiosk_user,
    lookup_user,
)
from sync.wire import SHARE_GROUP

PLUGIN_NAME = "mosquitto_dynamic_security.so"
# Debian/Ubuntu/Raspberry Pi OS put it in the multiarch directory (x86_64-linux-gnu,
# aarch64-linux-gnu, arm-linux-gnueabihf); a source build in /usr/local/lib.
PLUGIN_GLOBS = (
    f"/usr/lib/*/{PLUGIN_NAME}",
    f"/usr/lib/mosquitto*/{PLUGIN_NAME}",
    f"/usr/lib/{PLUGIN_NAME}",
    f"/usr/lib64/{PLUGIN_NAME}",
    f"/usr/local/lib/*/{PLUGIN_NAME}",
    f"/usr/local/lib/{PLUGIN_NAME}",
)


def find_dynsec_plugin(explicit: str | Path | None = None) -> Path:
    """The dynamic-security plugin to load: `explicit` if given, else found on disk."""
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise BrokerSetupError(f"--dynsec-plugin {path}: no such file")
        return path.absolute()
    found = [Path(p) for pattern in PLUGIN_GLOBS for p in sorted(glob.glob(pattern))]
    if not found:
        raise BrokerSetupError(
            f"mosquitto's dynamic-security plugin ({PLUGIN_NAME}) not found in "
            f"{', '.join(PLUGIN_GLOBS)}: install mosquitto 2.0 or later "
            "(apt-get install mosquitto), or pass --dynsec-plugin PATH"
        )
    # With several architectures installed, prefer this machine's own.
    arch = sysconfig.get_config_var("MULTIARCH") or ""
    return next((p for p in found if arch and p.parent.name == arch), found[0])


def store_role(store: str) -> str:
    """The role holding one store's rights."""
    return f"store:{store}"


def kiosk_role(store: str) -> str:
    """The role holding one store kiosk's rights (recognition lookups only)."""
    return f"kiosk:{store}"


LOOKUP_ROLE = "hq-lookup"


def _acl(acltype: str, topic: str) -> dict[str, object]:
    return {"acltype": acltype, "topic": topic, "allow": True}


def _reads(topic: str) -> list[dict[str, object]]:
    """Subscribe to `topic` and receive what is published under it."""
    return [_acl("subscribePattern", topic), _acl("publishClientReceive", topic)]


def roles(spec: BrokerSpec) -> list[dict[str, object]]:
    """One role per store, one shared by the HQ users, one for the feeds reader."""
    root = TOPIC_ROOT
    made: list[dict[str, object]] = [
        {
            "rolename": store_role(store),
            "textName": f"store {store}: writes its up/, reads its down/",
            "acls": [
                _acl("publishClientSend", f"{root}/{store}/up/#"),
                *_reads(f"{root}/{store}/down/#"),
            ],
        }
        for store in spec.stores
    ]
    made += [
        {
            "rolename": kiosk_role(store),
            "textName": f"store {store}'s kiosk: asks for lookups, reads their replies",
            "acls": [
                _acl("publishClientSend", f"{root}/{store}/up/lookup"),
                *_reads(f"{root}/{store}/down/lookup/#"),
            ],
        }
        for store in spec.stores
    ]
    made.append(
        {
            "rolename": LOOKUP_ROLE,
            "textName": "head office's lookup responders: read every up/lookup, reply on down/lookup/",
            "acls": [
                _acl("subscribePattern", f"$share/{SHARE_GROUP}/{root}/+/up/lookup"),
                _acl("publishClientReceive", f"{root}/+/up/lookup"),
                _acl("publishClientSend", f"{root}/+/down/lookup/#"),
            ],
        }
    )
    made.append(
        {
            "rolename": "hq",
            "textName": "head office: reads every up/, writes every down/, feed/ and alerts",
            "acls": [
                # The plugin checks the whole filter, $share prefix included, so the
                # ingesters' group needs its own rule, and no other group is granted.
                _acl("subscribePattern", f"$share/{SHARE_GROUP}/{root}/+/up/#"),
                *_reads(f"{root}/+/up/#"),
                # HQ also reads down/ and feed/, to see what it has retained there.
                _acl("publishClientSend", f"{root}/+/down/#"),
                *_reads(f"{root}/+/down/#"),
                _acl("publishClientSend", f"{root}/+/feed/#"),
                *_reads(f"{root}/+/feed/#"),
                # Store alerts (hq/alerts.py), retained per store.
                _acl("publishClientSend", f"{root}/+/alerts"),
                *_reads(f"{root}/+/alerts"),
            ],
        }
    )
    if spec.feeds_user:
        made.append(
            {
                "rolename": "feeds",
                "textName": "dashboards: read every store's feed/ and alerts",
                "acls": [*_reads(f"{root}/+/feed/#"), *_reads(f"{root}/+/alerts")],
            }
        )
    return made


def clients(spec: BrokerSpec) -> list[dict[str, object]]:
    """Every user with its role, and no password: the password file checks those."""
    made = [
        {
            "username": store,
            "textName": f"store {store}",
            "roles": [{"rolename": store_role(store)}],
        }
        for store in spec.stores
    ]
    made += [
        {"username": hq, "textName": "HQ ingester", "roles": [{"rolename": "hq"}]}
        for hq in spec.hq_users
    ]
    made += [
        {
            "username": kiosk_user(store),
            "textName": f"store {store}'s kiosk",
            "roles": [{"rolename": kiosk_role(store)}],
        }
        for store in spec.stores
    ]
    made += [
        {
            "username": lookup_user(hq),
            "textName": f"lookup responder of {hq}",
            "roles": [{"rolename": LOOKUP_ROLE}],
        }
        for hq in spec.hq_users
    ]
    if spec.feeds_user:
        made.append(
            {
                "username": spec.feeds_user,
                "textName": "feeds reader",
                "roles": [{"rolename": "feeds"}],
            }
        )
    return made


def dynsec_config(spec: BrokerSpec) -> dict[str, object]:
    """The plugin's whole configuration: clients, roles, and deny by default."""
    return {
        "clients": clients(spec),
        "roles": roles(spec),
        # No groups, and so no anonymous group: allow_anonymous is false anyway.
        "groups": [],
        # Nothing is allowed unless a role grants it: no $SYS, no $CONTROL (so nobody
        # can change these rules at run time), no other store's topics. Unsubscribing
        # only removes a client's own subscriptions, so it stays allowed.
        "defaultACLAccess": {
            "publishClientSend": False,
            "publishClientReceive": False,
            "subscribe": False,
            "unsubscribe": True,
        },
    }


def dynsec_text(spec: BrokerSpec) -> str:
    """dynsec.json as written to disk."""
    return json.dumps(dynsec_config(spec), indent=2) + "\n"
