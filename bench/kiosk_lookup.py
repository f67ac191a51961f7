"""Recognition lookup round trip: kiosk → mosquitto → HQ responder → kiosk.

    .venv/bin/python bench/kiosk_lookup.py [--profiles 50000] [--lookups 1000]

Imports a generated profiles file (hq_import.py's generator: consent granted, denied,
withdrawn or never asked, in equal parts) into a fresh SQLite head office with the
real import path, starts a private mosquitto, head office's `LookupResponder` and the
kiosk's `MqttRecognition`, then looks up cards one after another, as scans at a
kiosk come: a mix of known cards (whatever their consent) and cards head office does
not know. Prints p50/p95/p99 of the round trip and how many were recognised.
Target: p95 well inside the kiosk's 1 s limit.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.hq_import import KEYS, generate
from edge.configtree import SecretResolver
from edge.identity import Pseudonymiser
from hq.backends import open_hq_store
from hq.config import HqDatabaseSection
from hq.imports.runner import FIELDS, kind_for, run_import
from hq.lookup import LookupResponder, LookupSettings
from kiosk.core.mqtt_recognition import MqttRecognition
from sync.mosquitto import MosquittoProcess


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * len(ordered)) - 1)]


def main() -> None:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profiles", type=int, default=50_000)
    ap.add_argument("--lookups", type=int, default=1000)
    args = ap.parse_args()
    pseudonymiser = Pseudonymiser(KEYS, "k1")
    with tempfile.TemporaryDirectory(prefix="bench-lookup-") as tmp_name:
        tmp = Path(tmp_name)
        csv_path = tmp / "profiles.csv"
        generate(csv_path, args.profiles)
        db = HqDatabaseSection(path=str(tmp / "hq.db"))
        secrets = SecretResolver(tmp)
        store = open_hq_store(db, secrets)
        t0 = time.perf_counter()
        run_import(
            csv_path,
            kind_for("profiles", store, pseudonymiser, "EUR"),
            FIELDS["profiles"],
            now=lambda: "2026-12-01T00:00:00.000Z",
            on_reject=lambda line, reason: None,
        )
        store.close()
        print(f"imported {args.profiles:,} profiles in {time.perf_counter() - t0:.1f} s")

        # As the generated head-office config (sync/broker_config.py): no Nagle delay.
        broker = MosquittoProcess(
            tmp / "mosquitto", persistence=False, extra_config="set_tcp_nodelay true\n"
        ).start()
        responder = LookupResponder(
            LookupSettings(client_id="hq-lookup", host=broker.host, port=broker.port),
            lambda: open_hq_store(db, secrets),
        )
        responder.start()
        kiosk = MqttRecognition("bench-store", host=broker.host, port=broker.port).start()
        try:
            assert responder.subscribed.wait(10) and kiosk.ready.wait(10)
            rnd = random.Random(11)
            times: list[float] = []
            for i in range(args.lookups):
                # Three in four scans are cards head office knows; the rest it does not.
                n = rnd.randrange(args.profiles) if i % 4 else args.profiles + i
                pseudonym, key_id = pseudonymiser.pseudonym("loyalty", f"2{n:012d}")
                started = time.perf_counter()
                kiosk.lookup(pseudonym, key_id, 1.0)
                times.append((time.perf_counter() - started) * 1000)
        finally:
            kiosk.close()
            responder.stop()
            broker.stop()
    st = kiosk.stats
    print(
        f"{args.lookups:,} lookups: recognised {st.recognised}, not known {st.not_known},"
        f" timed out {st.timed_out}, offline {st.offline}"
    )
    print(
        f"round trip: p50 {statistics.median(times):.1f} ms, p95 {percentile(times, 95):.1f} ms,"
        f" p99 {percentile(times, 99):.1f} ms, max {max(times):.1f} ms (limit 1000 ms)"
    )


if __name__ == "__main__":
    main()
