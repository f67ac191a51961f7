"""A head office for web tests: real ingest and rollup into a real database (SQLite or
PostgreSQL), users and tokens made by the real account code, and the real app."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import msgspec

from hq.backends import open_hq_reader
from hq.config import HqConfig
from hq.db import Db
from hq.rollup import Rollup
from hq.storage import HqStore
from hq.web.accounts import add_token, add_user
from hq.web.app import create_app
from sync import wire
from tests.edge.agent_support import CHAIN_KEY
from tests.hq.storelog import StoreLog, deliver, pseudonym
from tests.hq_db import HqTarget

LATER = 1_900_000_000.0  # 2030: every bucket of 2026 is over (final, not provisional)
DAY = "2026-06-01"
PASSWORD = "correct horse battery"
LOYALTY = "2400000012345"
# An identified visit's pseudonym, as a store makes it: must never be served.
PSEUDONYM = pseudonym({"k1": CHAIN_KEY}, LOYALTY)


def web_config(tmp_path: Path, **web: object) -> HqConfig:
    """An HQ config whose users and tokens files sit in tmp_path (plain HTTP cookies)."""
    return msgspec.convert(
        {
            "hq": {"timezone": "UTC"},
            "identity": {"keys": [{"id": "k1", "file": "chain-key"}], "active_key": "k1"},
            "web": {
                "users_file": "users.json",
                "tokens_file": "tokens.json",
                "state_file": "web-state.db",
                "cookie_secure": False,
                **web,
            },
        },
        HqConfig,
    )


def fill(hq: HqStore) -> dict[str, StoreLog]:
    """Two stores' door counts, a visit and staff scans through triage and ingest, rolled up."""
    s1, s2 = StoreLog("s1"), StoreLog("s2")
    s1.door(f"{DAY}T08:10:00.000Z", count=3)
    s1.door(f"{DAY}T08:20:00.000Z", "out")
    s1.door(f"{DAY}T09:05:00.000Z", count=2)
    s1.visit(f"{DAY}T09:06:00.000Z", PSEUDONYM)
    s1.nps(f"{DAY}T09:30:00.000Z", 9)
    s2.door(f"{DAY}T10:00:00.000Z", count=7)
    s2.door(f"{DAY}T11:00:00.000Z", "out", count=4)
    for log in (s1, s2):
        deliver(hq, log.store, log.payloads())
    state = wire.StoreState(
        v=1, online=True, boot_id="boot-1", outbox=3, oldest_unsent_s=1.5, version="0.1.0"
    )
    hq.record_state("s1", state, "2026-06-01T12:00:00.000Z")
    roll(hq)
    return {"s1": s1, "s2": s2}


def roll(hq: HqStore) -> None:
    """One rollup pass as the feed worker makes it, long after the day."""
    Rollup(Db(hq), now=lambda: LATER).run_once()


@dataclass
class WebHq:
    """A filled head office, its web app, and credentials of every kind."""

    target: HqTarget
    writer: HqStore
    cfg: HqConfig
    tmp: Path
    logs: dict[str, StoreLog]
    token_all: str
    token_s1: str
    reader: object = None
    intake: object = None

    def app(self, **web: object):
        """The real app over a read-only view of the database."""
        cfg = web_config(self.tmp, **web) if web else self.cfg
        self.reader = open_hq_reader(self.target.db, self.target.secrets)
        return create_app(cfg, self.reader, base_dir=self.tmp)

    def orders_app(self, **web: object):
        """The real app with `web.orders` on: its intake opened as `hq serve` opens it."""
        from hq.web.orders import open_order_intake

        (self.tmp / "chain-key").write_bytes(CHAIN_KEY)
        cfg = web_config(self.tmp, orders=True, **web)
        cfg = msgspec.structs.replace(cfg, database=self.target.db)
        self.intake = open_order_intake(cfg, self.target.secrets)
        self.reader = open_hq_reader(self.target.db, self.target.secrets)
        return create_app(cfg, self.reader, base_dir=self.tmp, orders=self.intake)

    def bearer(self, token: str) -> dict[str, str]:
        """The Authorization header of a token."""
        return {"Authorization": f"Bearer {token}"}


def make_web_hq(target: HqTarget, tmp_path: Path) -> WebHq:
    """Fill a database on `target` and make users (all stores; s1 only) and tokens."""
    writer = target.open()
    logs = fill(writer)
    add_user(tmp_path / "users.json", "anna", PASSWORD, None)
    add_user(tmp_path / "users.json", "rita", PASSWORD, ["s1"])
    return WebHq(
        target=target,
        writer=writer,
        cfg=web_config(tmp_path),
        tmp=tmp_path,
        logs=logs,
        token_all=add_token(tmp_path / "tokens.json", "bi", None),
        token_s1=add_token(tmp_path / "tokens.json", "region", ["s1"]),
    )
