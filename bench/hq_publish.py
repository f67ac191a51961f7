"""Head office → store: a 100,000-product catalog published until the kiosk finds it.

    .venv/bin/python bench/hq_publish.py [--products 100000] [--stores 1]

A private mosquitto, head office on SQLite with `--stores` stores in its registry, and
store 1's real uplink (which applies the downlink) on a fresh store database. The
clock starts when `touchpoint hq publish catalog FILE` starts (a Merchant Center
JSONL file of generated products, the kiosk's sample catalog) and stops when the
kiosk's search (`KioskService.search`) finds the file's last product by name. The
stock feed for the same products (each store and online) is then timed the same way.
Target (issue 12): the catalog reaches a store and is searchable within 60 s.
"""

from __future__ import annotations

import argparse
import json
import resource
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
from kiosk.core.service import KioskService  # noqa: E402
from kiosk.sample import generate  # noqa: E402
from sync.mosquitto import MosquittoProcess  # noqa: E402
from sync.uplink import Uplink, UplinkSettings  # noqa: E402

COMMAND = [sys.executable, "-c", "from touchpoint.cli import main; main()"]


def touchpoint(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the real command, as head office's timer would."""
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, cwd=ROOT)


def feed_rows(items) -> list[dict]:
    """The sample catalog as Merchant Center product-feed rows."""
    return [
        {
            "id": it.sku,
            "title": it.name,
            "description": it.description,
            "brand": it.brand,
            "gtin": it.gtin,
            "product_type": f"Winkel > {it.category}",
            "price": f"{it.price_cents // 100}.{it.price_cents % 100:02d} EUR",
            "availability": "in_stock",
            "rating": it.rating,
            "review_count": it.reviews,
        }
        for it in items
    ]


def applied(db: Path, kind: str) -> int:
    """The snapshot version the store has applied."""
    conn = connect(db)
    try:
        row = conn.execute(
            "SELECT value FROM state WHERE key = ?", (f"downlink:{kind}",)
        ).fetchone()
    finally:
        conn.close()
    return int(row[0]) if row else 0


def main() -> None:
    """Publish, apply, search; print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=100_000, help="catalog size")
    ap.add_argument("--stores", type=int, default=1, help="registered stores (store 1 measured)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    broker = MosquittoProcess(tmp / "mosquitto")
    broker.start()
    try:
        run(args, tmp, broker)
    finally:
        broker.stop()


def run(args, tmp: Path, broker: MosquittoProcess) -> None:
    """The measured part, on a running broker."""
    (tmp / "k1").write_text("bench key\n")
    config = tmp / "hq.toml"
    config.write_text(
        f'[database]\npath = "{tmp / "hq.db"}"\n'
        f'[mqtt]\nhost = "{broker.host}"\nport = {broker.port}\ntls = false\npassword_file = ""\n'
        '[identity]\nactive_key = "k1"\n[[identity.keys]]\nid = "k1"\nfile = "k1"\n'
    )
    stores = [f"s{i:04d}" for i in range(1, args.stores + 1)]
    (tmp / "stores.csv").write_text(
        "store,name,timezone,hours,exceptions,doors,lat,lon,staff_count\n"
        + "".join(
            f"{s},{s},Europe/Amsterdam,mon-sun 09:00-18:00,,main,{52 + i / 100:.4f},{4.9 + i / 100:.4f},3\n"
            for i, s in enumerate(stores)
        )
    )
    done = touchpoint("hq", "import", "stores", str(tmp / "stores.csv"), "-c", str(config))
    assert done.returncode == 0, done.stderr
    items, _stock = generate(args.products)
    catalog = tmp / "catalog.jsonl"
    catalog.write_text("".join(json.dumps(r) + "\n" for r in feed_rows(items)))
    stock = tmp / "stock.csv"
    stock.write_text(
        "store_code,id,quantity\n"
        + "".join(
            f"{s},{it.sku},{(i * 7 + k) % 13}\n"
            for i, it in enumerate(items)
            for k, s in enumerate([*stores[:5], "online"])
        )
    )

    db = tmp / "store.db"
    open_store_db(db).close()
    up = Uplink(
        UplinkSettings(
            store=stores[0], db_path=db, host=broker.host, port=broker.port, boot_id="bench"
        )
    )
    up.start()
    log = EventLog(db).start()
    svc = KioskService(
        db,
        settings=KioskSection(),
        store_id=stores[0],
        eventlog=log,
        classifier=ScanClassifier(Pseudonymiser({"k1": b"k"}, "k1"), None),
        recognition=OfflineRecognition(),
    )
    last = items[-1]
    try:
        t0 = time.perf_counter()
        done = touchpoint("hq", "publish", "catalog", str(catalog), "-c", str(config))
        t_publish = time.perf_counter() - t0
        assert done.returncode == 0, done.stderr
        summary = json.loads(done.stdout)
        while not any(h.product.sku == last.sku for h in svc.search(last.name)[1]):
            if time.perf_counter() - t0 > 300:
                raise SystemExit("the last product was not searchable after 300 s")
            time.sleep(0.05)
        t_search = time.perf_counter() - t0
        print(
            f"catalog of {summary['items']:,} products, {summary['parts']} parts to"
            f" {summary['stores']} store(s): `hq publish catalog` {t_publish:.1f} s"
            f" (its own figure {summary['seconds']:.1f} s); searchable at the store after"
            f" {t_search:.1f} s (target ≤ 60 s); peak RSS of `hq publish`"
            f" {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB"
        )
        t0 = time.perf_counter()
        done = touchpoint("hq", "publish", "stock", str(stock), "-c", str(config))
        t_publish = time.perf_counter() - t0
        assert done.returncode == 0, done.stderr
        summary = json.loads(done.stdout)
        while applied(db, "stock") != summary["version"]:
            if time.perf_counter() - t0 > 300:
                raise SystemExit("stock not applied after 300 s")
            time.sleep(0.05)
        t_stock = time.perf_counter() - t0
        here = svc.product_page(last.sku).availability
        print(
            f"stock of {summary['items']:,} products ({len(stores[:5])} stores + online) to"
            f" {summary['stores']} store(s): `hq publish stock` {t_publish:.1f} s; applied at the"
            f" store after {t_stock:.1f} s (last product: {here.here} here,"
            f" {len(here.nearby)} nearby stores listed)"
        )
    finally:
        svc.close()
        log.stop()
        up.stop()


if __name__ == "__main__":
    main()
