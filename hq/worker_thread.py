"""The start/stop shell of head office's background workers (feeds, orders).

A worker runs its `_run` loop in one daemon thread until `stop()`; `_run` checks
`self._stop` and waits on it between passes, so a stop is seen at once. A failed pass
is reported through `report_failure` (a database outage as a warning, anything else
with its traceback) and the loop goes on: a worker never dies of a pass.
"""

from __future__ import annotations

import logging
import threading


class WorkerThread:
    """start / stop / alive around a `_run` loop in one thread named `thread_name`."""

    thread_name = "hq-worker"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the worker thread."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the pass in hand and stop."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        """Whether the worker thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:  # the worker's loop
        raise NotImplementedError


def report_failure(log: logging.Logger, what: str, exc: Exception, unavailable: type) -> str:
    """Log a failed pass (an outage of type `unavailable` briefly); the error text to keep."""
    if isinstance(exc, unavailable):
        error = f"database unavailable: {exc}"
        log.warning("%s: %s; retrying", what, error)
        return error
    log.exception("%s: pass failed; retrying", what)
    return f"{type(exc).__name__}: {exc}"
