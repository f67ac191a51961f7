"""Incremental feeds: recompute only the store-days that changed, keep revisions.

The ingester marks every (store, UTC hour) it writes as dirty in the same
transaction (`hq_dirty`); imports and erasures log what they changed (`hq_changes`).
One `Rollup.run_once`:

1. resolves logged changes (a profile's consent, a transaction, a registry entry, a
   clock step) into dirty hours, atomically with deleting them;
2. maps the dirty hours to local store-days and recomputes each whole day from the
   stored events (`hq/facts.py` → `hq/metrics.py`): occupancy runs from opening,
   so an hour cannot be recomputed without the hours before it;
3. writes the buckets whose figures or provisional flag changed, with `revision`
   one higher, queues them for publishing (`hq_feed_outbox`), and deletes exactly
   the dirty rows it read, all in one transaction. A crash repeats the work, and the
   same events give the same figures, so nothing is counted twice.

A bucket is provisional while its hour (or day) is not over, or its store has an
open sequence gap or is offline. `refresh_provisional` recomputes the days whose
provisional buckets may have become final.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from edge.clock import plausible
from edge.visits import day_bounds, format_ts, parse_ts
from hq.db import Db, Tx
from hq.facts import StoreInfo, Windows, clock_steps, load_day, rebased, store_info
from hq.feeds import bucket_body, pack_pages, rebuild_pages
from hq.metrics import store_day

DIRTY_CHUNK = 20_000
CHANGES_CHUNK = 2_000
PAGES_CHUNK = 200  # store-days: about 5,000 buckets


@dataclass
class RollupResult:
    """What one pass did."""

    days: int = 0
    changed: int = 0  # buckets written with a new revision
    dirty_rows: int = 0
    changes: int = 0


@dataclass
class Rollup:
    """Keeps `hq_feed` current from the dirty marks; one per HQ process that runs it."""

    db: Db
    windows: Windows = field(default_factory=Windows)
    now: Callable[[], float] = time.time
    _infos: dict[str, StoreInfo] = field(default_factory=dict)
    _live: dict[str, bool] = field(default_factory=dict)
    _came_back: set[str] = field(default_factory=set)
    # A day that is not over yet is recomputed at most this often: its store keeps
    # sending events, and each recompute reads the whole day (docs/scaling.md).
    today_every_s: float = 0.0
    _done_at: dict[tuple[str, date], float] = field(default_factory=dict)
    # Wait for a pass without new dirty marks before recomputing a day, up to this long.
    settle_max_s: float = 0.0
    _arriving: dict[tuple[str, date], tuple[float, float, int]] = field(default_factory=dict)
    _pass_started: float = 0.0
    # Days older than this are final: their events may have been deleted after the
    # retention period (hq/retention.py), so they are never recomputed. None: all days.
    final_after_days: float | None = None

    def run_once(self) -> RollupResult:
        """Resolve changes, then recompute every dirty store-day; returns what it did."""
        result = RollupResult()
        result.changes = self.resolve_changes()
        self._infos.clear()  # registry rows may have changed
        # Liveness as of this pass. A store that went offline or opened a gap makes
        # every day its missing events could still change provisional again.
        went_down = self._refresh_live()
        after = 0  # rows left for a later pass are skipped, not read again in this one
        self._pass_started = time.monotonic()
        while True:
            rows = self.db.q(
                "SELECT id, store, hour FROM hq_dirty WHERE id > ? ORDER BY id LIMIT ?",
                (after, DIRTY_CHUNK),
            )
            if rows:
                after = rows[-1][0]
            days: set[tuple[str, date]] = set()
            for store in went_down:
                days |= {(store, d) for d in self._days_since_acked(store)}
            went_down = set()
            keyed = [(row, self._day_of_hour(row[1], row[2])) for row in rows]
            for (row_id, store, _hour), day in keyed:
                if day is not None:
                    self._note_arrival(store, day, row_id)
            wait = {k: self._wait_for(*k) for k in {(r[1], d) for r, d in keyed if d}}
            taken = []  # dirty rows handled in this chunk (the rest wait for a later pass)
            for row, day in keyed:
                if day is not None and wait[(row[1], day)]:
                    continue
                taken.append(row)
                if day is not None:
                    days.add((row[1], day))
            if not rows and not days:
                return result
            result.dirty_rows += len(taken)
            done: set[tuple[str, date]] = set()
            plan = Plan()
            pending = sorted(days)
            while pending:
                key = pending.pop(0)
                if key in done:
                    continue
                done.add(key)
                moved = self._recompute(plan, *key)
                pending.extend((key[0], d) for d in moved if (key[0], d) not in done)
            if plan.writes or plan.relink or taken:
                with self.db.tx() as tx:
                    plan.apply(tx)
                    tx.executemany("DELETE FROM hq_dirty WHERE id = ?", [(r[0],) for r in taken])
            stamp = time.monotonic()
            self._done_at.update(dict.fromkeys(done, stamp))
            for key in done:
                self._arriving.pop(key, None)
            if len(self._done_at) > 50_000:
                self._done_at = {
                    k: t for k, t in self._done_at.items() if stamp - t < self.today_every_s
                }
            result.changed += len(plan.writes)
            result.days += len(done)

    def recompute(self, store: str, day: date) -> int:
        """Recompute one store-day now (and the days its events moved to); buckets changed."""
        plan = Plan()
        for other in self._recompute(plan, store, day):
            self._recompute(plan, store, other)
        with self.db.tx() as tx:
            plan.apply(tx)
        return len(plan.writes)

    # -- changes -----------------------------------------------------------------------

    def resolve_changes(self) -> int:
        """Turn logged changes into dirty hours, deleting them in the same transaction."""
        total = 0
        while True:
            with self.db.tx() as tx:
                rows = tx.execute(
                    "SELECT kind, key FROM hq_changes ORDER BY kind, key LIMIT ?", (CHANGES_CHUNK,)
                )
                if not rows:
                    return total
                hours: set[tuple[str, str]] = set()
                for kind, key in rows:
                    hours |= self._hours_of_change(tx, kind, key)
                tx.executemany("INSERT INTO hq_dirty (store, hour) VALUES (?, ?)", sorted(hours))
                tx.executemany("DELETE FROM hq_changes WHERE kind = ? AND key = ?", rows)
                total += len(rows)

    def _hours_of_change(self, tx: Tx, kind: str, key: str) -> set[tuple[str, str]]:
        if kind == "customer":
            rows = tx.execute(
                "SELECT store, ts FROM hq_visits WHERE customer_id = ?"
                " UNION SELECT v.store, v.ts FROM hq_visits v JOIN hq_profile_keys k"
                " ON k.key_id = v.key_id AND k.pseudonym = v.pseudonym WHERE k.customer_id = ?",
                (key, key),
            )
            return {(s, ts[:13]) for s, ts in rows}
        if kind == "txn":
            rows = tx.execute("SELECT store, ts FROM hq_transactions WHERE id = ?", (key,))
            out: set[tuple[str, str]] = set()
            for store, ts in rows:
                if store != "online":
                    out.add((store, ts[:13]))
                    continue
                since = format_ts(parse_ts(ts) - timedelta(days=self.windows.online_after_days))
                visits = tx.execute(
                    "SELECT DISTINCT v.store, v.ts FROM hq_transaction_keys tk"
                    " JOIN hq_profile_keys pk ON pk.key_id = tk.key_id AND pk.pseudonym = tk.pseudonym"
                    " JOIN hq_visits v ON v.customer_id = pk.customer_id"
                    " WHERE tk.txn_id = ? AND v.ts >= ? AND v.ts < ?",
                    (key, since, ts),
                )
                out |= {(s, t[:13]) for s, t in visits}
            return out
        if kind == "hour":  # 'store|YYYY-MM-DDTHH': a bucket a change left
            store, _, hour = key.partition("|")
            return {(store, hour)} if store != "online" and hour else set()
        if kind == "store":
            self._drop_foreign_days(tx, key)
            rows = tx.execute(
                "SELECT DISTINCT substr(ts, 1, 13) FROM hq_events WHERE store = ?", (key,)
            )
            # And every hour it already has a bucket for: one cut for the old zone that
            # still fits the new one must be recomputed (emptied) too.
            rows += tx.execute(
                "SELECT substr(start, 1, 13) FROM hq_feed WHERE store = ? AND period = 'hour'",
                (key,),
            )
            return {(key, h) for (h,) in rows}
        if kind == "step":
            steps = clock_steps(tx, key)
            out = set()
            for boot, boot_steps in steps.items():
                top = max(s for s, _ in boot_steps)
                for seq, ts in tx.execute(
                    "SELECT seq, ts FROM hq_events WHERE store = ? AND boot_id = ?"
                    f" AND clock_ok = {self.db.false} AND seq < ?",
                    (key, boot, top),
                ):
                    out.add((key, ts[:13]))
                    out.add((key, rebased(ts, int(seq), False, boot_steps)[:13]))
            return out
        return set()

    def _drop_foreign_days(self, tx: Tx, store: str) -> None:
        """Buckets cut for another zone (the store was unregistered, or its zone changed).

        Their hours are recomputed in the new zone from the events; a bucket whose start
        does not fit the new zone's days would otherwise linger with old figures.
        """
        tz = store_info(tx, store).tz
        stale, days = [], set()
        for period, start, day in tx.execute(
            "SELECT period, start, day FROM hq_feed WHERE store = ?", (store,)
        ):
            moment = datetime.strptime(start, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)
            if period == "day":
                lo, _ = day_bounds(date.fromisoformat(day), tz)
                fits = lo == moment
            else:
                fits = moment.astimezone(tz).date().isoformat() == day
            if not fits:
                stale.append((store, period, start))
                days.add((store, day))
        tx.executemany("DELETE FROM hq_feed WHERE store = ? AND period = ? AND start = ?", stale)
        rebuild_pages(tx, days)

    # -- recompute -------------------------------------------------------------------

    def _info(self, store: str) -> StoreInfo:
        if store not in self._infos:
            self._infos[store] = store_info(self.db, store)
        return self._infos[store]

    def _note_arrival(self, store: str, day: date, row_id: int) -> None:
        """Remember when marks for a store-day were first seen and last seen new."""
        if not self.settle_max_s:
            return
        now = time.monotonic()
        first, last_new, top = self._arriving.get((store, day), (now, 0.0, 0))
        if row_id > top:
            last_new, top = now, row_id
        self._arriving[(store, day)] = (first, last_new, top)

    def _wait_for(self, store: str, day: date) -> bool:
        """Whether to leave this store-day for a later pass.

        - Settling: while new dirty marks keep arriving for a day (a store catching up
          sends batch after batch), recomputing it every pass would redo the same work;
          it waits for a pass without new marks, at most `settle_max_s`.
        - A day that is not over is recomputed at most every `today_every_s`.
        """
        if self.settle_max_s:
            first, last_new, _top = self._arriving[(store, day)]
            if last_new >= self._pass_started and time.monotonic() - first < self.settle_max_s:
                return True
        if not self.today_every_s:
            return False
        last = self._done_at.get((store, day))
        if last is None or time.monotonic() - last >= self.today_every_s:
            return False
        end = day_bounds(day, self._info(store).tz)[1]
        return end > datetime.fromtimestamp(self.now(), UTC)

    def _day_of_hour(self, store: str, hour: str) -> date | None:
        moment = datetime.strptime(hour, "%Y-%m-%dT%H").replace(tzinfo=UTC)
        if not plausible(moment.timestamp()):
            return None  # an untrusted stamp not yet re-based: kept, not bucketed
        return moment.astimezone(self._info(store).tz).date()

    def _recompute(self, plan: Plan, store: str, day: date) -> set[date]:
        """Add the day's changed buckets to `plan`; returns other days its events moved to."""
        if self._final(day):
            return set()
        info = self._info(store)
        loaded = load_day(self.db, info, day, self.windows)
        plan.relink += loaded.relink
        buckets = store_day(loaded.facts)
        live = self._store_live(store)
        now = datetime.fromtimestamp(self.now(), UTC)
        existing = {
            (period, start): (figures, bool(prov), int(rev))
            for period, start, figures, prov, rev in self.db.q(
                "SELECT period, start, figures, provisional, revision FROM hq_feed"
                " WHERE store = ? AND day = ?",
                (store, day.isoformat()),
            )
        }
        stamp = format_ts(now)
        f = loaded.facts
        if not existing and not f.clocks and not f.sales:
            return loaded.moved_to - {day}  # nothing ever happened that day: no buckets
        for b in buckets:
            figures = dict(b.figures)
            if not info.registered:
                figures["unregistered"] = True
            text = json.dumps(figures, sort_keys=True, separators=(",", ":"))
            provisional = b.end > now or not live
            old = existing.get((b.period, b.start))
            if old is not None and old[0] == text and old[1] == provisional:
                continue
            revision = 1 if old is None else old[2] + 1
            key = (store, b.period, b.start, b.label, day.isoformat())
            plan.writes.append((*key, text, provisional, revision, stamp))
            plan.bodies[key[:3]] = bucket_body(*key, text, provisional, revision)
        return loaded.moved_to - {day}

    def _final(self, day: date) -> bool:
        """Whether `day` is past the retention period (a day's margin for time zones)."""
        if self.final_after_days is None:
            return False
        horizon = datetime.fromtimestamp(self.now(), UTC) - timedelta(days=self.final_after_days)
        return day < horizon.date() - timedelta(days=1)

    def fill_pages(self, limit: int = PAGES_CHUNK) -> int:
        """Complete up to `limit` feed pages left incomplete by an upgrade: the body of
        a page of buckets stored before the schema kept their rows (version 9), else the
        deflated piece of a page from before version 10; how many were done."""
        rows = self.db.q(
            f"SELECT DISTINCT store, day FROM hq_feed_page WHERE body IS NULL LIMIT {int(limit)}"
        )
        if rows:
            with self.db.tx() as tx:
                rebuild_pages(tx, rows)
            return len(rows)
        if not self.db.q("SELECT 1 FROM hq_feed_page WHERE deflated IS NULL LIMIT 1"):
            return 0  # the usual case: no write transaction every idle pass
        with self.db.tx() as tx:
            return pack_pages(tx, limit * 4)

    # -- provisional -------------------------------------------------------------------

    def _store_live(self, store: str) -> bool:
        """Online with no open gap: its figures can be final."""
        return self._live.get(store, False)

    def _days_since_acked(self, store: str) -> list[date]:
        """The store's feed days from its last contiguous event on: what a gap can still change."""
        rows = self.db.q(
            "SELECT e.ts FROM hq_stores s JOIN hq_events e ON e.store = s.store"
            " AND e.seq = s.acked_through WHERE s.store = ?",
            (store,),
        )
        since = rows[0][0][:10] if rows else "0000-00-00"
        first = (
            (datetime.strptime(since, "%Y-%m-%d") - timedelta(days=1)).date().isoformat()
            if rows
            else since
        )
        return [
            date.fromisoformat(d)
            for (d,) in self.db.q(
                "SELECT day FROM hq_feed WHERE store = ? AND period = 'day' AND day >= ?",
                (store, first),
            )
        ]

    def _refresh_live(self) -> set[str]:
        """Re-read every store's liveness; the stores that went offline or opened a gap."""
        rows = self.db.q("SELECT store, online, acked_through, max_seq FROM hq_stores")
        went_down = set()
        for store, online, acked, top in rows:
            live = bool(online) and int(acked) >= int(top)
            if self._live.get(store) is True and not live:
                went_down.add(store)
            self._came_back |= {store} if live and self._live.get(store) is False else set()
            self._live[store] = live
        return went_down

    def refresh_provisional(self) -> int:
        """Recompute the days whose provisional buckets may now be final; days recomputed.

        A bucket becomes final once its hour (or day) is over and its store is live:
        this finds the provisional buckets whose end has passed, and those of stores
        that came back (reconnected, or their gap was filled).
        """
        went_down = self._refresh_live()
        self._infos.clear()
        now = datetime.fromtimestamp(self.now(), UTC)
        days: set[tuple[str, date]] = set()
        for store in went_down:
            days |= {(store, d) for d in self._days_since_acked(store)}
        for store, day, start, period in self.db.q(
            f"SELECT store, day, start, period FROM hq_feed WHERE provisional = {self.db.true}"
        ):
            if not self._live.get(store, False):
                continue
            if period == "hour":
                end = datetime.strptime(start, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)
                end += timedelta(hours=1)
            else:
                end = day_bounds(date.fromisoformat(day), self._info(store).tz)[1]
            if end <= now or store in self._came_back:
                days.add((store, date.fromisoformat(day)))
        self._came_back.clear()
        for store, day in sorted(days):
            self.recompute(store, day)
        return len(days)


@dataclass
class Plan:
    """The writes of one rollup pass, applied in one transaction."""

    writes: list[tuple] = field(default_factory=list)
    relink: list[tuple[str | None, str, int]] = field(default_factory=list)
    # The feed rows of the written buckets by (store, period, start), for their pages.
    bodies: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def apply(self, tx: Tx) -> None:
        """Write the changed buckets, queue them for publishing, update visit links."""
        tx.executemany(
            "UPDATE hq_visits SET customer_id = ? WHERE store = ? AND seq = ?", self.relink
        )
        tx.executemany(
            "INSERT INTO hq_feed (store, period, start, label, day, figures, provisional, revision,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (store, period, start)"
            " DO UPDATE SET label = excluded.label, day = excluded.day, figures = excluded.figures,"
            " provisional = excluded.provisional, revision = excluded.revision,"
            " updated_at = excluded.updated_at, body = NULL",
            self.writes,
        )
        tx.executemany(
            "INSERT INTO hq_feed_outbox (store, period, start) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            [w[:3] for w in self.writes],
        )
        rebuild_pages(tx, {(w[0], w[4]) for w in self.writes}, self.bodies)
