"""Supervisor: starts device components, restarts failing ones with backoff, stops all on time.

A component that cannot start (pins busy, camera missing) or whose worker thread
died is reported as degraded and retried with exponential backoff, instead of
taking the agent down (Moonraker's habit). Readers that reconnect by themselves
(serial) simply stay "running" and report their own connected/disconnected state.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from devices.protocol import Component

log = logging.getLogger(__name__)

HealthSink = Callable[[str, str, str], None]  # (device, state, detail)


@dataclass
class Supervised:
    """One component under supervision, with its restart bookkeeping."""

    name: str
    factory: Callable[[], Component]
    component: Component | None = None
    running: bool = False
    failures: int = 0
    next_try: float = 0.0
    last_error: str = ""
    restarts: int = 0
    backoff: list[float] = field(default_factory=lambda: [1.0, 60.0])


def _alive(component: Component) -> bool:
    return bool(component.alive)


class Supervisor:
    """Keeps every configured device component running."""

    def __init__(self, on_health: HealthSink, clock: Callable[[], float] = time.monotonic) -> None:
        self.on_health = on_health
        self.clock = clock
        self.items: dict[str, Supervised] = {}

    def add(self, name: str, factory: Callable[[], Component]) -> None:
        """Register a component by name; `factory` builds a fresh instance per (re)start."""
        self.items[name] = Supervised(name, factory)

    def start_all(self) -> None:
        """Try to start every component once (failures are retried by `check`)."""
        for item in self.items.values():
            self._start(item)

    def check(self) -> None:
        """Restart components that died or never started, when their backoff allows."""
        now = self.clock()
        for item in self.items.values():
            if item.running and item.component is not None and not _alive(item.component):
                self._failed(item, "worker stopped unexpectedly")
                self._stop_one(item, 1.0)
            if not item.running and now >= item.next_try:
                self._start(item)

    def _start(self, item: Supervised) -> None:
        try:
            item.component = item.factory()
            item.component.start()
        except Exception as exc:  # any device library error: report, retry later
            self._failed(item, f"cannot start: {exc}")
            return
        if item.failures:
            item.restarts += 1
            log.info("%s restarted after %d failure(s)", item.name, item.failures)
        item.running = True

    def _failed(self, item: Supervised, detail: str) -> None:
        item.running = False
        item.failures += 1
        lo, hi = item.backoff
        delay = min(hi, lo * 2 ** (item.failures - 1))
        item.next_try = self.clock() + delay
        if detail != item.last_error:
            log.error("%s: %s (retry in %.0fs)", item.name, detail, delay)
            item.last_error = detail
        self.on_health(item.name, "degraded", detail)

    def _stop_one(self, item: Supervised, timeout: float) -> None:
        if item.component is None:
            return
        try:
            item.component.stop(timeout)
        except Exception:
            log.exception("%s did not stop cleanly", item.name)
        item.component = None
        item.running = False

    def stop_all(self, deadline_s: float = 4.0) -> None:
        """Stop every component in parallel, all within `deadline_s` seconds."""
        threads = [
            threading.Thread(target=self._stop_one, args=(item, deadline_s * 0.9), daemon=True)
            for item in self.items.values()
        ]
        for t in threads:
            t.start()
        end = time.monotonic() + deadline_s
        for t in threads:
            t.join(max(0.0, end - time.monotonic()))
