"""The store agent: devices → router → event log, under a supervisor, with housekeeping.

`Agent` is built from a checked `StoreConfig` plus its secrets and runs until told
to stop. Shutdown order matters for "nothing lost": components stop first (their
last readings are routed), then the event log commits everything queued.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devices.counters.ascii_line import MODULUS as ASCII_MODULUS
from devices.counters.deltas import DeltaTracker
from devices.counters.terabee import MODULUS as TERABEE_MODULUS
from edge import config as c
from edge.classify import classifier_from_config
from edge.clock import Clock, StepWatch
from edge.components import component_factory
from edge.configtree import SecretResolver
from edge.daemon import serve
from edge.db import connect, open_store_db
from edge.eventlog import EventLog
from edge.events import ClockStep, DeviceStatus
from edge.nonces import NONCE_PREFIX, NonceLedger
from edge.personal import purge_acknowledged
from edge.pickup_desk import PickupDesk
from edge.router import DeviceRoute, ReadingRouter, health_key, tracker_key
from edge.sdnotify import Notifier
from edge.supervisor import Supervisor
from edge.visits import VisitWindows, parse_ts

log = logging.getLogger(__name__)

HOUSEKEEPING_S = 60.0
DISK_DEVICE = "disk"


class Agent:
    """One store's agent: owns the event log, the router and the device supervisor."""

    def __init__(
        self,
        cfg: c.StoreConfig,
        secrets: SecretResolver,
        *,
        clock: Clock | None = None,
        boot_id: str | None = None,
        pin_factory: Any = None,
        extra_components: dict[str, Callable[[EventLog], Any]] | None = None,
    ) -> None:
        self.cfg = cfg
        self.clock = clock or Clock()
        db = cfg.database
        self.eventlog = EventLog(
            db.path,
            clock=self.clock,
            boot_id=boot_id,
            commit_interval=db.commit_interval_ms / 1000,
            batch_max=db.batch_max,
            busy_timeout_ms=db.busy_timeout_ms,
            max_pending=db.max_pending_events,
        )
        ident = cfg.identity
        classifier = classifier_from_config(ident, secrets)
        self.tokens = classifier.tokens
        self.windows = VisitWindows(ident.visit_window_min * 60)
        self.router = ReadingRouter(self.eventlog, classifier, self.windows)
        self.supervisor = Supervisor(self._on_health)
        self._restore()
        self.ledger: NonceLedger | None = None
        if self.tokens is not None:  # single use shared with the kiosk (edge/nonces.py)
            self.ledger = NonceLedger(db.path, busy_timeout_ms=db.busy_timeout_ms)
            self.tokens.ledger = self.ledger.claim
        for dev in cfg.devices:
            if dev.name == cfg.kiosk.scanner:
                continue  # the kiosk process reads its own scanner (kiosk/scanner.py)
            self.router.add(self._route(dev))
            sink = self.router.sink(dev.name)
            self.supervisor.add(dev.name, component_factory(dev, sink, pin_factory=pin_factory))
        for name, make in (extra_components or {}).items():
            self.router.add(DeviceRoute(name=name, role="system"))
            self.supervisor.add(name, lambda make=make: make(self.eventlog))
        self._next_housekeeping = 0.0
        self.low_disk = False
        self.step_watch = StepWatch(self.clock)

    def _route(self, dev: c.DeviceConfig) -> DeviceRoute:
        modulus = ASCII_MODULUS if isinstance(dev, c.AsciiCounter) else TERABEE_MODULUS
        tracker = self._trackers.get(dev.name)
        if tracker is not None and tracker.modulus != modulus:
            log.error("%s: persisted totals are for another sensor type; starting afresh", dev.name)
            tracker = None
        return DeviceRoute(
            name=dev.name,
            door=getattr(dev, "door", None),
            directional=getattr(dev, "directional", True),
            role=getattr(dev, "role", "door"),
            modulus=modulus,
            tracker=tracker,
        )

    def _restore(self) -> None:
        """Reload persisted counter totals and open visit windows (restart safety)."""
        db = open_store_db(
            self.cfg.database.path, busy_timeout_ms=self.cfg.database.busy_timeout_ms
        )
        self._trackers: dict[str, DeltaTracker] = {}
        try:
            for row in db.query("SELECT key, value FROM state WHERE key LIKE 'counter:%'"):
                name = row["key"].split(":", 1)[1]
                try:
                    self._trackers[name] = DeltaTracker.from_state(json.loads(row["value"]))
                except ValueError as exc:
                    log.error("%s: ignoring unreadable counter state: %s", name, exc)
            if self.tokens is not None:
                oldest_step = int(self.clock.now() // self.tokens.step_s) - 2
                for row in db.query("SELECT key, value FROM state WHERE key LIKE 'nonce:%'"):
                    if int(row["value"]) >= oldest_step:
                        self.tokens.restore(row["key"][len(NONCE_PREFIX) :], int(row["value"]))
            since = self.clock.iso(self.clock.now() - self.windows.window_s)
            for row in db.query(
                "SELECT json_extract(data, '$.pseudonym') AS p, json_extract(data, '$.window_start') AS w"
                " FROM events WHERE type = 'visit.identified' AND ts >= ?",
                [since],
            ):
                self.windows.restore(row["p"], parse_ts(row["w"]).timestamp())
        finally:
            db.close()

    def _on_health(self, device: str, state: str, detail: str) -> None:
        self.router.set_health(device, state, detail)

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Start the event log and every device component."""
        self.eventlog.start()
        self.supervisor.start_all()

    def tick(self) -> None:
        """Periodic work: supervise components; every minute, housekeeping."""
        self.supervisor.check()
        self.router.retry_deferred()
        step = self.step_watch.check()
        if step is not None:
            # Earlier events of this boot carry the old time; HQ re-bases them by this offset.
            log.warning("wall clock stepped by %+.3f s", step)
            self.eventlog.append(
                ClockStep(offset_s=round(step, 3), synced=self.clock.synced()), "clock"
            )
        now = time.monotonic()
        if now >= self._next_housekeeping:
            self._next_housekeeping = now + HOUSEKEEPING_S
            self.router.report_rejects()
            self._check_disk()
            try:
                self.prune()
            except sqlite3.OperationalError as exc:  # a full disk, a long lock: next time
                log.warning("pruning failed, will retry: %s", exc)
            try:
                self.expire_pickups()
            except sqlite3.OperationalError as exc:
                log.warning("pick-up expiry failed, will retry: %s", exc)

    def stop(self, deadline_s: float = 5.0) -> None:
        """Stop devices, then commit every event they reported, within `deadline_s`."""
        end = time.monotonic() + deadline_s
        self.supervisor.stop_all(deadline_s * 0.6)
        self.router.report_rejects()
        self.eventlog.stop(max(0.5, end - time.monotonic()))
        if self.ledger is not None:
            self.ledger.close()

    def run(self, stop: threading.Event, notifier: Notifier | None = None) -> None:
        """Run until `stop` is set; speaks sd_notify READY and WATCHDOG when under systemd."""
        self.start()
        serve(
            self.tick,
            stop,
            f"store {self.cfg.store.id}: {len(self.cfg.devices)} device(s)",
            notifier,
        )
        self.stop()

    # -- housekeeping ------------------------------------------------------------------

    def _check_disk(self) -> None:
        path = Path(self.cfg.database.path).resolve().parent
        free_mb = shutil.disk_usage(path).free // (1024 * 1024)
        low = free_mb < self.cfg.database.min_free_mb
        if low != self.low_disk:
            self.low_disk = low
            state = "alarm" if low else "ok"
            detail = f"{free_mb} MB free (minimum {self.cfg.database.min_free_mb} MB)"
            value = json.dumps({"state": state, "detail": detail})
            self.eventlog.append(
                DeviceStatus(state=state, detail=detail),
                DISK_DEVICE,
                state=(health_key(DISK_DEVICE), value),
            )
            (log.error if low else log.info)("disk: %s", detail)

    def prune(self) -> int:
        """Delete events head office acknowledged that are older than the retention period."""
        db = open_store_db(
            self.cfg.database.path, busy_timeout_ms=self.cfg.database.busy_timeout_ms
        )
        try:
            row = db.execute("SELECT value FROM state WHERE key = 'hq_acked_seq'").fetchone()
            acked = int(row[0]) if row else 0
            cutoff = self.clock.iso(self.clock.now() - self.cfg.database.retention_days * 86400)
            cur = db.execute("DELETE FROM events WHERE seq <= ? AND ts < ?", [acked, cutoff])
            purged = purge_acknowledged(db.conn)
            if self.tokens is not None:  # a used nonce matters only while its token could verify
                oldest_step = int(self.clock.now() // self.tokens.step_s) - 3
                db.execute(
                    "DELETE FROM state WHERE key LIKE 'nonce:%' AND CAST(value AS INTEGER) < ?",
                    [oldest_step],
                )
            return cur.rowcount + purged
        finally:
            db.close()

    def expire_pickups(self) -> list[str]:
        """Click & collect no-shows: orders past their pick-up-by go back to stock."""
        conn = connect(self.cfg.database.path, busy_timeout_ms=self.cfg.database.busy_timeout_ms)
        try:
            desk = PickupDesk(
                conn, stamper=self.eventlog.stamper, tz=self.cfg.store.timezone, device="pickup"
            )
            expired = desk.expire_due()
        finally:
            conn.close()
        if expired:
            log.info("pick-up orders expired (no-show): %s", ", ".join(expired))
        return expired


__all__ = ["Agent", "tracker_key"]
