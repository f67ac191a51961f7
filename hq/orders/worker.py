"""The order worker of `hq run`: order states from the stores' events, orders to the stores.

One thread with its own database connection; every `interval_s` it
1. recomputes the orders whose events arrived or that were changed (hq/orders/tracker.py),
2. queues again the open orders of stores that came back (hq/orders/router.py),
3. sends the queued order versions over MQTT and clears them once acknowledged.

Several `hq run` processes on one database may each run one: every step is idempotent
(a store ignores an order version it already has). A failing pass is logged and
retried with backoff; the worker never dies of it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hq.db import Db
from hq.orders.router import Publish, Returns, publish_outbox, requeue_open
from hq.orders.tracker import TrackSettings, track
from hq.storage import HqStore, StoreUnavailable
from hq.worker_thread import WorkerThread, report_failure

log = logging.getLogger(__name__)


@dataclass
class OrderStats:
    """What the worker has done."""

    passes: int = 0
    tracked: int = 0
    sent: int = 0
    requeued: int = 0
    last_error: str = ""


@dataclass
class OrderWorkerSettings:
    """How often the worker looks, and what kiosk orders get."""

    interval_s: float = 0.2
    track: TrackSettings = field(default_factory=TrackSettings)


class OrderWorker(WorkerThread):
    """Tracks order states and routes orders in one thread."""

    thread_name = "hq-orders"

    def __init__(
        self,
        store_factory: Callable[[], HqStore],
        publish: Publish,
        settings: OrderWorkerSettings | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.store_factory = store_factory
        self.publish = publish
        self.s = settings or OrderWorkerSettings()
        self.now = now
        self.stats = OrderStats()
        self.returns = Returns()
        super().__init__()

    def run_once(self, db: Db) -> int:
        """One pass: track, requeue for stores that came back, send; orders sent."""
        now = datetime.fromtimestamp(self.now(), UTC)
        self.stats.tracked += track(db, self.s.track, now)
        for store in self.returns.came_back(db):
            self.stats.requeued += requeue_open(db, store, now)
        sent = publish_outbox(db, self.publish)
        self.stats.sent += sent
        self.stats.passes += 1
        return sent

    def _run(self) -> None:
        store = None
        while not self._stop.is_set():
            try:
                if store is None:
                    store = self.store_factory()
                    db = Db(store)
                self.run_once(db)
                self.stats.last_error = ""
            except Exception as exc:  # report, back off, reconnect; never die
                self.stats.last_error = report_failure(log, "orders", exc, StoreUnavailable)
                if store is not None:
                    store.close()
                store = None
                self._stop.wait(min(30.0, 10 * self.s.interval_s))
            self._stop.wait(self.s.interval_s)
        if store is not None:
            store.close()
