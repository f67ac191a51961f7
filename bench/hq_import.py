"""Profile import throughput at head office, pseudonymisation included.

    .venv/bin/python bench/hq_import.py [--profiles 200000] [--no-pg]

Generates a CSV of profiles (every one with a loyalty number, half with an app id,
consents, last online activity and a wishlist) and imports it with the real import
path (hq/imports/runner.py: parse, check, pseudonymise under both of 2 chain keys,
write in batches) into a fresh SQLite file and a fresh database on a throwaway
PostgreSQL cluster (tests/pg_cluster.py). Prints rows/s for the first import and for
the same file again (every row unchanged). Target: ≥ 50,000 rows/s.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from edge.configtree import SecretResolver
from edge.identity import Pseudonymiser
from hq.backends import open_hq_store
from hq.config import HqDatabaseSection
from hq.imports.runner import FIELDS, kind_for, run_import

KEYS = {"k1": b"bench chain key one", "k2": b"bench chain key two"}
STATUSES = ("granted", "denied", "withdrawn", "")


def generate(path: Path, n: int, seed: int = 7) -> None:
    """A profiles CSV of `n` rows, seeded."""
    rnd = random.Random(seed)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(FIELDS["profiles"])
        for i in range(n):
            rec = rnd.choice(STATUSES)
            mkt = rnd.choice(STATUSES)
            w.writerow(
                (
                    f"cust-{i:07d}",
                    rnd.choice(("Anna", "Bram", "Chris", "Daan", "")),
                    f"2{i:012d}",
                    f"app-{i:08d}" if i % 2 else "",
                    rec,
                    f"2026-{rnd.randint(1, 11):02d}-{rnd.randint(1, 28):02d}" if rec else "",
                    mkt,
                    f"2026-10-{rnd.randint(1, 28):02d}T12:00:00+01:00" if mkt else "",
                    f"2026-11-{rnd.randint(1, 28):02d}T{rnd.randint(0, 23):02d}:15:00Z",
                    "|".join(f"sku-{rnd.randint(1, 50_000)}" for _ in range(rnd.randint(0, 4))),
                    "|".join(f"sku-{rnd.randint(1, 50_000)}" for _ in range(rnd.randint(0, 6))),
                )
            )


def measure(
    db: HqDatabaseSection, secrets: SecretResolver, path: Path, n: int
) -> list[tuple[float, float]]:
    """(rows/s, this process's CPU µs a row) for the first import and the same file again."""
    store = open_hq_store(db, secrets)
    try:
        kind = kind_for("profiles", store, Pseudonymiser(KEYS, "k1"), "EUR")
        out = []
        for expect_imported in (n, 0):
            t0, c0 = time.perf_counter(), time.process_time()
            summary = run_import(
                path,
                kind,
                FIELDS["profiles"],
                now=lambda: "2026-12-01T00:00:00.000Z",
                on_reject=lambda line, reason: print(f"line {line}: {reason}"),
            )
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            assert summary.imported == expect_imported and summary.rejected == 0, summary
            out.append((n / wall, cpu / n * 1e6))
    finally:
        store.close()
    return out


def report(backend: str, n: int, figures: list[tuple[float, float]]) -> None:
    """Print one backend's figures."""
    (first, first_cpu), (again, again_cpu) = figures
    print(
        f"{backend}: {n:,} profiles, 2 chain keys: {first:,.0f} rows/s"
        f" ({first_cpu:.0f} µs CPU a row in the importing process; target ≥ 50,000 rows/s);"
        f" the same file again (all unchanged): {again:,.0f} rows/s ({again_cpu:.0f} µs CPU a row)",
        flush=True,
    )


def main() -> None:
    """Generate, import on each backend, print the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--profiles", type=int, default=200_000, help="rows to generate")
    ap.add_argument("--no-pg", action="store_true", help="SQLite only")
    args = ap.parse_args()
    n = args.profiles
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        path = tmp / "profiles.csv"
        generate(path, n)
        secrets = SecretResolver(tmp)
        report("sqlite", n, measure(HqDatabaseSection(path=str(tmp / "hq.db")), secrets, path, n))
        if not args.no_pg:
            import psycopg

            from tests.pg_cluster import PgCluster

            with PgCluster() as pg:
                with psycopg.connect(pg.dsn(), autocommit=True) as conn:
                    conn.execute('CREATE DATABASE "bench_import"')
                (tmp / "pg.dsn").write_text(pg.dsn("bench_import"))
                db = HqDatabaseSection(backend="postgresql", dsn_file="pg.dsn")
                report("postgresql", n, measure(db, secrets, path, n))
        print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
