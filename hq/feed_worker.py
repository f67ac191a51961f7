"""The feed worker of `hq run`: rollup, MQTT feed publishing and privacy housekeeping.

One thread with its own database connection:
- every `interval_s`: resolve changes and recompute dirty store-days (hq/rollup.py),
  then publish every changed bucket;
- every `provisional_s`: finalise buckets whose hour ended (or store came back);
- every `housekeeping_s`: delete pseudonyms of unconsented visits past the TTL, and
  what is past the event retention (hq/retention.py);
- every pass, the `steps` it was given (the alerts: hq/alert_step.py);
- in a pass with nothing recomputed, the API's JSON of up to 200 store-days whose
  feed pages wait for it after an upgrade, or else the deflated pieces of up to 800
  pages (`Rollup.fill_pages`).

Publishing: each changed bucket goes to `touchpoint/v1/{store}/feed/{hour|day}` (QoS 1).
A store's newest bucket is retained, so a reader that joins late gets the current
state; revisions of older buckets are sent unretained, so a connected reader sees
every revision without an old bucket replacing the retained newest one. The chain
roll-up goes to `touchpoint/v1/_chain/feed/{hour|day}` the same way. A bucket leaves
`hq_feed_outbox` only after the broker acknowledged its message.

With several `hq run` processes on one database, one worker runs at a time: each
tries the database's feed lock (a PostgreSQL session advisory lock, or a lock file
beside the SQLite file) and only its holder works; the others stand by.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from hq.db import Db
from hq.facts import Windows
from hq.feeds import CHAIN, bucket_row, chain_feed
from hq.privacy import expire_personal_events, expire_pseudonyms
from hq.retention import prune
from hq.rollup import Rollup
from hq.storage import HqStore, StoreUnavailable
from hq.worker_thread import WorkerThread, report_failure
from sync import wire

log = logging.getLogger(__name__)

Publish = Callable[[str, bytes, bool], bool]  # (topic, payload, retain) -> broker acked


class Step(Protocol):
    """More work for the elected worker's pass (e.g. hq/alert_step.py); how many it sent."""

    def run(self, db: Db, publish: Publish, now: float) -> int: ...


@dataclass
class FeedSettings:
    """How often the worker does each job, and the privacy periods."""

    interval_s: float = 1.0
    today_every_s: float = 0.0  # a day not over yet: recomputed at most this often
    settle_max_s: float = 0.0  # wait for a store-day's marks to stop arriving, at most this
    provisional_s: float = 60.0
    housekeeping_s: float = 600.0
    unconsented_ttl_h: float = 24.0
    personal_event_days: float = 30.0
    event_retention_days: float | None = None  # None: keep everything (`hq run` sets it)
    windows: Windows = field(default_factory=Windows)


@dataclass
class FeedStats:
    """What the worker has done (for logs and status)."""

    passes: int = 0
    days: int = 0
    buckets_changed: int = 0
    published: int = 0
    expired_pseudonyms: int = 0
    active: bool = False
    last_error: str = ""


def client_publisher(client: Any, timeout_s: float = 10.0) -> Publish:
    """A `Publish` over a connected paho client (the ingester's): QoS 1, waits for PUBACK."""

    def publish(topic: str, payload: bytes, retain: bool) -> bool:
        info = client.publish(topic, payload, qos=1, retain=retain)
        try:
            info.wait_for_publish(timeout_s)
        except (RuntimeError, ValueError):  # not connected, or the queue refused it
            return False
        return info.is_published()

    return publish


def feed_topic(store: str, period: str) -> str:
    """The MQTT topic of a store's (or the chain's) feed."""
    return f"{wire.PREFIX}/{store}/feed/{period}"


def feed_payload(row: dict[str, Any]) -> bytes:
    """A feed row as the MQTT payload (docs/wire.md)."""
    return json.dumps({"v": 1} | row, separators=(",", ":")).encode()


class FeedWorker(WorkerThread):
    """Runs the rollup, the publisher and housekeeping in one thread."""

    thread_name = "hq-feeds"

    def __init__(
        self,
        store_factory: Callable[[], HqStore],
        publish: Publish,
        settings: FeedSettings | None = None,
        now: Callable[[], float] = time.time,
        steps: Sequence[Step] = (),
    ) -> None:
        self.store_factory = store_factory
        self.publish = publish
        self.s = settings or FeedSettings()
        self.now = now
        self.steps = steps
        self.stats = FeedStats()
        super().__init__()
        self.idle = threading.Event()  # set after a pass that found nothing to do

    def _run(self) -> None:
        store = None
        last_prov = last_house = 0.0
        while not self._stop.is_set():
            try:
                if store is None:
                    store = self.store_factory()
                    db = Db(store)
                    rollup = Rollup(
                        db,
                        self.s.windows,
                        now=self.now,
                        today_every_s=self.s.today_every_s,
                        settle_max_s=self.s.settle_max_s,
                        final_after_days=self.s.event_retention_days,
                    )
                if not self._elected(store):
                    self._stop.wait(5.0)
                    continue
                mono = time.monotonic()
                result = rollup.run_once()
                if mono - last_prov >= self.s.provisional_s:
                    rollup.refresh_provisional()
                    last_prov = mono
                filled = rollup.fill_pages() if not result.days else 0
                published = self.publish_outbox(db)
                for step in self.steps:
                    published += step.run(db, self.publish, self.now())
                if mono - last_house >= self.s.housekeeping_s:
                    self.stats.expired_pseudonyms += expire_pseudonyms(
                        db, self.s.unconsented_ttl_h, self.now(), self.s.windows
                    )
                    expire_personal_events(db, self.s.personal_event_days, self.now())
                    if self.s.event_retention_days is not None:
                        pruned = prune(db, self.s.event_retention_days, self.now())
                        if pruned.events or pruned.orders:
                            log.info("retention: %s", pruned)
                    last_house = mono
                self.stats.passes += 1
                self.stats.days += result.days
                self.stats.buckets_changed += result.changed
                self.stats.last_error = ""
                if result.days or published:
                    self.idle.clear()
                    continue  # more may be waiting
                # Bodies missing from before the upgrade: a chunk a pass, at the pass's pace.
                (self.idle.clear if filled else self.idle.set)()
            except Exception as exc:  # never let the feeds die: report, back off, retry
                self.stats.last_error = report_failure(log, "feeds", exc, StoreUnavailable)
                self.stats.active = False  # a new connection must win the lock again
                if store is not None:
                    store.close()
                store = None
                self._stop.wait(min(30.0, 5 * self.s.interval_s))
            self._stop.wait(self.s.interval_s)
        if store is not None:
            store.close()

    def _elected(self, store: HqStore) -> bool:
        """Whether this process runs the feeds: the one holding the database's feed lock."""
        if self.stats.active:
            return True
        self.stats.active = store.try_feed_lock()
        if self.stats.active:
            log.info("feeds: this process runs the rollup and publishes the feeds")
        return self.stats.active

    def publish_outbox(self, db: Db) -> int:
        """Publish every queued bucket (and the chain buckets they change); how many sent."""
        queued = db.q(
            "SELECT store, period, start FROM hq_feed_outbox ORDER BY store, period, start LIMIT 5000"
        )
        if not queued:
            return 0
        sent = 0
        chain_days: dict[str, set[str]] = {"hour": set(), "day": set()}
        done = []
        by_key: dict[tuple[str, str], list[str]] = {}
        for store, period, start in queued:
            by_key.setdefault((store, period), []).append(start)
        for (store, period), starts in by_key.items():
            (newest,) = db.q(
                "SELECT max(start) FROM hq_feed WHERE store = ? AND period = ?", (store, period)
            )[0]
            for start in starts:
                rows = db.q(
                    "SELECT label, day, figures, provisional, revision FROM hq_feed"
                    " WHERE store = ? AND period = ? AND start = ?",
                    (store, period, start),
                )
                if rows:
                    label, day, fig, prov, rev = rows[0]
                    row = bucket_row(
                        store, period, start, label, day, json.loads(fig), bool(prov), int(rev)
                    )
                    if not self.publish(
                        feed_topic(store, period), feed_payload(row), start == newest
                    ):
                        return sent  # the broker did not take it: keep it queued
                    sent += 1
                    chain_days[period].add(day)
                done.append((store, period, start))
        sent += self._publish_chain(db, chain_days)
        with db.tx() as tx:
            tx.executemany(
                "DELETE FROM hq_feed_outbox WHERE store = ? AND period = ? AND start = ?", done
            )
        self.stats.published += sent
        return sent

    def _publish_chain(self, db: Db, days: dict[str, set[str]]) -> int:
        sent = 0
        for period, labels in days.items():
            if not labels:
                continue
            (newest,) = db.q("SELECT max(day) FROM hq_feed WHERE period = ?", (period,))[0]
            for label in sorted(labels):
                d = date.fromisoformat(label)
                rows = chain_feed(db, period, d, d)
                for i, row in enumerate(rows):
                    retain = label == newest and i == len(rows) - 1
                    self.publish(feed_topic(CHAIN, period), feed_payload(row), retain)
                    sent += 1
        return sent
