"""`touchpoint hq publish` end to end: the real command, a private mosquitto, a real store
uplink applying what it sent, and the kiosk's search and product page on that database."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from edge.classify import ScanClassifier
from edge.config import KioskSection
from edge.db import open_store_db
from edge.eventlog import EventLog
from edge.identity import Pseudonymiser
from hq.publish.rows import CATALOG_FIELDS
from kiosk.core.recognition import OfflineRecognition
from kiosk.core.service import KioskService
from sync import wire
from sync.uplink import Uplink, UplinkSettings
from tests.edge.agent_support import wait_for
from tests.hq.mqtt_probe import retained
from tests.support import touchpoint

# ams-01 is in Amsterdam, utr-01 35 km away, rot-01 57.5 km, gro-01 145 km; nowhere-01
# has no location.
STORES = (
    "store,name,timezone,hours,exceptions,doors,lat,lon,staff_count\n"
    "ams-01,Amsterdam,Europe/Amsterdam,mon-sun 09:00-18:00,,main,52.3731,4.8922,4\n"
    "utr-01,Utrecht,Europe/Amsterdam,mon-sun 09:00-18:00,,main,52.0907,5.1214,4\n"
    "rot-01,Rotterdam,Europe/Amsterdam,mon-sun 09:00-18:00,,main,51.9225,4.4792,4\n"
    "gro-01,Groningen,Europe/Amsterdam,mon-sun 09:00-18:00,,main,53.2194,6.5665,4\n"
    "nowhere-01,Nowhere,Europe/Amsterdam,mon-sun 09:00-18:00,,main,,,4\n"
)


@pytest.fixture
def config(tmp_path: Path, mosquitto) -> Path:
    """An HQ config on a SQLite file and the private broker, with its stores imported."""
    (tmp_path / "k1").write_text("chain key one\n")
    path = tmp_path / "hq.toml"
    path.write_text(
        f'[database]\npath = "{tmp_path / "hq.db"}"\n'
        f'[mqtt]\nhost = "{mosquitto.host}"\nport = {mosquitto.port}\ntls = false\n'
        'password_file = ""\n'
        "[publish]\nnearest_stores = 2\ntimeout_s = 10\n"
        '[identity]\nactive_key = "k1"\n[[identity.keys]]\nid = "k1"\nfile = "k1"\n'
    )
    (tmp_path / "stores.csv").write_text(STORES)
    done = touchpoint("hq", "import", "stores", str(tmp_path / "stores.csv"), "-c", str(path))
    assert done.returncode == 0, done.stderr
    return path


def catalog_file(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def products(n: int, tag: str = "") -> list[dict]:
    return [
        {
            "id": f"SKU-{i:05d}",
            "title": f"Noord regenjas {i}{tag}",
            "brand": "Noord",
            "product_type": "Kleding > Jassen",
            "price": f"{49 + i % 50}.99 EUR",
            "availability": "in_stock",
        }
        for i in range(n)
    ]


def publish(kind: str, file: Path, config: Path):
    done = touchpoint("hq", "publish", kind, str(file), "-c", str(config))
    summary = json.loads(done.stdout) if done.stdout.strip() else None
    return done, summary


def applied(db: Path, kind: str) -> int:
    row = (
        sqlite3.connect(db)
        .execute("SELECT value FROM state WHERE key = ?", (f"downlink:{kind}",))
        .fetchone()
    )
    return int(row[0]) if row else 0


@pytest.fixture
def store(tmp_path: Path, mosquitto):
    """Store ams-01: its database and a running uplink (which applies the downlink)."""
    db = tmp_path / "store.db"
    open_store_db(db).close()
    up = Uplink(
        UplinkSettings(
            store="ams-01", db_path=db, host=mosquitto.host, port=mosquitto.port, boot_id="b"
        )
    )
    up.start()
    yield db
    up.stop()


@pytest.fixture
def kiosk(store: Path):
    log = EventLog(store).start()
    svc = KioskService(
        store,
        settings=KioskSection(),
        store_id="ams-01",
        eventlog=log,
        classifier=ScanClassifier(Pseudonymiser({"k1": b"k"}, "k1"), None),
        recognition=OfflineRecognition(),
    )
    yield svc
    svc.close()
    log.stop()


def test_catalog_and_stock_reach_the_store_and_the_kiosk_finds_them(
    config: Path, tmp_path: Path, store: Path, kiosk: KioskService
):
    drill = {
        "id": "DRILL-1",
        "title": "Bosch boormachine PSB 500",
        "description": "Klopboren\nin beton.",
        "brand": "Bosch",
        "gtin": "4006381333931",
        "product_type": "Gereedschap > Boormachines",
        "price": "59.99 EUR",
        "sale_price": "49.99 EUR",
        "rating": 4.4,
        "review_count": 120,
    }
    bad_price = {"id": "BAD-1", "title": "Kapotte prijs", "price": "12,50 EUR"}
    twice = {"id": "SKU-00001", "title": "Twice", "price": "1.00 EUR"}
    rows = [*products(1200), drill, bad_price, twice]
    cat = catalog_file(tmp_path / "catalog.jsonl", rows)
    done, summary = publish("catalog", cat, config)
    assert done.returncode == 1, done.stderr  # rows were rejected; the good ones went out
    assert f"{cat}:1202: price: '12,50' is not an amount" in done.stderr
    assert f"{cat}:1203: id: 'SKU-00001' already on line 2" in done.stderr
    assert (summary["stores"], summary["items"], summary["rejected"]) == (5, 1201, 2)
    assert summary["parts"] == 5 * 3 and summary["cleared"] == 0
    assert (tmp_path / "catalog.rejected.jsonl").read_text().count("\n") == 2

    stock = tmp_path / "stock.csv"
    stock.write_text(
        "store_code,id,quantity\n"
        "ams-01,DRILL-1,0\n"
        "utr-01,DRILL-1,4\n"
        "rot-01,DRILL-1,2\n"
        "gro-01,DRILL-1,9\n"  # not among ams-01's 2 nearest: not sent to it
        "online,DRILL-1,30\n"
        "ams-01,SKU-00007,3\n"
        "ghost-01,DRILL-1,1\n"
        "ams-01,SKU-00007,5\n"
    )
    done, stock_summary = publish("stock", stock, config)
    assert done.returncode == 1, done.stderr
    assert f"{stock}:8: store_code: 'ghost-01' is not in the store registry" in done.stderr
    assert f"{stock}:9: id: 'SKU-00007' already on line 7" in done.stderr
    assert stock_summary["items"] == 2 and stock_summary["unplaced"] == ["nowhere-01"]
    assert "nowhere-01" in done.stderr  # told which stores get no nearby stock

    wait_for(
        lambda: (
            applied(store, "catalog") == summary["version"]
            and applied(store, "stock") == stock_summary["version"]
        ),
        what="both snapshots applied at the store",
    )
    _result, hits = kiosk.search("boormachine")
    assert [h.product.sku for h in hits] == ["DRILL-1"]
    page = kiosk.product_page("DRILL-1")
    p, a = page.product, page.availability
    assert (p.price_cents, p.sale_price_cents, p.current_price_cents) == (5999, 4999, 4999)
    assert (p.category, p.rating, p.reviews, p.description) == (
        "Boormachines",
        4.4,
        120,
        "Klopboren in beton.",
    )
    assert (a.here, a.online) == (0, 30)
    assert [(n.store, n.quantity) for n in a.nearby] == [("utr-01", 4), ("rot-01", 2)]
    assert [n.km for n in a.nearby] == pytest.approx([35.0, 57.5], abs=1.0)
    assert kiosk.search("regenjas 1199")[1][0].product.sku == "SKU-01199"
    assert kiosk.product_page("SKU-00007").availability.here == 3
    assert kiosk.product_page("SKU-00008").availability.here is None  # no stock data


def test_a_smaller_catalog_supersedes_and_clears_the_older_parts(
    config: Path, tmp_path: Path, store: Path, mosquitto
):
    big = catalog_file(tmp_path / "big.jsonl", products(1200, " oud"))
    done, first = publish("catalog", big, config)
    assert done.returncode == 0, done.stderr
    wait_for(lambda: applied(store, "catalog") == first["version"], what="first version")
    topic = wire.topic("ams-01", "down", "catalog")
    assert sorted(retained(mosquitto, topic)) == [f"{topic}/{n}" for n in range(3)]

    small = catalog_file(tmp_path / "small.jsonl", products(300, " nieuw"))
    done, second = publish("catalog", small, config)
    assert done.returncode == 0, done.stderr
    assert second["version"] > first["version"]
    assert (second["parts"], second["cleared"]) == (5, 5 * 2)
    wait_for(lambda: applied(store, "catalog") == second["version"], what="second version")
    names = [r[0] for r in sqlite3.connect(store).execute("SELECT name FROM catalog")]
    assert len(names) == 300 and all(n.endswith(" nieuw") for n in names)
    # Only the new part is left retained: a store connecting now downloads no stale parts.
    left = retained(mosquitto, topic)
    assert list(left) == [f"{topic}/0"]
    assert wire.decode_catalog_part(left[f"{topic}/0"]).version == second["version"]


def test_nothing_to_publish_and_a_bad_file(config: Path, tmp_path: Path):
    bad = catalog_file(tmp_path / "bad.jsonl", [{"id": "X", "title": "no price"}])
    done, _ = publish("catalog", bad, config)
    assert done.returncode == 1 and "no good rows, nothing published" in done.stderr
    wrong = tmp_path / "catalog.csv"
    wrong.write_text("id,title,colour\n")
    done, _ = publish("catalog", wrong, config)
    assert done.returncode == 2 and "unknown column 'colour'" in done.stderr
    done, _ = publish("catalog", tmp_path / "catalog.xml", config)
    assert done.returncode == 2
    assert CATALOG_FIELDS[0] == "id"


def test_an_unreachable_broker_is_exit_3(tmp_path: Path, config: Path, mosquitto):
    mosquitto.stop()
    cfg = config.read_text().replace("timeout_s = 10", "timeout_s = 2")
    config.write_text(cfg)
    done, _ = publish("catalog", catalog_file(tmp_path / "c.jsonl", products(3)), config)
    assert done.returncode == 3 and "publishing stopped" in done.stderr


def test_through_the_generated_broker_as_an_hq_user_of_its_own(tmp_path: Path):
    """The broker's access rules let an HQ user publish every store's downlink; a store's
    user is refused other stores' topics, and the command says so (exit 3)."""
    from tests.sync.test_broker_security import A, B, generated_broker

    with generated_broker("--hq-user", "hq", "--hq-user", "hq-publish") as broker:
        (tmp_path / "k1").write_text("chain key one\n")
        for user in ("hq", "hq-publish", A):
            (tmp_path / f"pw-{user}").write_text(broker.passwords[user] + "\n")
        config = tmp_path / "hq.toml"

        def write_config(publisher: str) -> None:
            config.write_text(
                f'[database]\npath = "{tmp_path / "hq.db"}"\n'
                f'[mqtt]\nhost = "127.0.0.1"\nport = {broker.plain}\ntls = false\n'
                'username = "hq"\npassword_file = "pw-hq"\n'
                f'[publish]\nusername = "{publisher}"\npassword_file = "pw-{publisher}"\n'
                "timeout_s = 10\n"
                '[identity]\nactive_key = "k1"\n[[identity.keys]]\nid = "k1"\nfile = "k1"\n'
            )

        write_config("hq-publish")
        stores = tmp_path / "stores.csv"
        hours = "Europe/Amsterdam,mon-sun 09:00-18:00,,main"
        stores.write_text(
            f"{STORES.splitlines()[0]}\n{A},A,{hours},52.3,4.9,1\n{B},B,{hours},52.1,5.1,1\n"
        )
        done = touchpoint("hq", "import", "stores", str(stores), "-c", str(config))
        assert done.returncode == 0, done.stderr
        cat = catalog_file(tmp_path / "c.jsonl", products(10))
        done, summary = publish("catalog", cat, config)
        assert done.returncode == 0, done.stderr
        assert (summary["stores"], summary["parts"], summary["refused"]) == (2, 2, {})

        store = broker.peer(A, A)
        try:
            reason, _ = store.connect()
            assert not reason.is_failure
            store.subscribe(wire.topic(A, "down", "catalog", "#"))
            msg = store.messages.get(timeout=5)
            assert wire.decode_catalog_part(msg.payload).version == summary["version"]
        finally:
            store.close()

        write_config(A)  # a store's user: it may write neither its own down/ nor B's
        done, summary = publish("catalog", cat, config)
        assert done.returncode == 3, done.stderr
        assert sorted(summary["refused"]) == [A, B]
        assert f"store {B}: the broker refused it" in done.stderr
