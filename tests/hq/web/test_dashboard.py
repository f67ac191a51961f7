"""The dashboard's data and views over a head office filled by real ingest, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from edge.visits import format_ts
from hq.alerts import evaluate, open_alerts
from hq.db import Db
from hq.feeds import chain_feed, store_feed
from hq.status import store_statuses
from hq.web.dashboard import (
    OVERVIEW_PAGE,
    chain_page,
    local_day,
    overview_page,
    store_days,
    store_page,
)
from hq.web.i18n import DASH, Texts
from hq.web.views import chain_view, overview_view, store_view
from sync import wire
from tests.hq.web.chain_day import fill


def test_overview_store_and_chain_pages_show_the_feed(hq_store, tmp_path):
    now = datetime.now(UTC).replace(microsecond=0)
    db = fill(hq_store, tmp_path, now)
    statuses = store_statuses(db, now)
    cards = store_days(db, now, statuses)
    assert [c.store for c in cards] == ["s1", "s2"]
    today = local_day(now, "Europe/Amsterdam")
    (feed_s1,) = store_feed(db, "s1", "day", today, today)
    s1 = cards[0]
    assert s1.today["visitors"] == feed_s1["visitors"] == 12
    assert s1.today["conversion"] == feed_s1["conversion"] == 3 / 12
    assert s1.last_week["visitors"] == 8 and s1.visitors_change == (12 - 8) / 8
    assert s1.week["nps_responses"] == 3 and round(s1.week["nps"], 3) == round(100 * (2 - 1) / 3, 3)
    assert s1.today["identification_rate"] == 2 / 12
    assert s1.status.online and not cards[1].status.online
    # The views: Dutch and English texts of the same numbers.
    nl, en = overview_view(Texts("nl"), cards), overview_view(Texts("en"), cards)
    assert nl.fields["s1.conversion"].text == "25,0%" and en.fields["s1.conversion"].text == "25.0%"
    assert nl.fields["s1.visitors_change"].text == "+50,0%"
    assert nl.fields["s1.online"].text == "online" and nl.fields["s1.seen"].text == "zojuist"
    # s2 sent batches but never an up/state: never seen, not "offline, last seen just now".
    assert cards[1].status.last_seen is not None and cards[1].status.reported_online is None
    assert (nl.fields["s2.online"].text, en.fields["s2.online"].text) == (
        "nooit gezien",
        "never seen",
    )
    assert nl.fields["s2.online"].state == "unknown"
    assert nl.fields["s2.seen"].text == en.fields["s2.seen"].text == DASH
    assert nl.fields["s1.backlog"].value == 4
    assert nl.layout == en.layout  # one structure, two languages
    # Store page: hourly chart against last week, 30 days, kiosk, data quality, devices.
    page = store_page(db, s1, now)
    hours = store_feed(db, "s1", "hour", today, today)
    assert page.hours_today.y == [h["visitors"] for h in hours] and sum(page.hours_today.y) == 12
    assert sum(page.hours_last_week.y) == 8 and len(page.days) == 30
    assert page.days[-1]["visitors"] == 12 and page.days[-8]["visitors"] == 8
    assert page.period["visitors"] == 20 and page.period["kiosk_sessions"] == 3
    assert page.provisional_buckets >= 1  # today is not over
    view = store_view(Texts("en"), page)
    assert view.fields["today.kiosk_sessions"].text == "3"
    assert view.fields["today.counting_accuracy"].value == feed_s1["counting_accuracy"]
    assert view.fields["device.dev"].text == "degraded"
    trend = view.charts["trend"]["data"]
    assert trend[0]["y"][-1] == 12 and trend[1]["y"][-1] == 0.25
    # Chain page: the roll-up equals `hq feed --chain`, and the rankings.
    chain = chain_page(db, today, cards)
    (feed_chain,) = chain_feed(db, "day", today, today)
    for name in ("visitors", "transactions", "conversion", "identification_rate"):
        assert chain.today[name] == feed_chain[name]
    assert chain.stores == feed_chain["stores"] == 2
    assert [c.store for c in chain.by_conversion] == ["s1", "s2"]
    assert [c.store for c in chain.by_change] == ["s1", "s2"]  # s2 had no visitors last week
    cview = chain_view(Texts("nl"), chain)
    assert cview.fields["chain.visitors"].text == "17"
    assert cview.fields["conv.0.store"].text == "Amsterdam Centrum"
    # Alerts raised by head office show on the store's row and page, in words.
    later = now + timedelta(minutes=20)
    evaluate(db, later)
    cards = store_days(db, later, store_statuses(db, later), open_alerts(db))
    assert [a.kind for a in cards[1].alerts] == ["offline"]
    assert overview_view(Texts("nl"), cards).fields["s2.alerts"].text == "te lang offline"
    en = store_view(Texts("en"), store_page(db, cards[1], later + timedelta(minutes=5))).fields
    (key,) = [k for k in en if k.startswith("alert.") and k.endswith(".since")]
    assert en[key[: -len(".since")]].text == "offline too long"
    assert en[key].text == "5 minutes ago" and en["s2.alerts"].state == "bad"
    # A scope of one store: the roll-up is that store only.
    mine = store_days(db, now, store_statuses(db, now, {"s2"}))
    assert [c.store for c in mine] == ["s2"]
    assert chain_page(db, today, mine).today["visitors"] == 5


def test_no_stores_and_no_buckets_yet(hq_store):
    db = Db(hq_store)
    now = datetime.now(UTC)
    assert store_days(db, now, []) == []
    hq_store.record_state("s9", wire.StoreState(v=1, online=True, boot_id="b"), format_ts(now))
    (card,) = store_days(db, now, store_statuses(db, now))
    assert card.today["visitors"] == 0 and card.today["conversion"] is None
    assert card.provisional and card.visitors_change is None
    view = store_view(Texts("nl"), store_page(db, card, now))
    assert view.fields["s9.conversion"].text == "—"
    assert sum(view.charts["hourly"]["data"][1]["y"]) == 0


def test_the_hour_clocks_go_back_is_shown_twice():
    from hq.web.dashboard import _hours

    labels = ["2026-10-25T01:00+02:00", "2026-10-25T02:00+02:00", "2026-10-25T02:00+01:00"]
    series = _hours([{"label": label, "visitors": i} for i, label in enumerate(labels)])
    assert series.x == ["01", "02", "02 (+01:00)"] and series.y == [0, 1, 2]


def test_overview_pages_stores_needing_attention_first_and_finds_by_id_or_name():
    statuses = [
        SimpleNamespace(store=f"s{i:04d}", name=f"Winkel {i}", online=i % 3 != 0)
        for i in range(120)
    ]
    alerts = [SimpleNamespace(store="s0100"), SimpleNamespace(store="s0005")]
    first = overview_page(statuses, alerts)
    assert (first.matching, first.pages, first.page) == (120, 3, 1)
    assert len(first.statuses) == OVERVIEW_PAGE
    order = [s.store for s in first.statuses]
    offline = [f"s{i:04d}" for i in range(0, 120, 3)]  # 40 not online, by id
    assert order[:2] == ["s0005", "s0100"] and order[2:42] == offline
    assert first.offline == 40
    last = overview_page(statuses, alerts, page=99)  # past the end: the last page
    assert last.page == 3 and len(last.statuses) == 120 - 2 * OVERVIEW_PAGE
    found = overview_page(statuses, alerts, "winkel 11")
    # Winkel 11 and 110..119; those not online (111, 114, 117) first.
    expected = ["s0111", "s0114", "s0117", "s0011", "s0110", "s0112", "s0113", "s0115"]
    assert [s.store for s in found.statuses] == [*expected, "s0116", "s0118", "s0119"]
    assert found.matching == 11 and found.pages == 1
    assert overview_page(statuses, alerts, "S0042").statuses[0].store == "s0042"
