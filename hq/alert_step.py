"""The alerts' part of the feed worker's pass: evaluate now and then, publish what changed.

Runs inside `hq run`'s feed worker (hq/feed_worker.py), so one process per database
evaluates. Every `interval_s` it calls `hq.alerts.evaluate`; on every pass it
publishes each store queued in `hq_alert_outbox`: the store's open alerts, retained
on `touchpoint/v1/{store}/alerts` (QoS 1; `[]` once all cleared, docs/wire.md). A
store leaves the queue only once the broker acknowledged its message. On its first
pass it queues every store with open alerts again, in case the broker lost its
retained messages (a restart without persistence).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from hq.alert_rules import AlertRules
from hq.alerts import Alert, evaluate, open_alerts
from hq.db import Db
from hq.feed_worker import Publish
from hq.status import DEFAULT_OFFLINE_AFTER_S
from sync import wire

log = logging.getLogger(__name__)


class AlertStep:
    """Evaluates alerts every `interval_s` and publishes the changed stores' open alerts."""

    def __init__(
        self,
        rules: AlertRules | None = None,
        *,
        interval_s: float = 30.0,
        expected: Iterable[str] = (),
        offline_after_s: float = DEFAULT_OFFLINE_AFTER_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rules = rules or AlertRules()
        self.interval_s = interval_s
        self.expected = tuple(expected)
        self.offline_after_s = offline_after_s
        self.clock = clock
        self._last: float | None = None
        self.evaluations = 0
        self.published = 0

    def run(self, db: Db, publish: Publish, now: float) -> int:
        """One pass: evaluate if due, then publish the queue; how many messages were sent."""
        mono = self.clock()
        if self._last is None:
            with db.tx() as tx:
                tx.execute(
                    "INSERT INTO hq_alert_outbox (store) SELECT DISTINCT store FROM hq_alerts"
                    " WHERE cleared_at IS NULL ON CONFLICT DO NOTHING"
                )
        if self._last is None or mono - self._last >= self.interval_s:
            self._last = mono
            done = evaluate(
                db,
                datetime.fromtimestamp(now, UTC),
                self.rules,
                expected=self.expected,
                offline_after_s=self.offline_after_s,
            )
            self.evaluations += 1
            if done.raised or done.cleared:
                log.info("alerts: %d raised, %d cleared", done.raised, done.cleared)
        return self.publish_outbox(db, publish)

    def publish_outbox(self, db: Db, publish: Publish) -> int:
        """Publish every queued store's open alerts, retained; how many were sent."""
        queued = [store for (store,) in db.q("SELECT store FROM hq_alert_outbox ORDER BY store")]
        if not queued:
            return 0
        alerts: dict[str, list[Alert]] = {}
        for alert in open_alerts(db, set(queued)):
            alerts.setdefault(alert.store, []).append(alert)
        sent = []
        for store in queued:
            if not publish(wire.alerts_topic(store), payload(store, alerts.get(store, [])), True):
                break  # the broker did not take it: keep it (and the rest) queued
            sent.append((store,))
        with db.tx() as tx:
            tx.executemany("DELETE FROM hq_alert_outbox WHERE store = ?", sent)
        self.published += len(sent)
        return len(sent)


def payload(store: str, alerts: list[Alert]) -> bytes:
    """The retained `alerts` message of a store (wire.StoreAlerts)."""
    items = [
        wire.AlertItem(kind=a.kind, subject=a.subject, raised_at=a.raised_at, detail=a.detail)
        for a in alerts
    ]
    return wire.encode(wire.StoreAlerts(v=1, store=store, alerts=items))
