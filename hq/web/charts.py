"""The dashboard's charts as plotly.js figures (data + layout), labelled in the page language.

plotly.js draws them in the browser (`Plotly.newPlot`, then `Plotly.react` on every
refresh); these functions only say what to draw. Numbers on the axes and in the hover
labels use the language's separators (12.345,6 in Dutch).
"""

from __future__ import annotations

from typing import Any

from hq.web.dashboard import Series
from hq.web.i18n import Texts

TODAY = "#1f5fa8"  # dark blue: 7:1 on white
BEFORE = "#8c8c8c"
CONVERSION = "#b35900"


def _layout(t: Texts, title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": {"text": title, "font": {"size": 16}, "x": 0, "xref": "paper"},
        "separators": ",." if t.language == "nl" else ".,",
        "margin": {"l": 56, "r": 56, "t": 72, "b": 48},
        "legend": {"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
        "hovermode": "x unified",
        "showlegend": True,
        "height": 320,
    } | extra


def hourly_footfall(t: Texts, today: Series, last_week: Series) -> dict[str, Any]:
    """Visitors per local hour, today against the same weekday last week."""
    return {
        "data": [
            {
                "type": "bar",
                "name": t("chart.last_week"),
                "x": last_week.x,
                "y": last_week.y,
                "marker": {"color": BEFORE},
            },
            {
                "type": "bar",
                "name": t("chart.today"),
                "x": today.x,
                "y": today.y,
                "marker": {"color": TODAY},
            },
        ],
        "layout": _layout(
            t,
            t("chart.hourly"),
            barmode="group",
            xaxis={"title": {"text": t("chart.hour")}, "type": "category", "tickangle": 0},
            yaxis={"title": {"text": t("fig.visitors")}, "rangemode": "tozero"},
        ),
    }


def daily_trend(t: Texts, days: list[dict[str, Any]]) -> dict[str, Any]:
    """Visitors (bars) and conversion (line, right axis) per day."""
    x = [d["day"] for d in days]
    return {
        "data": [
            {
                "type": "bar",
                "name": t("fig.visitors"),
                "x": x,
                "y": [d["visitors"] for d in days],
                "marker": {"color": TODAY},
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": t("fig.conversion"),
                "x": x,
                "y": [d["conversion"] for d in days],
                "yaxis": "y2",
                "line": {"color": CONVERSION},
            },
        ],
        "layout": _layout(
            t,
            t("chart.trend"),
            xaxis={"type": "date", "tickformat": "%d-%m" if t.language == "nl" else "%d %b"},
            yaxis={"title": {"text": t("fig.visitors")}, "rangemode": "tozero"},
            yaxis2={
                "title": {"text": t("fig.conversion")},
                "overlaying": "y",
                "side": "right",
                "tickformat": ".0%",
                "rangemode": "tozero",
            },
        ),
    }
