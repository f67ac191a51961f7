"""`touchpoint demo`: simulated stores on embedded defaults, through the real code paths.

Each store gets emulated devices on ptys (a Terabee counter at the main door, an
ESP32 ASCII counter at the side door, a door scanner), a generated config and keys,
and the real agent reading them. A traffic model walks shoppers in and out (busier
around lunch and late afternoon), some scanning a loyalty card or the app QR code.
The live view prints what each store's database recorded next to what its sensors
counted; the final check says whether they agree exactly.
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

import click

from devices.emulators.ascii_counter import AsciiCounterEmulator
from devices.emulators.scanner import ScannerEmulator, with_check_digit
from devices.emulators.terabee import TerabeeEmulator
from edge.agent import Agent
from edge.config import load_store_config
from edge.configtree import SecretResolver
from edge.identity import issue_token
from edge.status import store_status

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
tls = false
port = 1883

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
    agent: Agent | None = None
    rng: random.Random = field(init=False)
    inside: list[tuple[float, str]] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)
    token_key: bytes = b""

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        d = self.root
        (d / "dev").mkdir(parents=True, exist_ok=True)
        chain = self.rng.randbytes(32).hex().encode()
        self.token_key = self.rng.randbytes(32).hex().encode()
        (d / "chain-key-k1").write_bytes(chain)
        (d / "app-token-key").write_bytes(self.token_key)
        self.config_path = d / "store.toml"
        self.config_path.write_text(STORE_TEMPLATE.format(store=self.store, dir=d))
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
            self.agent = Agent(self.cfg, SecretResolver.from_environ(self.config_path))
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
            self.inside.append(
                (sim_now + self.rng.uniform(300, 2400), "main" if door is self.main else "side")
            )
            roll = self.rng.random()
            if door is self.main and roll < 0.25:
                self.scanner.scan(self.rng.choice(self.customers), "]E0")
            elif door is self.main and roll < 0.30:
                customer = f"app-{self.rng.randrange(500)}"
                self.scanner.scan(issue_token(self.token_key, customer, wall_now), "]Q1")
        leaving = [p for p in self.inside if p[0] <= sim_now]
        self.inside = [p for p in self.inside if p[0] > sim_now]
        for _, door in leaving:
            (self.main if door == "main" and self.rng.random() < 0.8 else self.side).cross("out")

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


def run_demo(
    *,
    stores: int = 1,
    minutes: float = 30.0,
    speed: float = 120.0,
    headless: bool = False,
    workdir: Path | None = None,
    seed: int = 7,
    echo=print,
) -> dict:
    """Run the demo; returns (and in headless mode prints) the final summary."""
    root = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="touchpoint-demo-"))
    sims = [
        SimulatedStore(f"demo-{i + 1:03d}", root / f"store-{i + 1}", seed + i)
        for i in range(stores)
    ]
    for sim in sims:
        sim.start()
    sim_start = 11 * 3600.0  # the demo day starts at 11:00, before the lunch peak
    sim_now = sim_start
    tick = 0.05
    last_print = 0.0
    stop = threading.Event()
    try:
        while sim_now - sim_start < minutes * 60 and not stop.is_set():
            wall = time.time()
            for sim in sims:
                sim.step(sim_now, tick * speed / 60, wall)
                if sim.agent:
                    sim.agent.tick()
            sim_now += tick * speed
            if not headless and time.monotonic() - last_print >= 1.0:
                last_print = time.monotonic()
                clock = time.strftime("%H:%M", time.gmtime(sim_now))
                for sim in sims:
                    st = sim.status()
                    echo(
                        f"{clock} {sim.store}: in {st['entries']:>4} out {st['exits']:>4}"
                        f" visitors {st['visitors']:>6g} occupancy {st['occupancy']:>3}"
                        f" identified {st['identified_visits']:>3}"
                        f" | sensors in {st['sensor_in']:>4} out {st['sensor_out']:>4}"
                    )
            time.sleep(tick)
    finally:
        for sim in sims:
            sim.stop()
    summary = {"workdir": str(root), "simulated_minutes": minutes, "stores": {}}
    exact = True
    for sim in sims:
        st = sim.status()
        ok = (st["entries"], st["exits"]) == (st["sensor_in"], st["sensor_out"])
        exact &= ok
        summary["stores"][sim.store] = {
            k: st[k]
            for k in (
                "entries",
                "exits",
                "visitors",
                "occupancy",
                "identified_visits",
                "sensor_in",
                "sensor_out",
                "outbox",
                "last_seq",
            )
        } | {"exact": ok}
    summary["exact"] = exact
    if headless:
        echo(json.dumps(summary, sort_keys=True))
    else:
        for store, s in summary["stores"].items():
            verdict = "exact" if s["exact"] else "MISMATCH"
            echo(
                f"{store}: recorded in {s['entries']} out {s['exits']}; sensors in {s['sensor_in']}"
                f" out {s['sensor_out']}: {verdict}; {s['identified_visits']} identified visits"
            )
        echo(f"databases and configs in {root}")
    return summary


@click.command("demo")
@click.option(
    "--stores",
    default=1,
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
    "--workdir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Keep configs and databases here (default: a new temp dir).",
)
def demo_command(
    stores: int, minutes: float, speed: float, headless: bool, workdir: Path | None
) -> None:
    """The main job on embedded defaults: emulated devices → store agents → store databases."""
    summary = run_demo(
        stores=stores,
        minutes=minutes,
        speed=speed,
        headless=headless,
        workdir=workdir,
        echo=click.echo,
    )
    raise SystemExit(0 if summary["exact"] else 1)
