"""Camera counter accuracy on a fixed, seeded set of generated overhead scenes.

Accuracy per direction is 1 - (missed + extra) / true crossings, with counted events
matched to true crossings by frame (see devices/camera/evaluate.py). Scenarios with no
true crossings (U-turns only, lighting with nobody present) report their extra counts.

    PYTHONPATH=. .venv/bin/python bench/camera_accuracy.py [--seeds 8] [--first-seed 1]
        [--size 320x240] [--jobs 1]

The default seeds 1..8 are the published figures; `--first-seed 25 --seeds 16` checks
the model on scenes it was never tuned on. `lowcontrast` (grey coats on grey tiles and
a dark mat beside the line) and `spacing` (pairs from shoulders touching to a body
width apart) are the winter-entrance rows of issue 14. Seeds 1..24, 200..215 and
300..331 of `lowcontrast` (and 300..331 of `uturn`) have been looked at clip by clip
(tuning); `--first-seed 400 --seeds 48` was fresh for the third round and is tuning
since the fourth (its `uturn` scenes were inspected); `--first-seed 500 --seeds 48`
was fresh for the fourth round, measured once (docs/camera.md). `--jobs N` counts N
scenarios at once.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import tempfile
import time
from pathlib import Path

import cv2

from devices.camera import scene
from devices.camera.analysis import CountingConfig
from devices.camera.evaluate import count_file, score

TARGETS = {
    "single": 0.98,
    "pairs": 0.95,
    "noise": None,
    "linger": None,
    "lowcontrast": 0.98,
    "spacing": 0.95,
}


def main() -> None:
    """Generate the scenes, count them, print a per-scenario, per-direction table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=8, help="scenes per scenario")
    ap.add_argument("--first-seed", type=int, default=1, help="seed of the first scene")
    ap.add_argument("--size", default="320x240", help="frame size WxH")
    ap.add_argument("--keep", type=Path, default=None, help="keep the clips in this directory")
    ap.add_argument("--json", action="store_true", help="also print the table as JSON")
    ap.add_argument(
        "--jobs", type=int, default=1, help="scenarios counted at once, one process each"
    )
    ap.add_argument(
        "--scenarios",
        default=",".join(scene.SCENARIOS),
        help="comma-separated scenarios to run (default: all)",
    )
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp)
        seeds = range(args.first_seed, args.first_seed + args.seeds)
        names = args.scenarios.split(",")
        if args.jobs > 1:
            # The winter scenarios, last in the list, take longest: hand them out first.
            with multiprocessing.Pool(args.jobs) as pool:
                jobs = [(out, seeds, (w, h), [n]) for n in reversed(names)]
                parts = pool.starmap(run, jobs, chunksize=1)
            rows = [row for part in reversed(parts) for row in part]
        else:
            rows = run(out, seeds, (w, h), names)
    print_table(rows, seeds, (w, h))
    if args.json:
        print(json.dumps(rows, indent=1))


def run(out: Path, seeds: range, size: tuple[int, int], names: list[str]) -> list[dict]:
    """Totals per (scenario, direction) over `seeds`."""
    rows = []
    for name in names:
        totals = {d: {"true": 0, "counted": 0, "missed": 0, "extra": 0} for d in ("in", "out")}
        for seed in seeds:
            truth = scene.generate(name, seed, out, size)
            config = CountingConfig(line=tuple(truth["line"]), in_side=truth["in_side"])
            events, _ = count_file(truth["video"], config)
            for d, r in score(events, truth).items():
                for k in totals[d]:
                    totals[d][k] += r[k]
        for d, t in totals.items():
            acc = 1 - (t["missed"] + t["extra"]) / t["true"] if t["true"] else None
            rows.append({"scenario": name, "direction": d, **t, "accuracy": acc})
    return rows


def print_table(rows: list[dict], seeds: range, size: tuple[int, int]) -> None:
    """Markdown table, as quoted in docs/camera.md."""
    print(
        f"camera counter accuracy: {len(seeds)} seeded scenes per scenario "
        f"(seeds {seeds.start}-{seeds.stop - 1}) at {size[0]}x{size[1]}"
    )
    print("| scenario | direction | true | counted | missed | extra | accuracy | target |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        acc = f"{r['accuracy']:.1%}" if r["accuracy"] is not None else "n/a"
        target = TARGETS.get(r["scenario"])
        goal = f"≥ {target:.0%}" if target else ("0 counts" if r["true"] == 0 else "")
        print(
            f"| {r['scenario']} | {r['direction']} | {r['true']} | {r['counted']} | "
            f"{r['missed']} | {r['extra']} | {acc} | {goal} |"
        )


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"({time.perf_counter() - started:.0f} s)")
