"""An oracle for the feed pages (hq_feed_page): what they must hold, computed in Python
from the buckets, independently of the SQL that writes them."""

from __future__ import annotations

from hq.db import Db


def expected_pages(db: Db) -> dict[tuple[str, str, str], tuple[str, str | None]]:
    """(store, period, day) -> (signature, joined bodies or None) from hq_feed."""
    pages: dict[tuple[str, str, str], list[tuple[str, str | None]]] = {}
    for store, period, day, start, revision, body in db.q(
        "SELECT store, period, day, start, revision, body FROM hq_feed"
        " ORDER BY store, period, day, start"
    ):
        pages.setdefault((store, period, day), []).append((f"{store}|{start}|{revision}", body))
    return {
        key: (
            ";".join(sig for sig, _ in items),
            None if any(b is None for _, b in items) else ",".join(b for _, b in items),
        )
        for key, items in pages.items()
    }


def stored_pages(db: Db) -> dict[tuple[str, str, str], tuple[str, str | None]]:
    """What hq_feed_page holds."""
    return {
        (store, period, day): (sig, body)
        for store, period, day, sig, body in db.q(
            "SELECT store, period, day, signature, body FROM hq_feed_page"
        )
    }


def assert_pages_match(db: Db) -> int:
    """The stored pages are exactly the oracle's; how many pages."""
    stored, expected = stored_pages(db), expected_pages(db)
    assert stored.keys() == expected.keys()
    for key, want in expected.items():
        assert stored[key] == want, key
    return len(stored)
