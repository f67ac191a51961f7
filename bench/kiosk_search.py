"""Kiosk search on a 100,000-product catalog: apply time, query latency, kiosk memory.

    .venv/bin/python bench/kiosk_search.py [--products 100000] [--queries 2000]

1. A generated catalog and its stock are applied through the real downlink applier
   (`sync.downlink.DownlinkApplier`, the parts head office publishes), into a fresh
   store database file: apply time until searchable.
2. A query mix as shoppers type it: whole words, 3-letter prefixes, typos (one
   letter swapped, dropped, doubled or replaced) and GTINs, each through
   `KioskService.search` (search + availability badges, what a worker runs):
   p50/p95/p99 per kind and overall. Target p95 ≤ 10 ms.
3. Kiosk memory: the whole kiosk (factory-built Textual app, catalog, scanner-less)
   runs headless in a child process on that database and serves searches; its RSS
   and peak RSS (VmHWM) are read from /proc. Target ≤ 150 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from edge.classify import ScanClassifier  # noqa: E402
from edge.config import KioskSection  # noqa: E402
from edge.db import connect, open_store_db  # noqa: E402
from edge.eventlog import EventLog  # noqa: E402
from edge.identity import Pseudonymiser  # noqa: E402
from kiosk.core.recognition import OfflineRecognition  # noqa: E402
from kiosk.core.search import words  # noqa: E402
from kiosk.core.service import KioskService  # noqa: E402
from kiosk.sample import apply_snapshot, generate  # noqa: E402


def typo(word: str, rng: random.Random) -> str:
    """One slip of the finger: swap, drop, double or replace a letter (not the first)."""
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("swap", "drop", "double", "replace"))
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice("aeioustrn") + word[i + 1 :]


def query_mix(items, n: int, rng: random.Random) -> list[tuple[str, str]]:
    """`n` queries, a quarter of each kind, shuffled."""
    vocab = sorted(
        {w for it in items[:5000] for w in words(it.name) if w.isalpha() and len(w) >= 5}
    )
    out = []
    for _ in range(n // 4):
        item = rng.choice(items)
        name_words = [w for w in words(item.name) if w.isalpha()]
        out.append(("words", " ".join(rng.sample(name_words, k=min(2, len(name_words))))))
        out.append(("prefix3", rng.choice(vocab)[:3]))
        out.append(("typo", typo(rng.choice(vocab), rng)))
        out.append(("gtin", item.gtin))
    rng.shuffle(out)
    return out


def pct(values: list[float], p: float) -> float:
    """The p-th percentile in ms."""
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] * 1000


def child(db: str, queries: list[str]) -> None:
    """Run the whole kiosk headless on `db`, search, and print its memory as JSON."""
    from edge.config import load_store_config
    from edge.configtree import SecretResolver
    from kiosk.factory import build_kiosk
    from tests.edge.agent_support import write_store_config  # a valid store config

    tmp = Path(tempfile.mkdtemp())
    cfg_path = write_store_config(tmp, "")
    text = cfg_path.read_text().replace(str(tmp / "store.db"), db)
    cfg_path.write_text(text)
    cfg = load_store_config(cfg_path, SecretResolver(tmp))
    kiosk = build_kiosk(cfg, SecretResolver(tmp))
    app = kiosk.app

    async def run() -> None:
        async with app.run_test(size=(110, 44)) as pilot:
            await pilot.click("#start-search")
            for q in queries:
                app.run_search(q, 0)
                await app.workers.wait_for_complete()
                await pilot.pause()

    asyncio.run(run())
    status = dict(
        line.split(":", 1)
        for line in Path("/proc/self/status").read_text().splitlines()
        if ":" in line
    )
    kiosk.close()
    print(
        json.dumps(
            {"rss_kib": int(status["VmRSS"].split()[0]), "hwm_kib": int(status["VmHWM"].split()[0])}
        )
    )


def main() -> None:
    """Apply, search, measure; print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=100_000, help="catalog size")
    ap.add_argument("--queries", type=int, default=2000, help="searches in the mix")
    ap.add_argument("--child", nargs=2, metavar=("DB", "QUERIES"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], json.loads(args.child[1]))
        return
    rng = random.Random(7)
    tmp = Path(tempfile.mkdtemp())
    db = tmp / "store.db"
    open_store_db(db).close()
    items, stock = generate(args.products)
    conn = connect(db)
    t0 = time.perf_counter()
    apply_snapshot(conn, "catalog", 1, items)
    t_catalog = time.perf_counter() - t0
    t0 = time.perf_counter()
    apply_snapshot(conn, "stock", 1, stock)
    t_stock = time.perf_counter() - t0
    # The same snapshot again with 1 % of the products changed: an everyday update.
    changed = [
        type(it)(
            **{
                **{f: getattr(it, f) for f in it.__struct_fields__},
                "price_cents": it.price_cents + 1,
            }
        )
        if i % 100 == 0
        else it
        for i, it in enumerate(items)
    ]
    t0 = time.perf_counter()
    apply_snapshot(conn, "catalog", 2, changed)
    t_update = time.perf_counter() - t0
    conn.close()
    print(
        f"catalog of {args.products:,} products applied through the downlink: {t_catalog:.1f} s"
        f" (stock {t_stock:.1f} s; next version with 1 % changed {t_update:.1f} s)"
    )

    log = EventLog(db).start()
    svc = KioskService(
        db,
        settings=KioskSection(),
        store_id="bench",
        eventlog=log,
        classifier=ScanClassifier(Pseudonymiser({"k1": b"k"}, "k1"), None),
        recognition=OfflineRecognition(),
    )
    mix = query_mix(items, args.queries, rng)
    svc.search("warm up")  # loads the typo vocabulary once, as the first shopper would
    times: dict[str, list[float]] = {}
    found: dict[str, int] = {}
    for kind, q in mix:
        t0 = time.perf_counter()
        result, _hits = svc.search(q)
        times.setdefault(kind, []).append(time.perf_counter() - t0)
        found[kind] = found.get(kind, 0) + bool(result.products)
    svc.close()
    log.stop()
    everything = [t for ts in times.values() for t in ts]
    print(f"{'kind':<8} {'n':>5} {'found':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
    for kind in ("words", "prefix3", "typo", "gtin"):
        ts = times[kind]
        print(
            f"{kind:<8} {len(ts):>5} {found[kind] / len(ts):>6.0%} {pct(ts, 50):>7.2f} {pct(ts, 95):>7.2f} {pct(ts, 99):>7.2f}"
        )
    print(
        f"{'all':<8} {len(everything):>5} {'':>6} {pct(everything, 50):>7.2f} {pct(everything, 95):>7.2f} {pct(everything, 99):>7.2f}"
        f"   (target p95 ≤ 10 ms)"
    )

    sample = [q for _k, q in mix[:200]]
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(db), json.dumps(sample)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    mem = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"kiosk process RSS with this catalog after {len(sample)} searches: {mem['rss_kib'] / 1024:.1f} MB"
        f" (peak {mem['hwm_kib'] / 1024:.1f} MB; target ≤ 150 MB)"
    )


if __name__ == "__main__":
    main()
