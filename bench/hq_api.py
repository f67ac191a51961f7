"""The feed API under load: `touchpoint hq serve` (uvicorn) over a chain-sized head office,
32 concurrent clients on loopback. On SQLite and PostgreSQL.

    .venv/bin/python bench/hq_api.py [--stores 1000] [--days 365] [--clients 32]
                                     [--seconds 20] [--no-pg] [--no-sqlite] [--data DIR]

`hq_feed` is filled with `--stores` × `--days` of hourly and daily buckets by
bench/hq_feed.py's filler, a token is made with the real account code, and the real
`touchpoint hq serve` is started as its own process (with `web.workers` = 0: one worker
process per CPU, here 2, each listening on a socket of its own). Clients (asyncio,
one keep-alive connection each, in this process: on the same 2 cores as the server)
then ask for store-months of hourly buckets
(`/api/v1/stores/{s}/feed?period=hour&from=…&to=…`, about 744 rows, 840 KB of JSON):

1. cold: a random store and month each time (12,000 different feeds, so almost every
   request reads its pages afresh), each client asking again as soon as it has its
   answer: throughput, p50, p95. Target: p95 ≤ 50 ms. Uncompressed (no
   Accept-Encoding), then gzip-encoded (`Accept-Encoding: gzip`, as BI tools,
   browsers and `curl --compressed` ask: about 65 KB, joined from the pages' deflated
   pieces). The client counts the body's bytes and does not inflate them, as it does
   not parse the JSON: its CPU stands for a remote tool's, not head office's.
2. revalidation: what a BI tool polling every few minutes does, `If-None-Match` with
   the ETag it has (of the gzip-encoded feed, which it asks for): 304s.
3. paced: the same cold requests, uncompressed, but the clients together offer half
   the throughput measured in 1 (each waits between requests), so requests do not
   queue behind each other: the latency a request sees when the server is not
   saturated.
4. cold days: a random store-month of daily buckets (31 rows), back to back.

Each load also reports the server's own CPU time per request (from /proc, its worker
processes included), the figure that least depends on what else runs on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
import psycopg  # noqa: E402
import uvloop  # noqa: E402
from hq_feed import FIRST_DAY, fill, p  # noqa: E402

from hq.db import Db  # noqa: E402
from hq.pg_store import PgHqStore  # noqa: E402
from hq.sqlite_store import SqliteHqStore  # noqa: E402
from hq.web.accounts import add_token  # noqa: E402
from hq.web.memory import keep_heap  # noqa: E402
from sync.mosquitto import free_port  # noqa: E402

CONFIG = """
[hq]
timezone = "Europe/Amsterdam"
[database]
backend = "{backend}"
path = "{path}"
dsn_file = "{dsn_file}"
[identity]
active_key = "k1"
[[identity.keys]]
id = "k1"
file = "chain-key"
[web]
port = {port}
users_file = "users.json"
tokens_file = "tokens.json"
state_file = "web-state.db"
cookie_secure = false
"""


# What BI tools, browsers and curl --compressed send: the feed's pages go out deflated.
GZIP = "Accept-Encoding: gzip\r\n"


def month_url(rng: random.Random, stores: int, days: int, period: str = "hour") -> str:
    """A random store-month of hourly (or daily) buckets."""
    store = f"s{rng.randrange(stores):04d}"
    first = FIRST_DAY + timedelta(days=31 * rng.randrange(max(1, days // 31)))
    last = first + timedelta(days=30)
    return f"/api/v1/stores/{store}/feed?period={period}&from={first}&to={last}"


class Response(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection that reads each answer with as little client CPU
    as possible: the head is parsed, the body's bytes are counted as they arrive and, unless
    asked to keep it, not stored (the clients share the server's 2 cores; httpx, or even an
    asyncio StreamReader's buffer, cost more CPU per 600 KB body than the server does to send
    it). A request's time ends with its last byte."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.head = bytearray()
        self.headers: dict[str, str] | None = None
        self.status = 0
        self.left = 0
        self.keep = False
        self.body: list[bytes] = []
        self.done: asyncio.Future | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.headers is None:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self.head[:end].decode("latin-1").split("\r\n")
            data = bytes(self.head[end + 4 :])
            self.status = int(lines[0].split()[1])
            self.headers = {
                k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])
            }
            self.left = int(self.headers.get("content-length", 0))
        self.left -= len(data)
        if self.keep and data:
            self.body.append(data)
        if self.left <= 0 and self.done is not None and not self.done.done():
            self.done.set_result(None)

    def connection_lost(self, exc) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_exception(ConnectionError(f"connection lost: {exc}"))


class Connection:
    """One keep-alive connection to the server, one request at a time."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        self.auth = f"Authorization: Bearer {token}\r\n"
        self.protocol: Response | None = None

    async def get(
        self, path: str, extra: str = "", keep: bool = False
    ) -> tuple[int, dict[str, str], bytes]:
        """Status, headers (lower-case names) and, with `keep`, the body of one GET."""
        loop = asyncio.get_running_loop()
        if self.protocol is None:
            _, self.protocol = await loop.create_connection(Response, self.host, self.port)
        p = self.protocol
        p.head.clear()
        p.headers, p.keep, p.body, p.done = None, keep, [], loop.create_future()
        p.transport.write(
            f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.auth}{extra}\r\n".encode()
        )
        await p.done
        return p.status, p.headers or {}, b"".join(p.body)

    async def close(self) -> None:
        """Close the connection."""
        if self.protocol is not None:
            self.protocol.transport.close()


async def load(
    url: str,
    token: str,
    clients: int,
    seconds: float,
    pick,
    *,
    think_s: float = 0.0,
    etags: dict[str, str] | None = None,
    gzip: bool = False,
) -> dict:
    """`clients` closed loops (one connection each) for `seconds`; latencies and statuses."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    host, port = url.removeprefix("http://").split(":")
    deadline = time.perf_counter() + seconds

    async def client(i: int) -> None:
        rng = random.Random(i)
        conn = Connection(host, int(port), token)
        await asyncio.sleep(rng.random() * think_s)  # do not start in step
        while time.perf_counter() < deadline:
            path = pick(rng)
            extra = f"If-None-Match: {etags[path]}\r\n" if etags else ""
            if gzip:
                extra += GZIP
            t = time.perf_counter()
            status, _, _ = await conn.get(path, extra)
            latencies.append(time.perf_counter() - t)
            statuses[status] = statuses.get(status, 0) + 1
            if think_s:
                await asyncio.sleep(think_s * (0.5 + rng.random()))
        await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    took = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "per_s": round(len(latencies) / took, 1),
        "p50_ms": round(1000 * p(latencies, 0.5), 1),
        "p95_ms": round(1000 * p(latencies, 0.95), 1),
        "p99_ms": round(1000 * p(latencies, 0.99), 1),
        "statuses": statuses,
    }


async def check(url: str, token: str, pick) -> None:
    """The lean client reads whole, right answers: a store-month's JSON with its hours,
    and gzip-encoded the same bytes once inflated."""
    host, port = url.removeprefix("http://").split(":")
    conn = Connection(host, int(port), token)
    rng = random.Random(7)
    for _ in range(5):
        path = pick(rng)
        status, headers, body = await conn.get(path, keep=True)
        rows = json.loads(body)
        assert status == 200 and len(body) == int(headers["content-length"]), path
        assert len(rows) >= 24 * 30 and rows[0]["store"] in path, path
        status, headers, packed = await conn.get(path, GZIP, keep=True)
        assert status == 200 and headers["content-encoding"] == "gzip", path
        assert len(packed) == int(headers["content-length"]), path
        assert gzip.decompress(packed) == body, path
    await conn.close()


def serve(
    tmp: Path, backend: str, db_path: str, dsn_file: str
) -> tuple[str, str, subprocess.Popen]:
    """Start `touchpoint hq serve` on a free port; its URL, a token, the process."""
    port = free_port()
    (tmp / "chain-key").write_bytes(b"bench-chain-key-0123456789")
    config = tmp / "hq.toml"
    config.write_text(CONFIG.format(backend=backend, path=db_path, dsn_file=dsn_file, port=port))
    token = add_token(tmp / "tokens.json", "bench", None)
    process = subprocess.Popen(
        [sys.executable, "-c", "from touchpoint.cli import main; main()", "hq", "serve", "-c", str(config),
         "--log-level", "warning"],
        cwd=ROOT, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"hq serve exited: {process.stderr.read()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return url, token, process
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("hq serve did not start")


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process and its live children (uvicorn's worker
    processes) have used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return own + sum(cpu_s(int(c)) for c in children)


# PostgreSQL's postmaster, whose children (the backends serving `hq serve`) are counted too.
DB_PID: list[int] = []


def measured(pid: int, run) -> dict:
    """Run a load; its figures plus the server's, PostgreSQL's and the clients' own CPU
    milliseconds per request (the clients run in this process, on the same cores)."""
    before, mine = cpu_s(pid), time.process_time()
    db_before = cpu_s(DB_PID[0]) if DB_PID else 0.0
    out = uvloop.run(run)
    out["server_cpu_ms_per_request"] = round(1000 * (cpu_s(pid) - before) / out["requests"], 2)
    if DB_PID:
        db = cpu_s(DB_PID[0]) - db_before
        out["postgresql_cpu_ms_per_request"] = round(1000 * db / out["requests"], 2)
    out["client_cpu_ms_per_request"] = round(
        1000 * (time.process_time() - mine) / out["requests"], 2
    )
    return out


def run_backend(name: str, tmp: Path, backend: str, db_path: str, dsn: str, args) -> dict:
    """Fill, serve, load; the figures of one backend."""
    filled = tmp / "filled"
    if filled.exists() and filled.read_text() == f"{args.stores} {args.days}":
        print(f"{name}: reusing the data filled before in {tmp}", flush=True)
    else:
        store = SqliteHqStore(Path(db_path)) if backend == "sqlite" else PgHqStore(dsn)
        took = fill(Db(store), args.stores, args.days)
        store.close()
        filled.write_text(f"{args.stores} {args.days}")
        print(f"{name}: filled {args.stores} stores x {args.days} days in {took:.0f} s", flush=True)
    if dsn:
        (tmp / "pg.dsn").write_text(dsn)
    if args.only_fill:
        return {}
    url, token, process = serve(tmp, backend, db_path, "pg.dsn" if dsn else "")
    out: dict = {}
    try:
        stores, days = args.stores, args.days

        def pick(rng):
            return month_url(rng, stores, days)

        uvloop.run(load(url, token, args.clients, 3, pick))  # warm-up
        uvloop.run(check(url, token, pick))
        out["cold"] = measured(process.pid, load(url, token, args.clients, args.seconds, pick))
        print(f"{name}: cold store-months, {args.clients} clients: {out['cold']}", flush=True)
        out["cold_gzip"] = measured(
            process.pid, load(url, token, args.clients, args.seconds, pick, gzip=True)
        )
        print(f"{name}: the same, gzip-encoded: {out['cold_gzip']}", flush=True)
        rng = random.Random(99)
        paths = [month_url(rng, stores, days) for _ in range(64)]
        etags = {}
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as c:
            for path in paths:
                etags[path] = c.get(path, headers={"Accept-Encoding": "gzip"}).headers["etag"]
        out["revalidate"] = measured(
            process.pid,
            load(
                url,
                token,
                args.clients,
                args.seconds,
                lambda r: r.choice(paths),
                etags=etags,
                gzip=True,
            ),
        )
        print(f"{name}: If-None-Match, {args.clients} clients: {out['revalidate']}", flush=True)
        # Half the saturated rate, spread over the clients: think time per client.
        think = args.clients / (out["cold"]["per_s"] / 2)
        out["paced"] = measured(
            process.pid, load(url, token, args.clients, args.seconds, pick, think_s=think)
        )
        out["paced"]["offered_per_s"] = round(out["cold"]["per_s"] / 2, 1)
        print(f"{name}: paced at half that rate: {out['paced']}", flush=True)
        out["cold_days"] = measured(
            process.pid,
            load(
                url, token, args.clients, args.seconds, lambda r: month_url(r, stores, days, "day")
            ),
        )
        print(f"{name}: cold store-months of daily buckets: {out['cold_days']}", flush=True)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stores", type=int, default=1000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument(
        "--data",
        type=Path,
        help="keep the filled databases (SQLite file, PostgreSQL cluster) in this directory"
        " and reuse them when filled with the same --stores and --days (tens of GB at"
        " 1,000 stores; delete it when done)",
    )
    ap.add_argument("--only-fill", action="store_true", help="fill the databases, measure nothing")
    args = ap.parse_args()
    keep_heap()  # the clients' big buffers too (hq/web/memory.py)
    result: dict = {"stores": args.stores, "days": args.days, "clients": args.clients}
    with tempfile.TemporaryDirectory(prefix="hq-api-bench-") as tmp:
        if not args.no_sqlite:
            d = args.data / "sqlite" if args.data else Path(tmp) / "sqlite"
            d.mkdir(parents=True, exist_ok=True)
            result["sqlite"] = run_backend("sqlite", d, "sqlite", str(d / "hq.db"), "", args)
        if not args.no_pg:
            from tests.pg_cluster import PgCluster

            d = args.data / "pg" if args.data else Path(tmp) / "pg"
            d.mkdir(parents=True, exist_ok=True)
            with PgCluster(keep=args.data / "pg-cluster" if args.data else None) as pg:
                with psycopg.connect(pg.dsn(), autocommit=True) as admin:
                    known = "SELECT 1 FROM pg_database WHERE datname = 'bench'"
                    if not admin.execute(known).fetchall():
                        (d / "filled").unlink(missing_ok=True)
                        admin.execute("CREATE DATABASE bench")
                pid_file = pg.data_dir / "postmaster.pid"
                DB_PID[:] = [int(pid_file.read_text().split()[0])]
                result["postgresql"] = run_backend(
                    "postgresql", d, "postgresql", "", pg.dsn("bench"), args
                )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
