"""HQ configs for tests that run `touchpoint hq run` as a process (chaos, outages)."""

from __future__ import annotations

from pathlib import Path

from hq.config import HqDatabaseSection
from tests.edge.agent_support import CHAIN_KEY

HQ_TOML = """
[hq]
id = "{id}"
timezone = "UTC"
[database]
backend = "{backend}"
path = "{path}"
dsn_file = "{dsn_file}"
[mqtt]
host = "127.0.0.1"
port = {port}
tls = false
password_file = ""
[ingest]
gap_timeout_s = {gap_timeout_s}
[identity]
active_key = "k1"
[[identity.keys]]
id = "k1"
file = "chain-key"
"""


def write_hq_configs(
    hq_dir: Path,
    db: HqDatabaseSection,
    port: int,
    count: int = 1,
    *,
    name: str = "hq",
    gap_timeout_s: float = 10.0,
) -> list[Path]:
    """One config per ingester on the database, each its own MQTT client id (`name-i`)."""
    (hq_dir / "chain-key").write_bytes(CHAIN_KEY)
    paths = []
    for i in range(count):
        path = hq_dir / f"hq-{i}.toml"
        path.write_text(
            HQ_TOML.format(
                id=f"{name}-{i}",
                backend=db.backend,
                path=db.path,
                dsn_file=db.dsn_file,
                port=port,
                gap_timeout_s=gap_timeout_s,
            )
        )
        paths.append(path)
    return paths
