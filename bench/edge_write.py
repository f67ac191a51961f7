"""Store event writes: group commit vs one commit per event, synchronous=FULL, in one run.

    .venv/bin/python bench/edge_write.py [--events 100000] [--single 5000]

Prints events/s for (1) EventLog group commits from 4 producer threads, (2) the same
EventLog forced to one commit per event, (3) raw sqlite-utils insert_all in batches
of 100 as a reference point, and the ratio group/single.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path

from edge.db import open_store_db
from edge.eventlog import EventLog
from edge.events import DoorCount

PAYLOAD = DoorCount(door="main", direction="in", count=1, sensor="bench")


def eventlog_rate(path: Path, n: int, threads: int, batch_max: int, interval: float) -> float:
    """Events/s through EventLog from `threads` producers until all are committed."""
    log = EventLog(path, commit_interval=interval, batch_max=batch_max).start()
    per = n // threads

    def produce() -> None:
        for _ in range(per):
            log.append(PAYLOAD, "bench")

    workers = [threading.Thread(target=produce) for _ in range(threads)]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert log.flush(600)
    elapsed = time.perf_counter() - t0
    log.stop()
    return per * threads / elapsed


def sqlite_utils_rate(path: Path, n: int) -> float:
    """Reference: sqlite-utils insert_all in batches of 100, synchronous=FULL."""
    db = open_store_db(path)
    rows = (
        {
            "id": f"{i:036d}",
            "type": "door.count",
            "ts": "2026-01-01T00:00:00.000Z",
            "device": "bench",
            "data": "{}",
            "clock_ok": 1,
            "boot_id": "b",
        }
        for i in range(n)
    )
    t0 = time.perf_counter()
    db["events"].insert_all(rows, batch_size=100)
    return n / (time.perf_counter() - t0)


def main() -> None:
    """Run the three measurements and print them."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=100_000, help="events for the group-commit runs")
    ap.add_argument(
        "--single", type=int, default=5_000, help="events for the one-commit-per-event run"
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        group = eventlog_rate(d / "group.db", args.events, 4, 5000, 0.02)
        single = eventlog_rate(d / "single.db", args.single, 1, 1, 0.0)
        ref = sqlite_utils_rate(d / "ref.db", args.events)
    result = {
        "group_commit_events_per_s": round(group),
        "one_commit_per_event_events_per_s": round(single),
        "ratio": round(group / single, 1),
        "sqlite_utils_insert_all_batch100_events_per_s": round(ref),
        "synchronous": "FULL",
    }
    print(f"group commit (EventLog, 4 threads): {group:,.0f} events/s")
    print(f"one commit per event (EventLog):   {single:,.0f} events/s")
    print(f"ratio:                              {group / single:,.1f}x")
    print(f"reference sqlite-utils insert_all:  {ref:,.0f} events/s (batches of 100)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
