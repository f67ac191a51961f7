"""Page data as named fields: the same text in the first HTML and in every live refresh.

A page is a `View`: fields (key → the text shown, the raw value, a state for the
style) and charts (plotly figures). The template puts each field in an element with
`data-field="key"`; the page's script fetches the view as JSON every few seconds and
sets those elements' texts and redraws the charts, so the numbers a refresh shows are
formatted by the same code as the first page.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape

from edge.visits import parse_ts
from hq.web import charts
from hq.web.dashboard import ChainPage, OverviewPage, StoreDay, StorePage
from hq.web.i18n import DASH, Texts
from hq.web.messages import CATALOG

# How each figure of docs/metrics.md is shown.
COUNT, RATIO, SCORE, SECONDS = "count", "ratio", "score", "seconds"
FIGURES: dict[str, str] = {
    "visitors": COUNT,
    "entries": COUNT,
    "exits": COUNT,
    "transactions": COUNT,
    "conversion": RATIO,
    "identification_rate": RATIO,
    "identified_visits": COUNT,
    "matched_visits": COUNT,
    "nps": SCORE,
    "nps_responses": COUNT,
    "kiosk_sessions": COUNT,
    "kiosk_orders": COUNT,
    "pickups_ready": COUNT,
    "pickups_collected": COUNT,
    "no_shows": COUNT,
    "wait_median_s": SECONDS,
    "counting_accuracy": RATIO,
    "events": COUNT,
    "untrusted_clock_events": COUNT,
    "untrusted_clock_share": RATIO,
    "excluded_events": COUNT,
}


@dataclass
class Field:
    """One shown figure: its text, its raw value (for scripts and tests), a style state."""

    text: str
    value: Any = None
    state: str = ""


@dataclass
class View:
    """A page's fields and charts, in one language."""

    t: Texts
    fields: dict[str, Field] = field(default_factory=dict)
    charts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def put(self, key: str, text: str, value: Any = None, state: str = "") -> None:
        """Add a field."""
        self.fields[key] = Field(text, value, state)

    def figure(self, key: str, name: str, value: Any) -> None:
        """Add a feed figure, formatted by its kind."""
        kind = FIGURES[name]
        if kind == RATIO:
            text = self.t.percent(value)
        elif kind == SECONDS:
            text = DASH if value is None else self.t("unit.minutes", n=self.t.number(value / 60, 1))
        else:
            text = self.t.number(value)
        self.put(key, text, value)

    @property
    def layout(self) -> str:
        """A digest of which fields there are and the order of ranked rows.

        The page keeps the digest of the view it was drawn from; a refresh whose digest
        differs (a store or device appeared, a ranking changed order) redraws the page.
        """
        parts = sorted(self.fields) + [
            str(f.value) for k, f in self.fields.items() if k.endswith(".store")
        ]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]

    def el(self, key: str, tag: str = "span", cls: str = "") -> Markup:
        """The element showing field `key`, marked for the live refresh (`data-field`)."""
        f = self.fields[key]
        attrs = f' data-field="{escape(key)}" data-value="{escape(json.dumps(f.value))}"'
        if f.state:
            attrs += f' data-state="{f.state}"'
        if cls:
            attrs += f' class="{cls}"'
        return Markup(f"<{tag}{attrs}>{escape(f.text)}</{tag}>")

    def as_json(self) -> dict[str, Any]:
        """What a live refresh receives: {layout, fields: {key: [text, value, state]}, charts}."""
        return {
            "lang": self.t.language,
            "layout": self.layout,
            "fields": {k: [f.text, f.value, f.state] for k, f in self.fields.items()},
            "charts": self.charts,
        }


def status_fields(view: View, prefix: str, card: StoreDay) -> None:
    """Online or offline, last seen, backlog, gaps and alerts of a store."""
    t, s = view.t, card.status
    if s.last_seen is None or s.reported_online is None:
        # Batches without any up/state (a store always sends one when it connects) are
        # not a store seen online or offline: never seen, and no "last seen" either.
        view.put(f"{prefix}.online", t("status.never"), None, "unknown")
        view.put(f"{prefix}.seen", t.ago(None), None)
    elif s.online:
        view.put(f"{prefix}.online", t("status.online"), True, "ok")
    else:
        view.put(f"{prefix}.online", t("status.offline"), False, "bad")
    if f"{prefix}.seen" not in view.fields:
        view.put(f"{prefix}.seen", t.ago(s.seen_ago_s), s.seen_ago_s)
    view.put(f"{prefix}.backlog", t.number(s.backlog), s.backlog, "warn" if s.backlog else "")
    view.put(f"{prefix}.gaps", t.number(s.gaps), s.gaps, "warn" if s.gaps else "")
    texts = [alert_text(t, a) for a in card.alerts]
    view.put(
        f"{prefix}.alerts",
        "; ".join(texts) if texts else t("alerts.none"),
        len(texts),
        "bad" if texts else "ok",
    )


def alert_text(t: Texts, alert: Any) -> str:
    """An open alert in words: what, and which door when it is about one."""
    key = f"alert.{alert.kind}"
    text = t(key) if key in CATALOG else alert.kind
    subject = getattr(alert, "subject", "") or ""
    return f"{text} ({subject})" if subject else text


def alert_fields(view: View, alerts: Sequence[Any], now: datetime) -> None:
    """Each open alert in words, and how long it has been open."""
    for alert in alerts:
        view.put(f"alert.{alert.id}", alert_text(view.t, alert), alert.kind, "bad")
        since = (now - parse_ts(alert.raised_at)).total_seconds()
        view.put(f"alert.{alert.id}.since", view.t.ago(since), alert.raised_at)


def card_fields(view: View, card: StoreDay) -> None:
    """A store's overview row: status, today against last week, identification, NPS."""
    p, t = card.store, view.t
    status_fields(view, p, card)
    view.figure(f"{p}.visitors", "visitors", card.today["visitors"])
    view.figure(f"{p}.visitors_lw", "visitors", card.last_week["visitors"])
    change = card.visitors_change
    view.put(
        f"{p}.visitors_change",
        t.signed_percent(change),
        change,
        "" if change is None else "up" if change >= 0 else "down",
    )
    view.figure(f"{p}.conversion", "conversion", card.today["conversion"])
    view.figure(f"{p}.conversion_lw", "conversion", card.last_week["conversion"])
    view.figure(
        f"{p}.identification_rate", "identification_rate", card.today["identification_rate"]
    )
    view.figure(f"{p}.nps", "nps", card.week["nps"])


def overview_view(t: Texts, cards: Sequence[StoreDay], shown: OverviewPage | None = None) -> View:
    """The stores overview (one page of it: `shown`; else every card)."""
    view = View(t)
    for card in cards:
        card_fields(view, card)
    matching = len(cards) if shown is None else shown.matching
    offline = sum(1 for c in cards if not c.status.online) if shown is None else shown.offline
    view.put("stores.count", t.number(matching), matching)
    view.put("stores.offline", t.number(offline), offline)
    if shown is not None:
        view.put("stores.page", t("overview.page", page=shown.page, pages=shown.pages), shown.page)
    return view


def store_view(t: Texts, page: StorePage) -> View:
    """The store page."""
    view = View(t)
    card = page.card
    card_fields(view, card)
    alert_fields(view, card.alerts, page.now)
    for name in FIGURES:
        view.figure(f"today.{name}", name, card.today[name])
        view.figure(f"period.{name}", name, page.period[name])
    view.put(
        "quality.provisional",
        t.number(page.provisional_buckets),
        page.provisional_buckets,
        "warn" if page.provisional_buckets else "",
    )
    for dev in card.status.devices:
        key = f"devstate.{dev.state}"
        text = t(key) if key in CATALOG else dev.state
        view.put(f"device.{dev.device}", text, dev.state, _device_state(dev.state))
    view.charts["hourly"] = charts.hourly_footfall(t, page.hours_today, page.hours_last_week)
    view.charts["trend"] = charts.daily_trend(t, page.days)
    return view


def chain_view(t: Texts, chain: ChainPage) -> View:
    """The chain page: the roll-up and both rankings."""
    view = View(t)
    for name in FIGURES:
        view.figure(f"chain.{name}", name, chain.today[name])
        view.figure(f"chain_lw.{name}", name, chain.last_week[name])
    view.put("chain.stores", t.number(chain.stores), chain.stores)
    change = chain.visitors_change
    view.put("chain.visitors_change", t.signed_percent(change), change)
    for key, ranked in (("conv", chain.by_conversion), ("change", chain.by_change)):
        for i, card in chain.shown(ranked):
            view.put(f"{key}.{i}.store", card.name, card.store)
            view.figure(f"{key}.{i}.conversion", "conversion", card.today["conversion"])
            view.figure(f"{key}.{i}.visitors", "visitors", card.today["visitors"])
            change = card.visitors_change
            view.put(f"{key}.{i}.change", t.signed_percent(change), change)
    view.charts["trend"] = charts.daily_trend(t, chain.days)
    return view


def _device_state(state: str) -> str:
    return {"ok": "ok", "connected": "ok", "degraded": "warn"}.get(state, "bad")
