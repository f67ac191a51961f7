"""Head office's view of every store: online, backlog, gaps, dead letters, device health.

A read over the HQ database (either backend, through `hq.db.Db`) at a given moment,
for the web pages, the API and the alerts (hq/alerts.py). Which stores: the registry,
the ones the config expects (`hq.stores`), and every store that ever sent anything.

- **Online**: the store's last `up/state` said online *and* head office heard from it
  (a state, sent every 30 s, or a batch) within `offline_after_s`. The will
  (`online: false`) makes it offline at once; silence makes it offline after the
  timeout, since a broker can lose a will (a crash without persistence).
- **Backlog**: `outbox` and `oldest_unsent_s` of the store's last state.
- **Gaps**: seqs above the contiguous watermark (`acked_through`) that are missing
  while later ones are stored. The oldest gap has been open since the first of those
  later rows arrived. Rows above the watermark are few (a store sends at most 50,000
  ahead of it), so this reads no history.
- **Devices**: each device's newest `device.status` event (`hq_device_health`).

Nothing here is about shoppers: no pseudonym, loyalty number or customer id.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime

import msgspec

from edge.visits import format_ts, parse_ts
from hq.db import Db

DEFAULT_OFFLINE_AFTER_S = 120.0

_GAPS = """
SELECT count(*), min(received_at), coalesce(sum(CASE WHEN prev IS NULL OR seq > prev + 1
    THEN 1 ELSE 0 END), 0)
FROM (
    SELECT seq, received_at, lag(seq) OVER (ORDER BY seq) AS prev
    FROM hq_events WHERE store = ? AND seq > ?
) AS above
"""


class DeviceHealth(msgspec.Struct, frozen=True, kw_only=True):
    """A device's last reported health (`device.status`): state, detail, since when."""

    device: str
    state: str
    detail: str
    since: str  # the event's ts (the store's clock), UTC ISO


class StoreStatus(msgspec.Struct, frozen=True, kw_only=True):
    """One store as head office sees it at a moment."""

    store: str
    name: str | None  # from the registry
    timezone: str | None  # from the registry
    registered: bool
    expected: bool  # listed in the config's hq.stores
    online: bool
    reported_online: bool | None  # what the last up/state said (None: never sent one)
    last_seen: str | None  # UTC ISO: the last state or batch received
    seen_ago_s: float | None
    version: str  # the store's software version (last state)
    backlog: int | None  # events the store has not had acknowledged (last state)
    oldest_unsent_s: float | None
    acked_through: int
    max_seq: int
    gaps: int  # missing runs of seqs above the watermark
    missing: int  # missing seqs above the watermark
    gap_since: str | None  # UTC ISO: since when the oldest gap is open
    gap_open_s: float | None
    dead_letters: int
    dead_letter_last_at: str | None
    devices: list[DeviceHealth]


def store_statuses(
    db: Db,
    now: datetime,
    stores: set[str] | None = None,
    *,
    expected: Iterable[str] = (),
    offline_after_s: float = DEFAULT_OFFLINE_AFTER_S,
) -> list[StoreStatus]:
    """Every known store's status at `now` (aware), sorted by id; only `stores` if given."""
    only, params = _only(stores)
    marks = {
        row[0]: row[1:]
        for row in db.q(
            "SELECT store, acked_through, max_seq, state, state_at, last_batch_at"
            f" FROM hq_stores WHERE true{only}",
            params,
        )
    }
    registry = {
        store: (name, tz)
        for store, name, tz in db.q(
            f"SELECT store, name, timezone FROM hq_store_registry WHERE true{only}", params
        )
    }
    dead = {
        store: (int(n), last)
        for store, n, last in db.q(
            "SELECT store, count(*), max(received_at) FROM hq_dead_letters"
            f" WHERE store IS NOT NULL{only} GROUP BY store",
            params,
        )
    }
    expected = {s for s in expected if stores is None or s in stores}
    devices = _devices(db, only, params)
    out = []
    for store in sorted(set(marks) | set(registry) | expected | set(dead)):
        acked, max_seq, state_text, state_at, batch_at = marks.get(store, (0, 0, None, None, None))
        state = json.loads(state_text) if state_text else None
        seen = max(filter(None, (state_at, batch_at)), default=None)
        ago = _age(now, seen)
        reported = None if state is None else bool(state.get("online"))
        gaps, missing, gap_since = _gaps(db, store, int(acked), int(max_seq))
        name, tz = registry.get(store, (None, None))
        n_dead, dead_at = dead.get(store, (0, None))
        out.append(
            StoreStatus(
                store=store,
                name=name,
                timezone=tz,
                registered=store in registry,
                expected=store in expected,
                online=bool(reported) and ago is not None and ago <= offline_after_s,
                reported_online=reported,
                last_seen=seen,
                seen_ago_s=ago,
                version=(state or {}).get("version", ""),
                backlog=None if state is None else int(state.get("outbox", 0)),
                oldest_unsent_s=None if state is None else state.get("oldest_unsent_s"),
                acked_through=int(acked),
                max_seq=int(max_seq),
                gaps=gaps,
                missing=missing,
                gap_since=gap_since,
                gap_open_s=_age(now, gap_since),
                dead_letters=n_dead,
                dead_letter_last_at=dead_at,
                devices=devices.get(store, []),
            )
        )
    return out


def utc_now() -> datetime:
    """The current time, aware UTC (what callers without a clock of their own pass)."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """An aware moment as the database's UTC ISO text."""
    return format_ts(moment)


def _age(now: datetime, then: str | None) -> float | None:
    """Seconds from `then` (UTC ISO) to `now`, never negative; None without a `then`."""
    if then is None:
        return None
    return max(0.0, round((now - parse_ts(then)).total_seconds(), 3))


def _gaps(db: Db, store: str, acked: int, max_seq: int) -> tuple[int, int, str | None]:
    """(gap runs, missing seqs, oldest gap open since) above the store's watermark."""
    if max_seq <= acked:
        return 0, 0, None
    stored, since, runs = db.q(_GAPS, (store, acked))[0]
    return int(runs), max_seq - acked - int(stored), since


def _only(stores: set[str] | None) -> tuple[str, tuple[str, ...]]:
    """A condition (to follow `WHERE …`) and its parameters: only `stores`, if given."""
    if stores is None:
        return "", ()
    if not stores:
        return " AND false", ()
    return f" AND store IN ({', '.join('?' * len(stores))})", tuple(sorted(stores))


def _devices(db: Db, only: str, params: tuple[str, ...]) -> dict[str, list[DeviceHealth]]:
    """store -> its devices' last health, by device name."""
    out: dict[str, list[DeviceHealth]] = {}
    for store, device, ts, data in db.q(
        f"SELECT store, device, ts, data FROM hq_device_health WHERE true{only}"
        " ORDER BY store, device",
        params,
    ):
        payload = json.loads(data)
        out.setdefault(store, []).append(
            DeviceHealth(
                device=device,
                state=payload.get("state", ""),
                detail=payload.get("detail", ""),
                since=ts,
            )
        )
    return out
