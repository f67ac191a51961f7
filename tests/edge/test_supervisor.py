"""Supervisor: a failing component is reported degraded, retried with backoff, restarted."""

from __future__ import annotations

import threading

from edge.supervisor import Supervisor


class FlakyDevice:
    """A stand-in for hardware that is missing for its first `failures` start attempts."""

    def __init__(self, attempts: list[int], failures: int) -> None:
        self.attempts = attempts
        self.failures = failures
        self.thread: threading.Thread | None = None
        self.stop_event = threading.Event()

    def start(self) -> None:
        self.attempts.append(1)
        if len(self.attempts) <= self.failures:
            raise OSError("device not present")
        self.thread = threading.Thread(target=self.stop_event.wait, daemon=True)
        self.thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self.stop_event.set()
        if self.thread:
            self.thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_failing_component_is_degraded_then_restarted_with_backoff():
    health: list[tuple[str, str, str]] = []
    attempts: list[int] = []
    clock = FakeClock()
    sup = Supervisor(lambda *h: health.append(h), clock=clock)
    sup.add("door", lambda: FlakyDevice(attempts, failures=2))
    sup.start_all()
    assert len(attempts) == 1 and health[-1][:2] == ("door", "degraded")
    sup.check()  # backoff (1 s) not over yet: no new attempt
    assert len(attempts) == 1
    clock.t = 1.0
    sup.check()
    assert len(attempts) == 2  # second failure: backoff doubles to 2 s
    clock.t = 2.5
    sup.check()
    assert len(attempts) == 2
    clock.t = 3.0
    sup.check()
    assert len(attempts) == 3 and sup.items["door"].running
    assert "device not present" in health[-1][2]
    sup.stop_all(2.0)


def test_component_whose_worker_died_is_restarted():
    attempts: list[int] = []
    clock = FakeClock()
    health: list = []
    sup = Supervisor(lambda *h: health.append(h), clock=clock)
    sup.add("cam", lambda: FlakyDevice(attempts, failures=0))
    sup.start_all()
    first = sup.items["cam"].component
    first.stop_event.set()  # the worker thread ends on its own (a crash)
    first.thread.join(2)
    sup.check()
    assert health[-1][:2] == ("cam", "degraded")
    clock.t = 5.0
    sup.check()
    assert len(attempts) == 2 and sup.items["cam"].component is not first
    sup.stop_all(2.0)


def test_stop_all_respects_its_deadline():
    class Stuck(FlakyDevice):
        def stop(self, timeout: float = 2.0) -> None:
            threading.Event().wait(timeout)  # a driver that ignores us until the timeout

    sup = Supervisor(lambda *h: None)
    for i in range(5):
        sup.add(f"d{i}", lambda: Stuck([], 0))
    sup.start_all()
    import time

    t0 = time.monotonic()
    sup.stop_all(1.0)
    assert time.monotonic() - t0 < 1.5
