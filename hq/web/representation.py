"""A feed as an HTTP response: JSON or CSV, with a strong ETag, `304 Not Modified`, and a
small cache of encoded bodies.

The rows are `hq/feeds.py`'s, unchanged (a store's JSON feed is the bodies the feed
worker stored with its buckets, joined: `feeds.store_feed_json`), so the API, `touchpoint hq feed` and the MQTT
feed topics agree field for field. The ETag is a hash of what the rows' content
depends on: each bucket's (store, start, revision) (`feeds.feed_signature`, three
columns joined by the database), the period and the representation. A bucket's revision goes
up whenever any of its figures changes, and a bucket that appears or disappears
changes the set, so an unchanged ETag means unchanged data.

The signature is read *before* the rows, so a body is never older than its ETag (at
worst newer, and then the next request simply gets it again). A client polling with
`If-None-Match` costs only that small read; a body already encoded for the same ETag
is served from the cache without reading and deriving the rows again.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Request, Response

from hq.feeds import to_csv

CSV = "text/csv"
JSON = "application/json"
# BI tools poll: they may keep a copy, but must ask again (cheaply, with If-None-Match).
CACHE_CONTROL = "private, no-cache"
VARY = "Accept, Accept-Encoding, Authorization, Cookie"


def wants_csv(request: Request, fmt: str | None) -> bool:
    """`?format=` decides; without it, an Accept header preferring text/csv."""
    if fmt is not None:
        return fmt == "csv"
    if not request.headers.get("accept"):
        return False
    return request.accept.best_match([JSON, CSV], default=JSON) == CSV


def accepts_gzip(request: Request) -> bool:
    """Whether the Accept-Encoding header allows gzip (RFC 9110 §12.5.3: `gzip` or
    `x-gzip` with q > 0, or else `*` with q > 0)."""
    header = request.headers.get("accept-encoding")
    if not header:
        return False
    weights: dict[str, float] = {}
    for item in header.split(","):
        coding, *params = (part.strip() for part in item.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        weights[coding.lower()] = q
    for coding in ("gzip", "x-gzip", "*"):
        if coding in weights:
            return weights[coding] > 0
    return False


def etag(signature: str, period: str, media_type: str) -> str:
    """The strong ETag of a feed: its buckets' (store, start, revision), period, media type."""
    h = hashlib.sha256(f"{media_type}|{period}|{signature}".encode())
    return f'"{h.hexdigest()[:32]}"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """Whether an If-None-Match header names `tag` (weak comparison, as RFC 9110 says)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    return any(t.strip().removeprefix("W/") == tag for t in if_none_match.split(","))


class BodyCache:
    """Encoded feed bodies by (request key, ETag), least recently used first out."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple, tuple[str, bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple, tag: str) -> bytes | None:
        """The body cached for `key` if it was encoded for this ETag."""
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] != tag:
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: tuple, tag: str, body: bytes) -> None:
        """Keep a body, dropping the least recently used past max_bytes."""
        if len(body) > self.max_bytes // 4:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old[1])
            self._items[key] = (tag, body)
            self._bytes += len(body)
            while self._bytes > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= len(dropped)


def feed_response(
    request: Request,
    key: tuple,
    period: str,
    signature: str,
    rows: Callable[[], list[dict[str, Any]]],
    csv: bool,
    json_body: Callable[[], bytes] | None = None,
    encoding: str | None = None,
) -> Response:
    """200 with the rows as JSON or CSV and their ETag, or 304 when the client has them.

    `signature` must have been read before `rows()` (or `json_body()`, the JSON array
    ready-made, when there is one) runs (see the module docstring). With `encoding`
    ("gzip"), `json_body()` gives the JSON so encoded, and the ETag is the encoded
    representation's own.
    """
    media_type = CSV if csv else JSON
    representation = f"{media_type};{encoding}" if encoding else media_type
    tag = etag(signature, period, representation)
    headers = {"ETag": tag, "Cache-Control": CACHE_CONTROL, "Vary": VARY}
    if matches(request.headers.get("if-none-match"), tag):
        return Response(content=b"", status_code=304, headers=headers)
    if encoding:
        headers["Content-Encoding"] = encoding
    cache: BodyCache = request.app.state.web.cache
    key = (*key, representation)
    body = cache.get(key, tag)
    if body is None:
        if csv:
            body = to_csv(rows()).encode()
        else:
            body = json_body() if json_body is not None else msgspec.json.encode(rows())
        cache.put(key, tag, body)
    return Response(body, media_type=media_type, headers=headers)
