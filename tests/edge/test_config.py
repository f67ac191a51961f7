"""Store and HQ configs: the examples pass, every mistake is named as `file: key.path: …`, exit 2."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from edge.config import StoreConfig, load_store_config
from edge.configtree import ConfigError, SecretResolver, undescribed_keys
from hq.config import HqConfig
from tests.support import ROOT, touchpoint

MINIMAL = """
[store]
id = "s1"
[identity]
active_key = "k1"
[[identity.keys]]
id = "k1"
file = "key"
"""


@pytest.fixture
def cfg_dir(tmp_path: Path) -> Path:
    (tmp_path / "key").write_text("secret-chain-key\n")
    return tmp_path


def write(cfg_dir: Path, text: str) -> Path:
    path = cfg_dir / "store.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", ["store.example.toml", "hq.example.toml"])
def test_example_configs_pass_config_check(name):
    result = touchpoint("config", "check", f"config/{name}")
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout


def test_example_store_config_covers_every_key():
    text = (ROOT / "config/store.example.toml").read_text()
    cfg = load_store_config(ROOT / "config/store.example.toml")
    assert {d.__struct_config__.tag for d in cfg.devices} == {
        "terabee",
        "ascii_counter",
        "gpio_beams",
        "camera_counter",
        "serial_scanner",
        "camera_scanner",
    }
    for section in ("store", "database", "identity", "mqtt", "visits", "kiosk"):
        for key in getattr(cfg, section).__struct_fields__:
            documented = f"\n{key} =" in text or f"[[{section}.{key}]]" in text
            assert documented, f"{section}.{key} is not documented in the example"


def test_minimal_config_uses_defaults(cfg_dir):
    cfg = load_store_config(write(cfg_dir, MINIMAL))
    assert cfg.database.commit_interval_ms == 20 and cfg.mqtt.port == 8883 and cfg.devices == []


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            '[database]\nretention_days = "long"\n',
            "database.retention_days: expected `int`, got `str`",
        ),
        ("[database]\nretention_days = 0\n", "database.retention_days: expected `int` >= 1, got 0"),
        ("[mqtt]\nprot = 1883\n", "mqtt.prot: unknown key"),
        ('[[devices]]\ntype = "terabee"\nname = "d"\n', "devices[0].port: required key is missing"),
        ('[[devices]]\ntype = "laser"\nname = "d"\n', "devices[0].type: expected one of"),
        (
            '[[devices]]\ntype = "gpio_beams"\nname = "d"\npin_a = 99\npin_b = 1\n',
            "devices[0].pin_a: expected `int` <= 27, got 99",
        ),
    ],
)
def test_each_mistake_names_file_and_key_path(cfg_dir, extra, expected):
    path = write(cfg_dir, MINIMAL + extra)
    result = touchpoint("config", "check", str(path))
    assert result.returncode == 2
    assert f"{path}: {expected}" in result.stderr


def test_all_mistakes_are_reported_at_once(cfg_dir):
    path = write(
        cfg_dir, MINIMAL.replace('id = "s1"', 'id = "bad id!"\ncolour = 1') + "[mqtt]\nport = 0\n"
    )
    with pytest.raises(ConfigError) as err:
        load_store_config(path)
    assert {p.path for p in err.value.problems} == {"store.id", "store.colour", "mqtt.port"}


def test_missing_secret_file_exits_2(cfg_dir):
    path = write(cfg_dir, MINIMAL.replace('file = "key"', 'file = "missing-key"'))
    result = touchpoint("config", "check", str(path))
    assert result.returncode == 2
    assert f"{path}: identity.keys[0].file: secret file not found" in result.stderr


def test_secrets_come_from_credentials_directory_first(cfg_dir, tmp_path_factory):
    creds = tmp_path_factory.mktemp("creds")
    (creds / "key").write_text("from-systemd")
    resolver = SecretResolver.from_environ(
        cfg_dir / "store.toml", {"CREDENTIALS_DIRECTORY": str(creds)}
    )
    assert resolver.read("key") == b"from-systemd"
    (creds / "key").unlink()
    assert resolver.read("key") == b"secret-chain-key"  # falls back to the config's folder


def test_empty_secret_file_is_refused(cfg_dir):
    (cfg_dir / "key").write_text("\n")
    with pytest.raises(ConfigError, match=r"identity\.keys\[0\]\.file: secret file .* is empty"):
        load_store_config(write(cfg_dir, MINIMAL))


def test_cross_checks(cfg_dir):
    text = (
        MINIMAL.replace('active_key = "k1"', 'active_key = "k9"')
        + '[[devices]]\ntype = "gpio_beams"\nname = "d"\npin_a = 1\npin_b = 2\n' * 2
    )
    with pytest.raises(ConfigError) as err:
        load_store_config(write(cfg_dir, text))
    assert {p.path for p in err.value.problems} == {"identity.active_key", "devices[1].name"}


def test_broken_toml_and_missing_file_exit_2(cfg_dir):
    path = write(cfg_dir, "[store\nid=")
    result = touchpoint("config", "check", str(path))
    assert result.returncode == 2 and f"{path}: (top): not valid TOML" in result.stderr
    result = touchpoint("config", "check", str(cfg_dir / "nope.toml"))
    assert result.returncode == 2 and "file not found" in result.stderr


def test_neither_store_nor_hq_exits_2(cfg_dir):
    result = touchpoint("config", "check", str(write(cfg_dir, "[other]\n")))
    assert result.returncode == 2 and "expected a [store] table" in result.stderr


def test_hq_config_mistakes(cfg_dir):
    shutil.copy(ROOT / "config/hq.example.toml", cfg_dir / "hq.toml")
    text = (cfg_dir / "hq.toml").read_text().replace('backend = "sqlite"', 'backend = "postgresql"')
    (cfg_dir / "hq.toml").write_text(text)
    (cfg_dir / "chain-key-k1").write_text("k")
    (cfg_dir / "mqtt-password-hq").write_text("p")
    result = touchpoint("config", "check", str(cfg_dir / "hq.toml"))
    assert result.returncode == 2
    assert "database.dsn_file: required when backend" in result.stderr


@pytest.mark.parametrize("schema", [StoreConfig, HqConfig])
def test_every_key_has_a_description(schema):
    assert undescribed_keys(schema) == []
