"""Visit bucketing: visitors, staff exclusion, occupancy, bad clocks, identified-visit windows."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from edge.visits import DoorRow, VisitWindows, day_window, summarise

AMS = ZoneInfo("Europe/Amsterdam")


def row(ts, direction="in", count=1, door="main", directional=True, clock_ok=True):
    return DoorRow(ts, door, direction, count, directional, clock_ok)


def test_directional_visitors_are_entries_per_local_hour():
    s = summarise(
        [row("2026-06-01T08:10:00.000Z", count=3), row("2026-06-01T08:20:00.000Z", "out")], AMS
    )
    bucket = s.hours[("main", "2026-06-01T10:00")]  # UTC+2 in summer
    assert (bucket.entries, bucket.exits, bucket.visitors) == (3, 1, 3)


def test_undirected_counter_visitors_are_half_the_crossings():
    s = summarise([row("2026-06-01T08:10:00.000Z", count=5, directional=False)], AMS)
    assert s.visitors == 2.5


def test_staff_badges_and_daily_staff_count_are_subtracted():
    rows = [row("2026-06-01T08:10:00.000Z", count=10)]
    s = summarise(rows, AMS, staff_scans=[("2026-06-01T08:11:00.000Z", "main")] * 2, staff_count=3)
    assert s.hours[("main", "2026-06-01T10:00")].visitors == 8
    assert s.visitors == 5


def test_occupancy_never_goes_negative():
    s = summarise(
        [row("2026-06-01T08:00:00.000Z", "out", 4), row("2026-06-01T08:01:00.000Z", count=2)], AMS
    )
    assert s.occupancy == 2 and s.peak_occupancy == 2


def test_impossible_timestamps_with_unsynced_clock_are_excluded():
    rows = [
        row("1970-01-01T00:00:05.000Z", clock_ok=False),
        row("2026-06-01T08:00:00.000Z", clock_ok=False),
    ]
    s = summarise(rows, AMS)
    assert s.excluded == 1 and s.entries == 1


def test_day_window_starts_at_opening_time_local():
    assert day_window("2026-01-15", "08:00", AMS) == (
        "2026-01-15T07:00:00.000Z",
        "2026-01-16T07:00:00.000Z",
    )


def test_one_identified_visit_per_window():
    w = VisitWindows(7200)
    assert w.admit("p", 0)
    assert not w.admit("p", 7199)
    assert w.admit("p", 7200)
    w2 = VisitWindows(7200)
    w2.restore("p", 100)
    assert not w2.admit("p", 200)
