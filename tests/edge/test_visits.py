"""Footfall of a store-day (shared by edge status and the HQ feeds), and visit windows."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from edge.hours import OpeningHours, interval_problems
from edge.visits import DoorRow, VisitWindows, day_hours, footfall_day

AMS = ZoneInfo("Europe/Amsterdam")
JUNE1 = date(2026, 6, 1)  # a Monday, UTC+2
SHOP = OpeningHours.from_mapping(
    {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat")} | {"sun": []},
    {"2026-06-02": []},
)


def row(ts, direction="in", count=1, door="main", directional=True, clock_ok=True):
    return DoorRow(ts, door, direction, count, directional, clock_ok)


def hour(day, label):
    return next(h for h in day.hours if h.label == label)


def test_directional_visitors_are_entries_per_local_hour():
    d = footfall_day(
        [row("2026-06-01T08:10:00.000Z", count=3), row("2026-06-01T08:20:00.000Z", "out")],
        JUNE1,
        AMS,
        OpeningHours.open_all_day(),
    )
    h = hour(d, "2026-06-01T10:00+02:00")
    assert (h.entries, h.exits, h.visitors) == (3, 1, 3)
    assert len(d.hours) == 24 and d.visitors == 3 and h.doors == {"main": [3, 1, 0]}


def test_undirected_counter_visitors_are_half_the_crossings():
    d = footfall_day(
        [row("2026-06-01T08:10:00.000Z", count=5, directional=False)],
        JUNE1,
        AMS,
        OpeningHours.open_all_day(),
    )
    assert d.visitors == 2.5


def test_staff_badges_and_daily_staff_count_are_subtracted():
    d = footfall_day(
        [row("2026-06-01T08:10:00.000Z", count=10)],
        JUNE1,
        AMS,
        SHOP,
        staff_scans=[("2026-06-01T08:11:00.000Z", "main")] * 2,
        staff_count=3,
    )
    assert hour(d, "2026-06-01T10:00+02:00").visitors == 8
    assert d.visitors == 5


def test_entries_outside_opening_hours_are_reported_apart_from_visitors():
    rows = [row("2026-06-01T06:30:00.000Z", count=4), row("2026-06-01T07:30:00.000Z", count=2)]
    d = footfall_day(rows, JUNE1, AMS, SHOP)  # 08:30 local is closed, 09:30 open
    assert d.visitors == 2 and d.entries == 6
    assert sum(h.entries_outside_hours for h in d.hours) == 4


def test_a_dated_exception_closes_the_day():
    d = footfall_day([row("2026-06-02T10:00:00.000Z", count=3)], date(2026, 6, 2), AMS, SHOP)
    assert d.visitors == 0 and d.entries == 3


def test_occupancy_starts_at_opening_and_never_goes_negative():
    rows = [
        row("2026-06-01T06:00:00.000Z", count=5),  # 08:00 local, before opening: not counted
        row("2026-06-01T07:10:00.000Z", "out", 4),
        row("2026-06-01T07:20:00.000Z", count=2),
        row("2026-06-01T09:05:00.000Z", count=3),
    ]
    d = footfall_day(rows, JUNE1, AMS, SHOP)
    assert d.occupancy == 5 and d.occupancy_peak == 5
    assert hour(d, "2026-06-01T09:00+02:00").occupancy_end == 2
    assert hour(d, "2026-06-01T10:00+02:00").occupancy_peak == 2  # carried through a quiet hour
    assert hour(d, "2026-06-01T11:00+02:00").occupancy_peak == 5


def test_impossible_timestamps_with_unsynced_clock_are_excluded():
    rows = [
        row("1970-01-01T00:00:05.000Z", clock_ok=False),
        row("2026-06-01T08:00:00.000Z", clock_ok=False),
    ]
    d = footfall_day(rows, JUNE1, AMS, OpeningHours.open_all_day())
    assert d.excluded == 1 and d.entries == 1


def test_dst_days_have_23_and_25_hours():
    spring = day_hours(date(2026, 3, 29), AMS)
    autumn = day_hours(date(2026, 10, 25), AMS)
    assert len(spring) == 23 and len(autumn) == 25
    labels = [label for _, label in autumn]
    assert "2026-10-25T02:00+02:00" in labels and "2026-10-25T02:00+01:00" in labels


def test_counting_accuracy_per_day():
    rows = [row("2026-06-01T08:00:00.000Z", count=10), row("2026-06-01T09:00:00.000Z", "out", 8)]
    assert footfall_day(rows, JUNE1, AMS, SHOP).accuracy == 1 - 2 / 18
    assert footfall_day([], JUNE1, AMS, SHOP).accuracy is None


def test_interval_problems_are_named():
    assert interval_problems([["09:00", "18:00"]]) == []
    assert interval_problems([["18:00", "09:00"]])
    assert interval_problems([["09:00", "13:00"], ["12:00", "18:00"]])


def test_one_identified_visit_per_window():
    w = VisitWindows(7200)
    assert w.admit("p", 0)
    assert not w.admit("p", 7199)
    assert w.admit("p", 7200)
    w2 = VisitWindows(7200)
    w2.restore("p", 100)
    assert not w2.admit("p", 200)
