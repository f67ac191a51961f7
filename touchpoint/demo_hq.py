"""Head office in the demo: master data imported from files, feeds checked against the truth.

The demo writes the files a chain would import every night (`stores.jsonl`,
`profiles.jsonl`, `transactions.jsonl` in its work dir) and imports them through the
same code as `touchpoint hq import`. Customers get profiles with and without consent;
the receipts are the simulation's own sales at the till, and some matched customers
order online afterwards. At the end each store's feed is read back and compared with
what the simulation knows happened.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from edge.identity import Pseudonymiser
from hq.db import Db
from hq.feeds import store_feed
from hq.imports.runner import FIELDS, kind_for, run_import
from hq.metrics import ratio
from hq.sqlite_store import SqliteHqStore
from touchpoint.demo_pickup import CC_FIGURES

CONSENT_SINCE = "2026-01-01"


@dataclass
class Customer:
    """A demo customer as head office knows them (None: no profile)."""

    consent: str | None
    online_recently: bool


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    """One JSON object a line."""
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def master_data(sims, seed: int) -> tuple[list[dict], list[dict], dict[str, Customer]]:
    """Registry rows, profile rows and what each customer's profile says (for the truth)."""
    rng = random.Random(seed)
    stores = [
        {"store": s.store, "name": s.cfg.store.name, "timezone": s.cfg.store.timezone,
         "hours": "mon-sun 00:00-24:00", "doors": ["main", "side"], "staff_count": 0,
         "lat": 52.37 + i / 100, "lon": 4.89 + i / 100}
        for i, s in enumerate(sims)
    ]  # fmt: skip
    now = datetime.now(UTC)
    profiles, known = [], {}
    cards = sorted({c for s in sims for c in s.customers})
    idents = [("loyalty_number", c) for c in cards] + [("app_id", f"app-{n}") for n in range(400)]
    for i, (field, ident) in enumerate(idents):
        if rng.random() < 0.3:
            continue  # not an online customer
        roll = rng.random()
        consent = "granted" if roll < 0.6 else "denied" if roll < 0.85 else None
        recent = rng.random() < 0.5
        seen = now - timedelta(days=2 if recent else 60)
        row = {"customer_id": f"cust-{i}", field: ident, "first_name": f"Klant {i}",
               "last_online_at": seen.strftime("%Y-%m-%dT%H:%M:%S+00:00")}  # fmt: skip
        if consent:
            row |= {"instore_recognition": consent, "instore_recognition_at": CONSENT_SINCE}
        profiles.append(row)
        known[ident] = Customer(consent, recent)
    return stores, profiles, known


def import_files(hq_db: Path, keys: dict[str, bytes], files: dict[str, Path]) -> dict:
    """Import each file through the `hq import` code; rows imported and rejected per kind."""
    store = SqliteHqStore(hq_db)
    pseudonymiser = Pseudonymiser(keys, "k1")
    out = {}
    try:
        for name, path in files.items():
            summary = run_import(
                path,
                kind_for(name, store, pseudonymiser, "EUR"),
                FIELDS[name],
                now=lambda: time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                on_reject=lambda line, reason: None,
            )
            out[name] = {"imported": summary.imported, "rejected": summary.rejected}
    finally:
        store.close()
    return out


def online_orders(sims, known: dict[str, Customer], seed: int) -> tuple[list[dict], set[str]]:
    """Online orders of half the matched card customers, an hour from now."""
    rng = random.Random(seed + 1)
    at = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    orders, buyers = [], set()
    for card in sorted({c for s in sims for c in s.scanned if c in known}):
        if known[card].consent == "granted" and not card.startswith("app-") and rng.random() < 0.5:
            buyers.add(card)
            orders.append({"id": f"web-{len(orders) + 1}", "store": "online", "ts": at,
                           "type": "sale", "net_amount": "49.95", "currency": "EUR",
                           "items": 1, "loyalty_number": card})  # fmt: skip
    return orders, buyers


def truth(sim, known: dict[str, Customer], buyers: set[str]) -> dict[str, Any]:
    """What really happened in one simulated store, in feed terms."""
    matched = {c for c in sim.scanned if c in known and known[c].consent == "granted"}
    visitors = sim.truth()[0]  # open all day, no staff: every entry is a visitor
    txns = len(sim.receipts)
    return {
        "visitors": visitors,
        "transactions": txns,
        "net_sales_cents": sum(round(float(r["net_amount"]) * 100) for r in sim.receipts),
        "identified_visits": len(sim.scanned),
        "matched_visits": len(matched),
        "online_active_visits": sum(known[c].online_recently for c in matched),
        "offline_to_online": len(matched & buyers),
        "identified_purchases": sum(1 for r in sim.receipts if r["loyalty_number"]),
    }


FIGURES = (
    "visitors",
    "transactions",
    "net_sales_cents",
    "identified_visits",
    "matched_visits",
    "online_active_visits",
    "offline_to_online",
    "identified_purchases",
)


def feed_totals(hq_db: Path, store: str, tz) -> dict[str, Any]:
    """The store's day buckets around today, added up, with the ratios."""
    hq = SqliteHqStore(hq_db)
    try:
        today = datetime.now(tz).date()
        days = store_feed(
            Db(hq), store, "day", today - timedelta(days=1), today + timedelta(days=1)
        )
        hours = store_feed(Db(hq), store, "hour", today, today)
    finally:
        hq.close()
    total = {k: sum(d[k] for d in days) for k in FIGURES + CC_FIGURES}
    total["conversion"] = ratio(total["transactions"], total["visitors"])
    total["identification_rate"] = ratio(total["identified_visits"], total["visitors"])
    total["online_to_offline_share"] = ratio(total["online_active_visits"], total["matched_visits"])
    total["revision"] = max((d["revision"] for d in days), default=0)
    now_hour = datetime.now(UTC).strftime("%Y-%m-%dT%H:00Z")
    total["this_hour"] = next(
        ({k: h[k] for k in ("label", "visitors", "transactions", "conversion", "provisional")}
         for h in hours if h["start"] == now_hour),
        None,
    )  # fmt: skip
    return total


def pct(value: float | None) -> str:
    """A ratio as a percentage for people."""
    return "n/a" if value is None else f"{100 * value:.1f} %"


def feed_lines(store: str, got: dict, want: dict) -> list[str]:
    """The human summary of one store's feed against the truth."""
    diff = {k: (got[k], want[k]) for k in FIGURES if got[k] != want[k]}
    verdict = (
        "exact"
        if not diff
        else "DIFFERS: " + ", ".join(f"{k} feed {a} truth {b}" for k, (a, b) in diff.items())
    )
    lines = [
        f"{store} today (feed revision {got['revision']}): visitors {got['visitors']:g},"
        f" transactions {got['transactions']}, conversion {pct(got['conversion'])},"
        f" identification rate {pct(got['identification_rate'])},"
        f" matched visits {got['matched_visits']},"
        f" online-to-offline share {pct(got['online_to_offline_share'])},"
        f" offline-to-online {got['offline_to_online']}: {verdict}"
    ]
    if got["this_hour"]:
        h = got["this_hour"]
        lines.append(
            f"  this hour {h['label']}: visitors {h['visitors']:g}, transactions"
            f" {h['transactions']}, conversion {pct(h['conversion'])}"
            + (" (provisional: the hour is not over)" if h["provisional"] else "")
        )
    return lines
