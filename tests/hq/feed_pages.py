"""An oracle for the feed pages (hq_feed_page): what they must hold, computed in Python
from the buckets, independently of the SQL that writes them."""

from __future__ import annotations

from hq.db import Db
from hq.deflated import unpack
from hq.feeds import bucket_body


def expected_pages(db: Db) -> dict[tuple[str, str, str], tuple[str, str | None]]:
    """(store, period, day) -> (signature, the buckets' feed rows joined) from hq_feed."""
    pages: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
    for store, period, start, label, day, figures, prov, rev in db.q(
        "SELECT store, period, start, label, day, figures, provisional, revision FROM hq_feed"
        " ORDER BY store, period, day, start"
    ):
        body = bucket_body(store, period, start, label, day, figures, bool(prov), int(rev))
        pages.setdefault((store, period, day), []).append((f"{store}|{start}|{rev}", body))
    return {
        key: (";".join(sig for sig, _ in items), ",".join(b for _, b in items))
        for key, items in pages.items()
    }


def stored_pages(db: Db) -> dict[tuple[str, str, str], tuple[str, str | None]]:
    """What hq_feed_page holds. A page's deflated piece (hq/deflated.py) must hold its
    body, byte for byte, once both are there."""
    out = {}
    for store, period, day, sig, body, piece in db.q(
        "SELECT store, period, day, signature, body, deflated FROM hq_feed_page"
    ):
        if piece is not None:
            assert body is not None and unpack(bytes(piece)) == body.encode(), (store, day)
        out[store, period, day] = (sig, body)
    return out


def missing_pieces(db: Db) -> int:
    """Pages without their deflated piece yet."""
    return db.q("SELECT count(*) FROM hq_feed_page WHERE deflated IS NULL")[0][0]


def assert_pages_match(db: Db) -> int:
    """The stored pages are exactly the oracle's; how many pages."""
    stored, expected = stored_pages(db), expected_pages(db)
    assert stored.keys() == expected.keys()
    for key, want in expected.items():
        assert stored[key] == want, key
    assert missing_pieces(db) == 0  # the writers deflate every page they write
    return len(stored)
