"""A store's feed gzip-encoded from its pages' deflated pieces (hq/deflated.py): the
same JSON byte for byte once inflated, its own ETag, chosen by Accept-Encoding, and
served plain while a page waits for its piece after an upgrade. Pieces joined are
checked against several decoders, streamed a few bytes at a time too."""

from __future__ import annotations

import gzip
import random
import zlib

import pytest
from httpx._decoders import GZipDecoder
from litestar.testing import TestClient

from hq import deflated
from hq.db import Db
from hq.rollup import Rollup
from tests.hq.web.support import DAY, LATER
from tests.hq_db import pg_target

URL = f"/api/v1/stores/s1/feed?period=hour&from={DAY}"


def raw_get(client: TestClient, url: str, headers: dict[str, str]):
    """Status, headers and the body as it went over the wire (not decoded)."""
    with client.stream("GET", url, headers=headers) as r:
        return r.status_code, r.headers, b"".join(r.iter_raw())


def texts(seed: int) -> list[bytes]:
    rng = random.Random(seed)
    words = ["visitors", "entries", "ë", "€", '"x":1', "0", "{", "}", "\\n"]
    return [
        " ".join(rng.choice(words) for _ in range(rng.randrange(0, 3000))).encode()
        for _ in range(rng.randrange(0, 40))
    ]


@pytest.mark.parametrize("seed", range(8))
def test_pieces_joined_are_one_gzip_member_of_the_json_array(seed):
    items = texts(seed)
    joined = deflated.gzip_array([deflated.pack(t) for t in items])
    want = b"[" + b",".join(items) + b"]"
    assert gzip.decompress(joined) == want
    assert zlib.decompress(joined, 16 + zlib.MAX_WBITS) == want
    # A decoder that stops after one member (httpx; .NET Framework) sees all of it.
    one = zlib.decompressobj(16 + zlib.MAX_WBITS)
    assert one.decompress(joined) + one.flush() == want and one.eof and not one.unused_data
    stream = GZipDecoder()
    rng = random.Random(seed)
    out, i = [], 0
    while i < len(joined):
        step = rng.randrange(1, 700)
        out.append(stream.decode(joined[i : i + step]))
        i += step
    assert b"".join(out) + stream.flush() == want
    for t in items:
        assert deflated.unpack(deflated.pack(t)) == t


def test_a_damaged_piece_is_refused():
    piece = bytearray(deflated.pack(b'{"visitors":12}'))
    piece[0] ^= 1  # its CRC
    with pytest.raises(ValueError, match="damaged"):
        deflated.unpack(bytes(piece))


def test_a_gzip_client_gets_the_same_json_compressed(web_hq):
    auth = web_hq.bearer(web_hq.token_all)
    with TestClient(web_hq.app()) as client:
        status, plain_headers, plain = raw_get(client, URL, {**auth, "Accept-Encoding": "identity"})
        assert status == 200 and "content-encoding" not in plain_headers
        status, headers, packed = raw_get(client, URL, {**auth, "Accept-Encoding": "gzip, br"})
        assert status == 200 and headers["content-encoding"] == "gzip"
        assert gzip.decompress(packed) == plain and len(packed) < len(plain)
        assert "Accept-Encoding" in headers["vary"]
        assert len(client.get(URL, headers=auth).json()) == len(plain.split(b'"store"')) - 1
        # Each representation has its own ETag, and revalidates as itself.
        assert headers["etag"] != plain_headers["etag"]
        again = {**auth, "Accept-Encoding": "gzip", "If-None-Match": headers["etag"]}
        status, h304, body = raw_get(client, URL, again)
        assert status == 304 and body == b"" and "content-encoding" not in h304
        crossed = {**auth, "Accept-Encoding": "gzip", "If-None-Match": plain_headers["etag"]}
        status, h200, body = raw_get(client, URL, crossed)
        assert status == 200 and h200["etag"] == headers["etag"] and body == packed


@pytest.mark.parametrize(
    ("accept", "encoded"),
    [
        ("gzip", True),
        ("x-gzip", True),
        ("deflate, gzip;q=0.5", True),
        ("*", True),
        ("gzip;q=0", False),
        ("gzip;q=0, *", False),
        ("*;q=0", False),
        ("br, identity", False),
        ("gzip;q=nonsense", False),
        ("", False),
    ],
)
def test_accept_encoding_decides(shared_hq, accept, encoded):
    auth = shared_hq.bearer(shared_hq.token_all)
    with TestClient(shared_hq.app()) as client:
        _, headers, _ = raw_get(client, URL, {**auth, "Accept-Encoding": accept})
        assert (headers.get("content-encoding") == "gzip") is encoded
        # CSV is never served encoded (it is derived from the buckets, not the pages).
        _, headers, _ = raw_get(client, f"{URL}&format=csv", {**auth, "Accept-Encoding": accept})
        assert "content-encoding" not in headers


def test_pages_waiting_for_their_piece_are_served_plain_until_filled(web_hq):
    auth = {**web_hq.bearer(web_hq.token_all), "Accept-Encoding": "gzip"}
    db = Db(web_hq.writer)
    with TestClient(web_hq.app()) as client:
        _, before, packed = raw_get(client, URL, auth)
        with db.tx() as tx:  # as the upgrade to schema version 10 leaves them
            tx.execute("UPDATE hq_feed_page SET deflated = NULL")
        status, headers, plain = raw_get(client, URL, auth)
        assert status == 200 and "content-encoding" not in headers
        assert plain == gzip.decompress(packed)
        # Revalidating with the encoded ETag is a 200 plain, not a 304 of the wrong kind.
        status, _, body = raw_get(client, URL, {**auth, "If-None-Match": before["etag"]})
        assert status == 200 and body == plain
        assert Rollup(db, now=lambda: LATER).fill_pages() > 0
        status, headers, again = raw_get(client, URL, auth)
        assert headers["content-encoding"] == "gzip" and headers["etag"] == before["etag"]
        assert gzip.decompress(again) == plain


def test_postgresql_keeps_pages_lz4_and_pieces_as_they_are(pg_server, tmp_path):
    """On PostgreSQL a page's body is compressed with lz4 (fast to inflate for the
    uncompressed answers) and its deflated piece is never compressed again."""
    for target in pg_target(pg_server, tmp_path):
        store = target.open()
        db = Db(store)
        got = dict(
            db.q(
                "SELECT attname, attcompression::text || '/' || attstorage::text FROM pg_attribute"
                " WHERE attrelid = 'hq_feed_page'::regclass AND attname IN ('body', 'deflated')"
            )
        )
        assert got == {"body": "l/x", "deflated": "/e"}
        big = ",".join(f'{{"visitors":{i},"entries":{i * 3}}}' for i in range(2000))
        with db.tx() as tx:
            tx.execute(
                "INSERT INTO hq_feed_page (store, period, day, signature, body, deflated)"
                " VALUES ('s1', 'hour', ?, 's1|x|1', ?, ?)",
                (DAY, big, deflated.pack(big.encode())),
            )
        assert db.q(
            "SELECT pg_column_compression(body), pg_column_compression(deflated) FROM hq_feed_page"
        ) == [("lz4", None)]
        store.close()
