"""`touchpoint demo`: simulated stores on embedded defaults, through the real code paths.

Each store gets emulated devices on ptys (a Terabee counter at the main door, an
ESP32 ASCII counter at the side door, a door scanner), a generated config and keys,
and the real agent reading them. A traffic model walks shoppers in and out (busier
around lunch and late afternoon), some scanning a loyalty card or the app QR code.
The live view prints what each store's database recorded next to what its sensors
counted; the final check says whether they agree exactly. Click & collect runs along
(touchpoint/demo_pickup.py): web-shop orders imported at head office, routed to the
stores over `down/orders` by the order worker as in `hq run`, worked at each store's
pick-up desk, their statuses and the feeds' click & collect figures checked too.
"""

from __future__ import annotations

import json
import math
import random
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from devices.emulators.ascii_counter import AsciiCounterEmulator
from devices.emulators.scanner import ScannerEmulator, with_check_digit
from devices.emulators.terabee import TerabeeEmulator
from edge.agent import Agent
from edge.config import load_store_config
from edge.configtree import SecretResolver
from edge.identity import issue_token
from edge.status import store_status
from hq.alert_step import AlertStep
from hq.feed_worker import FeedSettings, FeedWorker, client_publisher
from hq.ingest import Ingester, IngestSettings
from hq.orders.worker import OrderWorker
from hq.sqlite_store import SqliteHqStore
from sync.mosquitto import MosquittoProcess
from sync.uplink import uplink_factory
from touchpoint import demo_hq as dh
from touchpoint import demo_pickup as dp
from touchpoint.demo_web import serve_dashboard

STORE_TEMPLATE = """
[store]
id = "{store}"
name = "Demo store {store}"
timezone = "Europe/Amsterdam"
opening_time = "00:00"

[database]
path = "{dir}/store.db"
commit_interval_ms = 20

[identity]
active_key = "k1"
token_key_file = "app-token-key"
[[identity.keys]]
id = "k1"
file = "chain-key-k1"

[mqtt]
enabled = {mqtt_enabled}
host = "127.0.0.1"
port = {mqtt_port}
tls = false
password_file = ""

[[devices]]
type = "terabee"
name = "door-main"
door = "main"
port = "{dir}/dev/terabee"

[[devices]]
type = "ascii_counter"
name = "door-side"
door = "side"
port = "{dir}/dev/esp32"

[[devices]]
type = "serial_scanner"
name = "scan-door"
door = "main"
port = "{dir}/dev/scanner"
duplicate_window_ms = 0
"""


def hourly_rate(sim_hour: float) -> float:
    """Shoppers per simulated minute: a late-morning and a late-afternoon peak."""
    morning = math.exp(-(((sim_hour - 12.5) / 1.8) ** 2))
    evening = math.exp(-(((sim_hour - 17.0) / 1.5) ** 2))
    return 0.8 + 3.0 * morning + 3.5 * evening


@dataclass
class SimulatedStore:
    """One demo store: its emulated devices, its agent and its traffic model."""

    store: str
    root: Path
    seed: int
    mqtt_port: int | None = None  # the demo broker; None = record locally only
    agent: Agent | None = None
    rng: random.Random = field(init=False)
    inside: list[tuple[float, str]] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)
    token_key: bytes = b""

    chain_key: bytes = b""
    scanned: set[str] = field(default_factory=set)  # customers identified at the door
    receipts: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        d = self.root
        (d / "dev").mkdir(parents=True, exist_ok=True)
        chain = self.chain_key or self.rng.randbytes(32).hex().encode()
        self.token_key = self.rng.randbytes(32).hex().encode()
        (d / "chain-key-k1").write_bytes(chain)
        (d / "app-token-key").write_bytes(self.token_key)
        self.config_path = d / "store.toml"
        self.config_path.write_text(
            STORE_TEMPLATE.format(
                store=self.store,
                dir=d,
                mqtt_enabled=str(self.mqtt_port is not None).lower(),
                mqtt_port=self.mqtt_port or 1883,
            )
        )
        self.cfg = load_store_config(self.config_path)
        self.main = TerabeeEmulator(
            d / "dev/terabee", sensor="1", start=(self.rng.randrange(60000), 0)
        )
        self.side = AsciiCounterEmulator(d / "dev/esp32", sensor="side")
        self.scanner = ScannerEmulator(d / "dev/scanner")
        self.customers = [
            with_check_digit("26" + f"{self.rng.randrange(10**10):010d}") for _ in range(300)
        ]

    def start(self, *, agent: bool = True) -> None:
        """Plug the devices in and start the agent (in this process unless `agent` is False)."""
        for dev in (self.main, self.side, self.scanner):
            dev.plug()
        if agent:
            secrets = SecretResolver.from_environ(self.config_path)
            extra = {"uplink": uplink_factory(self.cfg, secrets)} if self.cfg.mqtt.enabled else {}
            self.agent = Agent(self.cfg, secrets, extra_components=extra)
            self.agent.start()
        for dev in (self.main, self.side, self.scanner):
            dev.wait_connected(10)
        for counter in (self.main, self.side):
            counter.report(clean=True)  # baseline totals

    def step(self, sim_now: float, sim_dt_min: float, wall_now: float) -> None:
        """Advance the traffic model by `sim_dt_min` simulated minutes."""
        hour = (sim_now / 3600) % 24
        arrivals = self._poisson(hourly_rate(hour) * sim_dt_min)
        for _ in range(arrivals):
            door = self.main if self.rng.random() < 0.8 else self.side
            door.cross("in")
            roll = self.rng.random()
            card = None
            if door is self.main and roll < 0.25:
                card = self.rng.choice(self.customers)
                if self.scanner.scan(card, "]E0"):
                    self.scanned.add(card)
            elif door is self.main and roll < 0.30:
                customer = f"app-{self.rng.randrange(500)}"
                if self.scanner.scan(issue_token(self.token_key, customer, wall_now), "]Q1"):
                    self.scanned.add(customer)
            self.inside.append(
                (
                    sim_now + self.rng.uniform(300, 2400),
                    "main" if door is self.main else "side",
                    card,
                )
            )
        leaving = [p for p in self.inside if p[0] <= sim_now]
        self.inside = [p for p in self.inside if p[0] > sim_now]
        for _, door, card in leaving:
            (self.main if door == "main" and self.rng.random() < 0.8 else self.side).cross("out")
            if self.rng.random() < 0.35:  # bought something at the till on the way out
                self.receipts.append(
                    {
                        "id": f"{self.store}-r{len(self.receipts) + 1}",
                        "store": self.store,
                        "ts": _iso_now(),
                        "type": "sale",
                        "net_amount": f"{self.rng.randrange(500, 12000) / 100:.2f}",
                        "currency": "EUR",
                        "items": self.rng.randrange(1, 6),
                        "loyalty_number": card if card and self.rng.random() < 0.8 else "",
                    }
                )

    def _poisson(self, lam: float) -> int:
        k, p, limit = 0, 1.0, math.exp(-lam)
        while True:
            p *= self.rng.random()
            if p <= limit:
                return k
            k += 1

    def truth(self) -> tuple[int, int]:
        """What the sensors counted (in, out), summed over both doors."""
        a, b = self.main.truth, self.side.truth
        return a[0] + b[0], a[1] + b[1]

    def status(self) -> dict:
        """The store's `edge status`, plus the sensors' truth."""
        st = store_status(self.cfg)
        st["sensor_in"], st["sensor_out"] = self.truth()
        return st

    def settle(self, timeout: float = 10.0) -> bool:
        """Send the devices' final totals and wait until the database agrees with them."""
        for dev in (self.main, self.side):
            dev.report(clean=True)
        for dev in (self.main, self.side, self.scanner):
            dev.drain(5)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = store_status(self.cfg)
            if (st["entries"], st["exits"]) == self.truth():
                return True
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        """Let the devices' last frames arrive, then stop the agent and unplug."""
        self.settle()
        if self.agent is not None:
            self.agent.stop()
        for dev in (self.main, self.side, self.scanner):
            dev.close()


def _iso_now() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}+00:00"


def hq_totals(hq_db: Path) -> dict[str, dict[str, int]]:
    """Per-store entries, exits and acked seq as head office has them."""
    store = SqliteHqStore(hq_db)
    try:
        totals: dict[str, dict[str, int]] = {}
        for name, _door, _hour, n_in, n_out in store.door_counts():
            t = totals.setdefault(name, {"in": 0, "out": 0, "acked": 0})
            t["in"] += n_in
            t["out"] += n_out
        for name, mark in store.marks().items():
            totals.setdefault(name, {"in": 0, "out": 0, "acked": 0})["acked"] = mark.acked_through
        return totals
    finally:
        store.close()


def run_demo(
    *,
    stores: int = 3,
    minutes: float = 30.0,
    speed: float = 120.0,
    headless: bool = False,
    workdir: Path | None = None,
    seed: int = 7,
    echo=print,
    serve_port: int | None = None,
) -> dict:
    """Run the chain demo; returns (and in headless mode prints) the final summary."""
    root = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="touchpoint-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    broker = MosquittoProcess(root / "broker").start()
    hq_db = root / "hq.db"
    ingester = Ingester(
        IngestSettings(client_id="demo-hq", host=broker.host, port=broker.port, gap_timeout_s=5.0),
        lambda: SqliteHqStore(hq_db),
    )
    feeds = FeedWorker(
        lambda: SqliteHqStore(hq_db),
        client_publisher(ingester.client, timeout_s=5.0),
        FeedSettings(interval_s=0.5, provisional_s=5.0, settle_max_s=2.0),
        steps=[AlertStep()],  # store alerts, as `hq run` evaluates them
    )
    # Pick-up orders to the stores and their states from the stores' events, as in `hq run`.
    order_worker = OrderWorker(lambda: SqliteHqStore(hq_db), client_publisher(ingester.client))
    chain_key = random.Random(seed).randbytes(32).hex().encode()
    sims = [
        SimulatedStore(
            f"demo-{i + 1:03d}",
            root / f"store-{i + 1}",
            seed + i,
            mqtt_port=broker.port,
            chain_key=chain_key,
        )
        for i in range(stores)
    ]
    registry, profiles, known = dh.master_data(sims, seed)
    imported = dh.import_files(
        hq_db,
        {"k1": chain_key},
        {
            "stores": dh.write_jsonl(root / "stores.jsonl", registry),
            "profiles": dh.write_jsonl(root / "profiles.jsonl", profiles),
        },
    )
    ingester.start()
    ingester.subscribed.wait(10)
    feeds.start()
    order_worker.start()
    try:
        for sim in sims:
            sim.start()
        # The web shop's pick-up orders, imported while the stores trade.
        imported |= dh.import_files(
            hq_db,
            {"k1": chain_key},
            {"orders": dh.write_jsonl(root / "orders.jsonl", dp.web_orders(sims))},
        )
        _simulate(sims, minutes, speed, headless, hq_db, echo)
        # Staff and shoppers at each store's pick-up desk (the orders have arrived).
        pickups = {sim.store: dp.work_the_desk(sim) for sim in sims}
        for sim in sims:
            sim.settle()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # let head office catch up with every store
            hq = hq_totals(hq_db)
            if all(hq.get(s.store, {}).get("acked", -1) == s.status()["last_seq"] for s in sims):
                break
            time.sleep(0.2)
        # The nightly import: the tills' receipts and the web shop's orders.
        orders, buyers = dh.online_orders(sims, known, seed)
        receipts = [r for sim in sims for r in sim.receipts] + orders
        imported |= dh.import_files(
            hq_db,
            {"k1": chain_key},
            {"transactions": dh.write_jsonl(root / "transactions.jsonl", receipts)},
        )
        _wait_for_feeds(feeds)
        pickups = {
            store: done | {"hq": dp.hq_statuses(hq_db, done["orders"])}
            for store, done in pickups.items()
        }
        if serve_port is not None and not headless:
            # Checked and reported now, while the chain still runs for the dashboard.
            summary = _report(
                sims, hq_db, known, buyers, pickups, imported, root, minutes, headless, echo
            )
            _serve_live(sims, speed, hq_db, {"k1": chain_key}, serve_port, echo)
            return summary
    finally:
        for sim in sims:
            sim.stop()
        order_worker.stop()
        feeds.stop()
        ingester.stop()
        broker.stop()
    return _report(sims, hq_db, known, buyers, pickups, imported, root, minutes, headless, echo)


def _report(sims, hq_db, known, buyers, pickups, imported, root, minutes, headless, echo) -> dict:
    """Every store's counts, feed and click & collect against the simulation's truth, printed."""
    feed = {
        sim.store: (dh.feed_totals(hq_db, sim.store, ZoneInfo(sim.cfg.store.timezone)),
                    dh.truth(sim, known, buyers))
        for sim in sims
    }  # fmt: skip
    cc = {store: dp.check(done, done["hq"], feed[store][0]) for store, done in pickups.items()}
    return _summarise(sims, hq_totals(hq_db), feed, cc, imported, root, minutes, headless, echo)


def _wait_for_feeds(feeds: FeedWorker, timeout: float = 30.0) -> None:
    """Until the feed worker has had a pass with nothing left to do."""
    deadline = time.monotonic() + timeout
    feeds.idle.clear()
    while time.monotonic() < deadline and not feeds.idle.wait(0.2):
        pass
    feeds.idle.clear()
    feeds.idle.wait(max(0.0, deadline - time.monotonic()))


def _simulate(sims, minutes, speed, headless, hq_db, echo, start=11 * 3600.0, stop=None) -> float:
    """Trade for `minutes` simulated minutes from `start` (or until `stop` is set); the end."""
    sim_start = start  # the demo day starts at 11:00, before the lunch peak
    sim_now = sim_start
    tick = 0.05
    last_print = 0.0
    while sim_now - sim_start < minutes * 60 and not (stop and stop.is_set()):
        wall = time.time()
        for sim in sims:
            sim.step(sim_now, tick * speed / 60, wall)
            if sim.agent:
                sim.agent.tick()
        sim_now += tick * speed
        if not headless and time.monotonic() - last_print >= 1.0:
            last_print = time.monotonic()
            clock = time.strftime("%H:%M", time.gmtime(sim_now))
            hq = hq_totals(hq_db)
            for sim in sims:
                st = sim.status()
                h = hq.get(sim.store, {"in": 0, "out": 0})
                echo(
                    f"{clock} {sim.store}: store in {st['entries']:>4} out {st['exits']:>4}"
                    f" occupancy {st['occupancy']:>3} identified {st['identified_visits']:>3}"
                    f" | HQ in {h['in']:>4} out {h['out']:>4}"
                    f" | sensors in {st['sensor_in']:>4} out {st['sensor_out']:>4}"
                )
        time.sleep(tick)
    return sim_now


def _keep_trading(sims, speed, hq_db, keys, stop: threading.Event) -> None:
    """While the dashboard is served: trade on, importing the tills' new receipts every 20 s."""
    sim_now, done = 11 * 3600.0 + 30 * 60, {s.store: len(s.receipts) for s in sims}
    while not stop.is_set():
        sim_now = _simulate(sims, 20 * speed / 60, speed, True, hq_db, print, sim_now, stop)
        new = [r for s in sims for r in s.receipts[done[s.store] :]]
        done = {s.store: len(s.receipts) for s in sims}
        if new:
            dh.import_files(
                hq_db, keys, {"transactions": dh.write_jsonl(hq_db.parent / "live.jsonl", new)}
            )


def _serve_live(sims, speed, hq_db, keys, port, echo) -> None:
    """Serve the dashboard until Ctrl-C while the stores keep trading."""
    stop = threading.Event()
    trading = threading.Thread(
        target=_keep_trading, args=(sims, speed, hq_db, keys, stop), name="demo-trading"
    )
    trading.start()
    try:
        serve_dashboard(hq_db.parent, hq_db, port, echo)
    finally:
        stop.set()
        trading.join(30)


def _summarise(sims, hq, feed, cc, imported, root, minutes, headless, echo) -> dict:
    summary = {"workdir": str(root), "simulated_minutes": minutes, "stores": {}}
    summary["imports"] = imported
    exact = True
    for sim in sims:
        st = sim.status()
        h = hq.get(sim.store, {"in": 0, "out": 0, "acked": 0})
        got, want = feed[sim.store]
        counts_ok = (
            (st["entries"], st["exits"])
            == (st["sensor_in"], st["sensor_out"])
            == (h["in"], h["out"])
        ) and h["acked"] == st["last_seq"]
        feed_ok = all(got[k] == want[k] for k in dh.FIGURES) and got["visitors"] == st["visitors"]
        exact &= counts_ok and feed_ok and cc[sim.store]["exact"]
        keys = (
            "entries",
            "exits",
            "visitors",
            "identified_visits",
            "sensor_in",
            "sensor_out",
            "last_seq",
        )
        summary["stores"][sim.store] = {k: st[k] for k in keys} | {
            "hq_in": h["in"],
            "hq_out": h["out"],
            "hq_acked": h["acked"],
            "feed": {k: v for k, v in got.items() if k != "this_hour"},
            "truth": want,
            "click_collect": cc[sim.store],
            "exact": counts_ok and feed_ok and cc[sim.store]["exact"],
        }
    summary["exact"] = exact
    if headless:
        echo(json.dumps(summary, sort_keys=True))
    else:
        for store, s in summary["stores"].items():
            verdict = "exact" if s["exact"] else "MISMATCH"
            echo(
                f"{store}: sensors in {s['sensor_in']} out {s['sensor_out']}; store in {s['entries']}"
                f" out {s['exits']}; HQ in {s['hq_in']} out {s['hq_out']} (acked {s['hq_acked']}"
                f" of {s['last_seq']}): {verdict}"
            )
        echo("")
        echo(
            "Head-office feeds (touchpoint/v1/{store}/feed/day and /hour), against the simulation:"
        )
        for store in summary["stores"]:
            for line in dh.feed_lines(store, *feed[store]):
                echo(line)
        echo("")
        echo("Click & collect: head office's order status (the web shop's track & trace) and")
        echo("the feeds' figures, against what the demo did at each store's pick-up desk:")
        for store in summary["stores"]:
            for line in dp.lines(store, cc[store], dh.pct):
                echo(line)
        echo(f"databases, configs and import files in {root}")
    return summary


@click.command("demo")
@click.option(
    "--stores",
    default=3,
    show_default=True,
    type=click.IntRange(1, 20),
    help="How many simulated stores to run.",
)
@click.option(
    "--minutes",
    default=30.0,
    show_default=True,
    type=click.FloatRange(1, 24 * 60),
    help="Simulated store minutes to run.",
)
@click.option(
    "--speed",
    default=120.0,
    show_default=True,
    type=click.FloatRange(1, 3600),
    help="Simulated seconds per real second.",
)
@click.option("--headless", is_flag=True, help="No live view: print one JSON summary at the end.")
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Serve the dashboard here at the end (a free port if taken); not with --headless.",
)
@click.option(
    "--workdir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Keep configs and databases here (default: a new temp dir).",
)
def demo_command(
    stores: int, minutes: float, speed: float, headless: bool, port: int, workdir: Path | None
) -> None:
    """The main job on embedded defaults: emulated devices → store agents → MQTT → head office → dashboard."""
    summary = run_demo(
        stores=stores,
        minutes=minutes,
        speed=speed,
        headless=headless,
        workdir=workdir,
        echo=click.echo,
        serve_port=None if headless else port,
    )
    raise SystemExit(0 if summary["exact"] else 1)
