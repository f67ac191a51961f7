"""A feed as an HTTP response: JSON or CSV, with a strong ETag and `304 Not Modified`.

The rows are `hq/feeds.py`'s, unchanged, so the API, `touchpoint hq feed` and the MQTT
feed topics agree field for field. The ETag is a hash of what identifies the rows'
content: each bucket's (store, period, start, revision) and the representation (JSON
or CSV). A bucket's revision goes up whenever any of its figures changes, and a bucket
that disappears or appears changes the set, so an unchanged ETag means unchanged data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import msgspec
from litestar import Request, Response

from hq.feeds import to_csv

CSV = "text/csv"
JSON = "application/json"
# BI tools poll: they may keep a copy, but must ask again (cheaply, with If-None-Match).
CACHE_CONTROL = "private, no-cache"
VARY = "Accept, Authorization, Cookie"


def wants_csv(request: Request, fmt: str | None) -> bool:
    """`?format=` decides; without it, an Accept header preferring text/csv."""
    if fmt is not None:
        return fmt == "csv"
    accept = request.headers.get("accept", "")
    return request.accept.best_match([JSON, CSV], default=JSON) == CSV if accept else False


def etag(rows: Sequence[dict[str, Any]], media_type: str) -> str:
    """The strong ETag of a feed's rows in one representation."""
    h = hashlib.sha256(media_type.encode())
    for r in rows:
        h.update(f"\n{r['store']}|{r['period']}|{r['start']}|{r['revision']}".encode())
    return f'"{h.hexdigest()[:32]}"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """Whether an If-None-Match header names `tag` (weak comparison, as RFC 9110 says)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    return any(t.strip().removeprefix("W/") == tag for t in if_none_match.split(","))


def feed_response(request: Request, rows: list[dict[str, Any]], csv: bool) -> Response:
    """200 with the rows as JSON or CSV and their ETag, or 304 when the client has them."""
    media_type = CSV if csv else JSON
    tag = etag(rows, media_type)
    headers = {"ETag": tag, "Cache-Control": CACHE_CONTROL, "Vary": VARY}
    if matches(request.headers.get("if-none-match"), tag):
        return Response(content=b"", status_code=304, headers=headers)
    if csv:
        body = to_csv(rows).encode()
        return Response(body, media_type=CSV, headers=headers)
    return Response(msgspec.json.encode(rows), media_type=JSON, headers=headers)
