"""The dashboard pages at chain size: how long head office takes to build each page.

    .venv/bin/python bench/hq_pages.py [--stores 1000] [--days 35] [--runs 20] [--pg]

`hq_feed` is filled with `--stores` × `--days` of hourly and daily buckets by
bench/hq_feed.py's filler (SQLite, or PostgreSQL with `--pg` on a throwaway cluster),
then each page is built the way `hq/web/pages.py` builds it for a user who sees every
store: statuses (hq/status.py), open alerts, the figures (hq/web/dashboard.py), the
view in Dutch (hq/web/views.py), the JSON a live refresh gets and the HTML (the real
templates through Jinja); the overview's first page (50 stores: those with alerts, then
offline, first), and its live refresh's JSON alone. Printed:
p50 and p95 per page over `--runs` builds, in one process, and the size of what is
sent. A live refresh every 10 s by one browser costs one build.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import jinja2  # noqa: E402
from hq_feed import AMS, FIRST_DAY, fill, p  # noqa: E402

from hq.alerts import open_alerts  # noqa: E402
from hq.db import Db  # noqa: E402
from hq.sqlite_store import SqliteHqStore  # noqa: E402
from hq.status import store_statuses  # noqa: E402
from hq.web.dashboard import chain_page, overview_page, store_days, store_page  # noqa: E402
from hq.web.i18n import Texts  # noqa: E402
from hq.web.views import chain_view, overview_view, store_view  # noqa: E402

TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(ROOT / "hq" / "web" / "templates"), autoescape=True
)


def render(template: str, view, **context) -> int:
    """The page's HTML and its refresh JSON, as the handler makes them; bytes of HTML."""
    view.put("updated", view.t.clock(datetime.now(AMS)))
    data = view.as_json()
    json.dumps(data)
    html = TEMPLATES.get_template(template).render(
        t=view.t, view=view, view_json=data, layout=view.layout, page="bench", user="bench",
        here="/", refresh_url="/?format=json", refresh_s=10, **context,
    )  # fmt: skip
    return len(html)


def timed(runs: int, build) -> dict:
    took, size = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        size = build()
        took.append(time.perf_counter() - started)
    ms = [t * 1000 for t in took]
    return {
        "p50_ms": round(p(ms, 0.5), 1),
        "p95_ms": round(p(ms, 0.95), 1),
        "kb": size // 1024,
    }


def pages(db: Db, now: datetime, runs: int) -> dict:
    t = Texts("nl")
    view_day = now.astimezone(AMS).date()

    def overview_cards():
        alerts = open_alerts(db)
        shown = overview_page(store_statuses(db, now), alerts)
        return store_days(db, now, shown.statuses, alerts), shown

    def overview() -> int:
        cards, shown = overview_cards()
        return render("overview.html", overview_view(t, cards, shown), cards=cards, shown=shown,
                      query="", general=[])  # fmt: skip

    def overview_refresh() -> int:
        cards, shown = overview_cards()
        return len(json.dumps(overview_view(t, cards, shown).as_json()))

    def store() -> int:
        (card,) = store_days(
            db, now, store_statuses(db, now, {"s0500"}), open_alerts(db, {"s0500"})
        )
        return render("store.html", store_view(t, store_page(db, card, now)), card=card)

    def chain() -> int:
        cards = store_days(db, now, store_statuses(db, now), open_alerts(db))
        data = chain_page(db, view_day, cards)
        return render("chain.html", chain_view(t, data), cards=cards, chain=data)

    return {
        "overview": timed(runs, overview),
        "overview_refresh_json": timed(runs, overview_refresh),
        "store": timed(runs, store),
        "chain": timed(runs, chain),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stores", type=int, default=1000)
    ap.add_argument("--days", type=int, default=35)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--pg", action="store_true", help="PostgreSQL (a throwaway cluster) too")
    args = ap.parse_args()
    last = FIRST_DAY + timedelta(days=args.days - 1)
    now = datetime.combine(last, clock(15, 0), AMS)  # mid-afternoon of the last filled day
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteHqStore(Path(tmp) / "hq.db")
        took = fill(Db(store), args.stores, args.days)
        print(f"sqlite: filled {args.stores} stores x {args.days} days in {took:.0f} s", flush=True)
        print("sqlite:", json.dumps(pages(Db(store), now, args.runs)), flush=True)
        store.close()
    if args.pg:
        sys.path.insert(0, str(ROOT / "tests"))
        from pg_cluster import PgCluster

        from hq.pg_store import PgHqStore

        cluster = PgCluster().start()
        try:
            store = PgHqStore(cluster.dsn())
            took = fill(Db(store), args.stores, args.days)
            print(f"postgresql: filled in {took:.0f} s", flush=True)
            print("postgresql:", json.dumps(pages(Db(store), now, args.runs)), flush=True)
            store.close()
        finally:
            cluster.stop()


if __name__ == "__main__":
    main()
