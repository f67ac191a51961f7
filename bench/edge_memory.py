"""Agent memory: RSS of `touchpoint edge run` after one hour of simulated store traffic.

    .venv/bin/python bench/edge_memory.py [--hours 1] [--speed 60]

The agent runs as its own process (as under systemd) with emulated devices on ptys:
a Terabee counter, an ESP32 ASCII counter and a door scanner (no camera). The demo's
traffic model drives them for `--hours` of store time at `--speed`× real time; RSS
and peak RSS (VmHWM) are read from /proc. Target: ≤ 60 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from touchpoint.demo import SimulatedStore  # noqa: E402


def rss_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in KiB."""
    fields = dict(
        line.split(":", 1)
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if ":" in line
    )
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def main() -> None:
    """Run the agent under simulated traffic and print its memory use."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--hours", type=float, default=1.0, help="simulated hours of traffic")
    ap.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sim = SimulatedStore("bench-001", Path(tmp), seed=1)
        sim.start(agent=False)
        agent = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from touchpoint.cli import main; main()",
                "edge",
                "run",
                "-c",
                str(sim.config_path),
                "--log-level",
                "warning",
            ],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        try:
            for dev in (sim.main, sim.side, sim.scanner):
                dev.wait_connected(20)
            for counter in (sim.main, sim.side):
                counter.report(clean=True)
            time.sleep(1.0)
            start_rss = rss_kib(agent.pid)[0]
            sim_now, tick, end = 12 * 3600.0, 0.05, 12 * 3600.0 + args.hours * 3600
            while sim_now < end:
                sim.step(sim_now, tick * args.speed / 60, time.time())
                sim_now += tick * args.speed
                time.sleep(tick)
            exact = sim.settle(30)
            rss, peak = rss_kib(agent.pid)
            status = sim.status()
        finally:
            agent.send_signal(signal.SIGTERM)
            agent.wait(15)
            for dev in (sim.main, sim.side, sim.scanner):
                dev.close()
    result = {
        "simulated_hours": args.hours,
        "crossings": status["sensor_in"] + status["sensor_out"],
        "events": status["last_seq"],
        "exact": exact,
        "rss_start_mb": round(start_rss / 1024, 1),
        "rss_mb": round(rss / 1024, 1),
        "peak_rss_mb": round(peak / 1024, 1),
        "target_mb": 60,
    }
    print(
        f"agent RSS after {args.hours:g} h of traffic ({result['crossings']} crossings, "
        f"{result['events']} events): {result['rss_mb']} MB (peak {result['peak_rss_mb']} MB, "
        f"at start {result['rss_start_mb']} MB); target <= 60 MB"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
