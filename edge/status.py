"""`touchpoint edge status`: what the store did today and whether it is healthy, from the DB.

Read-only and separate from the agent process (WAL lets it read while the agent
writes), so an installer can run it at any time.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from edge import config as c
from edge.clock import Clock
from edge.db import open_store_db_readonly
from edge.visits import DoorRow, day_bounds, footfall_day, format_ts, parse_ts

# The uplink saves its state every 2 s; older than this, the agent is not running it.
UPLINK_STALE_S = 15.0


def uplink_state(enabled: bool, uplink: dict | None, now: float) -> tuple[str, float | None]:
    """(connected | offline | stale | not_started | disabled, since when) from saved state."""
    if not enabled:
        return "disabled", None
    if uplink is None:
        return "not_started", None
    if now - float(uplink.get("updated", 0)) > UPLINK_STALE_S:
        return "stale", uplink.get("updated")
    return ("connected" if uplink.get("connected") else "offline"), uplink.get("since")


def store_status(cfg: c.StoreConfig, clock: Clock | None = None) -> dict[str, Any]:
    """Today's counts, device health, outbox depth and HQ's acknowledged seq (read-only)."""
    clock = clock or Clock()
    tz = ZoneInfo(cfg.store.timezone)
    now = clock.now()
    today = datetime.fromtimestamp(now, tz).date()
    lo, hi = day_bounds(today, tz)
    start, end = format_ts(lo), format_ts(hi)
    # Read-only: status must never create or migrate a database (raises StoreDbMissing).
    db = open_store_db_readonly(cfg.database.path, busy_timeout_ms=cfg.database.busy_timeout_ms)
    try:
        rows = [
            DoorRow(
                r["ts"],
                r["door"],
                r["direction"],
                r["count"],
                bool(r["directional"]),
                bool(r["clock_ok"]),
            )
            for r in db.query(
                "SELECT ts, clock_ok, json_extract(data, '$.door') AS door,"
                " json_extract(data, '$.direction') AS direction, json_extract(data, '$.count') AS count,"
                " coalesce(json_extract(data, '$.directional'), 1) AS directional"
                " FROM events WHERE type = 'door.count' AND ts >= ? AND ts < ? ORDER BY seq",
                [start, end],
            )
        ]
        staff = (
            [
                (r["ts"], r["door"] or "")
                for r in db.query(
                    "SELECT ts, json_extract(data, '$.door') AS door FROM events WHERE type = 'scan'"
                    " AND json_extract(data, '$.class') = 'staff_badge' AND json_extract(data, '$.role') = 'door'"
                    " AND ts >= ? AND ts < ?",
                    [start, end],
                )
            ]
            if cfg.visits.exclude_staff_badges
            else []
        )
        summary = footfall_day(
            rows,
            today,
            tz,
            c.store_hours(cfg.store),
            staff_scans=staff,
            staff_count=cfg.visits.staff_count,
        )
        identified = db.execute(
            "SELECT COUNT(*) FROM events WHERE type = 'visit.identified' AND ts >= ? AND ts < ?",
            [start, end],
        ).fetchone()[0]
        state = {r["key"]: r["value"] for r in db.query("SELECT key, value FROM state")}
        acked = int(state.get("hq_acked_seq", 0))
        last_seq, outbox, oldest = db.execute(
            "SELECT (SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'events'),"
            " (SELECT COUNT(*) FROM events WHERE seq > ?), (SELECT min(ts) FROM events WHERE seq > ?)",
            [acked, acked],
        ).fetchone()
    finally:
        db.close()
    devices = {}
    for dev in cfg.devices:
        health = json.loads(state.get(f"health:{dev.name}", '{"state": "unknown", "detail": ""}'))
        devices[dev.name] = {"type": dev.__struct_config__.tag, **health}
    disk = json.loads(state.get("health:disk", '{"state": "ok", "detail": ""}'))
    uplink = json.loads(state["uplink"]) if "uplink" in state else None
    oldest_age = max(0.0, now - parse_ts(oldest).timestamp()) if oldest else None
    link, since = uplink_state(cfg.mqtt.enabled, uplink, now)
    return {
        "store": cfg.store.id,
        "day": today.isoformat(),
        "entries": summary.entries,
        "exits": summary.exits,
        "visitors": summary.visitors,
        "entries_outside_hours": sum(h.entries_outside_hours for h in summary.hours),
        "occupancy": summary.occupancy,
        "occupancy_peak": summary.occupancy_peak,
        "identified_visits": identified,
        "excluded_bad_clock": summary.excluded,
        "devices": devices,
        "disk": disk,
        "last_seq": last_seq,
        "acked_seq": acked,
        "outbox": outbox,
        "oldest_unsent_s": round(oldest_age, 1) if oldest_age is not None else None,
        "uplink": uplink,
        "uplink_state": link,
        "uplink_since": (
            datetime.fromtimestamp(since, tz).strftime("%H:%M") if since is not None else None
        ),
        "clock_ok": clock.synced(),
    }
