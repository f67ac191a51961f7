"""Click & collect in the demo: web-shop orders imported at head office, routed to the
simulated stores, and worked at each store's real pick-up desk.

Every store gets the same seven orders (the plan below), imported as an
`orders.jsonl` through the `hq import orders` code while the stores trade; head
office's order worker sends them over `down/orders` and the stores' agents put them in
their staff queues. After the trading the demo plays staff and shoppers at each store's
`PickupDesk` (the kiosk's and staff screens' own code, on the store database, stamping
events with the agent's clock): some orders are left waiting, some picked, one is
handed over without a missing item, and one was ready long ago and expires.

The demo's truth is what it did: each order's state, the words the store itself shows
the shopper (`edge.pickup.shopper_text` of the store's view), and the feed figures those
actions must give. Head office's status (`hq.orders.order_status`, the web shop's track
& trace) and its feed are checked against it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from edge.clock import Clock
from edge.db import connect
from edge.eventlog import EventStamper
from edge.pickup import DEFAULT_HOLD_DAYS, shopper_text
from edge.pickup_desk import PickupDesk
from hq.db import Db
from hq.metrics import ratio
from hq.orders import order_status
from hq.sqlite_store import SqliteHqStore
from kiosk.core.staff import staff_pseudonym


@dataclass(frozen=True)
class Plan:
    """What happens to one order at the store."""

    suffix: str
    lines: int
    state: str  # the order's state at the end (edge/pickup.py)
    ready: bool = False  # staff pick every line (but `short`) and mark it ready, today
    short: int | None = None  # this line is not found on the shelf
    checkin: bool = False  # the shopper says "I'm here" at the kiosk
    handover: bool = False  # staff hand over the ready lines (without the missing one)
    late: bool = False  # promised an hour ago: ready after its promise
    expired: bool = False  # ready long ago and never fetched: a no-show now
    picked: int = 0  # lines picked, order not ready yet


PLANS = (
    Plan("1", 2, "preparing"),
    Plan("2", 3, "preparing", picked=1),
    Plan("3", 2, "ready", ready=True),
    Plan("4", 1, "ready", ready=True, checkin=True),
    Plan("5", 2, "collected", ready=True, checkin=True, handover=True),
    Plan("6", 3, "collected", ready=True, short=2, checkin=True, handover=True),
    Plan("7", 2, "ready", ready=True, late=True),
    Plan("8", 1, "expired", expired=True),
)


def order_id(store: str, plan: Plan) -> str:
    """The web shop's id of a store's planned order."""
    return f"W-{store.removeprefix('demo-')}-{plan.suffix}"


def web_orders(sims) -> list[dict]:
    """The web shop's pick-up orders, as `hq import orders` JSONL rows."""
    now = datetime.now(UTC)
    rows = []
    for sim in sims:
        for n, plan in enumerate(PLANS):
            promised = now + (timedelta(hours=-1) if plan.late else timedelta(hours=2))
            row = {
                "order_id": order_id(sim.store, plan),
                "store": sim.store,
                "lines": [
                    {"product_id": f"DEMO-{(n + i) % 9 + 1}", "quantity": 1 + i % 2}
                    for i in range(plan.lines)
                ],
                "promised_at": promised.isoformat(timespec="seconds"),
                "first_name": f"Klant {n + 1}",
                "code": f"TPO-{sim.store.removeprefix('demo-')}{plan.suffix}X",
            }
            if n % 2 == 0:  # some shoppers gave their card: pseudonymised at import
                row["loyalty_number"] = sim.customers[n]
            rows.append(row)
    return rows


class _Earlier(Clock):
    """The wall clock some days back: staff marked an order ready long ago."""

    def __init__(self, days: int) -> None:
        super().__init__()
        self.back_s = days * 86400.0

    def now(self) -> float:
        return time.time() - self.back_s


def _wait_for_orders(desk: PickupDesk, ids: list[str], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if all(desk.order(i) is not None for i in ids):
            return True
        time.sleep(0.1)
    return False


def _ready(desk: PickupDesk, oid: str, plan: Plan, staff: str) -> None:
    for n in range(1, plan.lines + 1):
        desk.set_line(oid, n, "to_pick", "short" if n == plan.short else "picked", staff)
    desk.mark_ready(oid, {}, staff)


def work_the_desk(sim, timeout_s: float = 30.0) -> dict[str, Any]:
    """Play one store's staff and shoppers through the plan; what the store did (its truth)."""
    path = sim.cfg.database.path
    # Staff as the staff screens name them in events: a pseudonym under the chain key.
    staff = staff_pseudonym(sim.chain_key, sim.store, "demo-staff")
    stamper = sim.agent.eventlog.stamper  # the agent's own clock and boot
    tz = sim.cfg.store.timezone
    conn = connect(path)
    past = connect(path)
    try:
        desk = PickupDesk(conn, stamper=stamper, tz=tz, device="staff-demo")
        back = PickupDesk(
            past,
            stamper=EventStamper(_Earlier(DEFAULT_HOLD_DAYS + 2), stamper.boot_id),
            tz=tz,
            device="staff-demo",
        )
        ids = [order_id(sim.store, p) for p in PLANS]
        arrived = _wait_for_orders(desk, ids, timeout_s)
        if arrived:
            for oid, plan in zip(ids, PLANS, strict=True):
                for n in range(1, plan.picked + 1):
                    desk.set_line(oid, n, "to_pick", "picked", staff)
                if plan.ready:
                    _ready(desk, oid, plan, staff)
                if plan.expired:
                    _ready(back, oid, plan, staff)
                view = desk.order(oid)
                if plan.checkin:
                    desk.checkin(view.code, "scan")
                if plan.handover:
                    ready = [ln.line for ln in view.lines if ln.state == "ready"]
                    shown = {ln.line: ln.state for ln in view.lines}
                    desk.handover(oid, view.code, ready, staff, without_missing=True, expect=shown)
            desk.expire_due()  # the agent's housekeeping does the same every minute
        views = {oid: desk.order(oid) for oid in ids}
    finally:
        conn.close()
        past.close()
    orders = {
        oid: {
            "state": v.state if v else "missing",
            "planned": plan.state,
            "store_text": shopper_text(v.summary, "nl", tz) if v else "",
        }
        for (oid, v), plan in zip(views.items(), PLANS, strict=True)
    }
    return {"arrived": arrived, "orders": orders, "figures": planned_figures()}


def planned_figures() -> dict[str, int]:
    """The click & collect figures today's buckets must show for the plan (docs/metrics.md)."""
    today = [p for p in PLANS if p.ready]  # the expired one was marked ready days ago
    handed = [p for p in PLANS if p.handover]
    return {
        "pickups_ready": len(today),
        "ready_on_time": sum(not p.late for p in today),
        "ready_late": sum(p.late for p in today),
        "pickups_collected": len(handed),
        "short_handovers": sum(p.short is not None for p in handed),
        "partial_handovers": 0,
        "no_shows": sum(p.expired for p in PLANS),
    }


CC_FIGURES = tuple(planned_figures())


def hq_statuses(hq_db, truth: dict[str, dict], timeout_s: float = 20.0) -> dict[str, dict]:
    """Head office's status of every order (nl), once it says what the stores say (or at
    the timeout: then the differences stand in the summary)."""
    deadline = time.monotonic() + timeout_s
    while True:
        store = SqliteHqStore(hq_db)
        try:
            got = {oid: order_status(Db(store), oid, "nl") for oid in truth}
        finally:
            store.close()
        same = all(s is not None and s.text == truth[oid]["store_text"] for oid, s in got.items())
        if same or time.monotonic() >= deadline:
            return {
                oid: {"state": s.state, "text": s.text} if s else {"state": "unknown", "text": ""}
                for oid, s in got.items()
            }
        time.sleep(0.2)


def check(truth: dict, hq: dict[str, dict], feed: dict[str, Any]) -> dict[str, Any]:
    """One store's click & collect against the demo's truth: orders and feed figures."""
    orders = {
        oid: t
        | {
            "hq_state": hq[oid]["state"],
            "text": hq[oid]["text"],
            "exact": t["state"] == t["planned"] == hq[oid]["state"]
            and hq[oid]["text"] == t["store_text"],
        }
        for oid, t in truth["orders"].items()
    }
    figures = {k: feed[k] for k in CC_FIGURES}
    exact = (
        truth["arrived"]
        and all(o["exact"] for o in orders.values())
        and figures == truth["figures"]
    )
    return {
        "orders": orders,
        "feed": figures
        | {"no_show_rate": ratio(feed["no_shows"], feed["no_shows"] + feed["pickups_collected"])},
        "truth": truth["figures"],
        "exact": bool(exact),
    }


def lines(store: str, cc: dict[str, Any], pct: Callable[[float | None], str]) -> list[str]:
    """The human summary of one store's click & collect."""
    f = cc["feed"]
    diff = {k: (f[k], cc["truth"][k]) for k in CC_FIGURES if f[k] != cc["truth"][k]}
    wrong = [oid for oid, o in cc["orders"].items() if not o["exact"]]
    verdict = (
        "exact"
        if cc["exact"]
        else "DIFFERS: "
        + ", ".join(
            [f"{k} feed {a} truth {b}" for k, (a, b) in diff.items()]
            + [f"{oid} status" for oid in wrong]
        )
    )
    out = [
        f"{store} click & collect: {len(cc['orders'])} orders; ready {f['pickups_ready']}"
        f" (on time {f['ready_on_time']}, late {f['ready_late']}), collected"
        f" {f['pickups_collected']} ({f['short_handovers']} without a missing item),"
        f" no-shows {f['no_shows']} (no-show rate {pct(f['no_show_rate'])}): {verdict}"
    ]
    out += [f"  {oid}: {o['text']}" for oid, o in cc["orders"].items()]
    return out
