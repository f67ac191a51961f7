"""Write head office's broker directory: config, access rules, hashed passwords, credentials.

Layout (all under DIR):
    mosquitto.conf, dynsec.json, passwd   read by mosquitto
    credentials/{user}                    plain-text password for provisioning (0600, dir 0700)
    tls/make-ca.sh                        makes tls/ca.crt, tls/server.crt, tls/server.key
    data/                                 mosquitto's persistence

Re-running keeps every existing password (provisioned Pis keep working); only new
users and those named in `rotate` get a fresh one. Every file is replaced
atomically, so a broker reloading on SIGHUP never reads half a file.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from sync.broker_config import BrokerConfigError, BrokerSetupError, BrokerSpec, mosquitto_conf
from sync.broker_dynsec import dynsec_text, find_dynsec_plugin
from sync.broker_tls import MAKE_CA_SCRIPT


@dataclass
class WriteReport:
    """What `write_broker_dir` did, for the CLI to print (never holds a password)."""

    written: list[Path] = field(default_factory=list)
    new_passwords: list[str] = field(default_factory=list)
    kept_passwords: list[str] = field(default_factory=list)
    rotated: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def find_mosquitto_passwd() -> str:
    """Path of mosquitto_passwd (Debian ships it in /usr/bin; look in sbin too)."""
    found = shutil.which("mosquitto_passwd") or shutil.which(
        "mosquitto_passwd", path="/usr/bin:/usr/sbin:/usr/local/bin:/usr/local/sbin"
    )
    if not found:
        raise BrokerSetupError("mosquitto_passwd not found (apt-get install mosquitto)")
    return found


def new_password() -> str:
    """A random broker password: 256 bits, URL-safe, so it never holds ':' or a newline."""
    return secrets.token_urlsafe(32)


def write_broker_dir(
    spec: BrokerSpec,
    *,
    rotate: tuple[str, ...] = (),
    broker_user: str = "mosquitto",
    passwd_bin: str | None = None,
    dynsec_plugin: str | Path | None = None,
) -> WriteReport:
    """Create or update the broker directory described by `spec`."""
    unknown = sorted(set(rotate) - set(spec.users))
    if unknown:
        raise BrokerConfigError(f"--rotate {', '.join(unknown)}: not a store or HQ user here")
    passwd_bin = passwd_bin or find_mosquitto_passwd()
    plugin = find_dynsec_plugin(dynsec_plugin)
    owner = _broker_owner(broker_user)
    report = WriteReport()

    _mkdir(spec.out, 0o750, owner, broker_owns=False)
    _mkdir(spec.credentials_dir, 0o700, None, broker_owns=False)
    _mkdir(spec.tls_dir, 0o750, owner, broker_owns=False)
    _mkdir(spec.data_dir, 0o700, owner, broker_owns=True)

    passwords = _credentials(spec, rotate, report)
    _write_passwd(spec, passwords, passwd_bin, owner)
    report.written.append(spec.passwd_path)
    rules = dynsec_text(spec)
    rules_changed = _read_or_none(spec.dynsec_path) not in (None, rules)
    _atomic_write(spec.dynsec_path, rules, 0o640 if owner else 0o600, owner)
    report.written.append(spec.dynsec_path)
    conf = mosquitto_conf(spec, plugin)
    conf_changed = _read_or_none(spec.conf_path) not in (None, conf)
    _atomic_write(spec.conf_path, conf, 0o640 if owner else 0o600, owner)
    report.written.append(spec.conf_path)
    if spec.legacy_acl_path.is_file():
        # Written by earlier versions; mosquitto.conf no longer names it.
        spec.legacy_acl_path.unlink()
        report.notes.append(f"removed {spec.legacy_acl_path}: the access rules are in dynsec.json")
    script = spec.tls_dir / "make-ca.sh"
    _atomic_write(script, MAKE_CA_SCRIPT, 0o755, None)
    report.written.append(script)

    listed = set(spec.users)
    report.orphans = sorted(
        p.name for p in spec.credentials_dir.iterdir() if p.is_file() and p.name not in listed
    )
    if rules_changed or conf_changed:
        report.notes.append(
            "access rules or mosquitto.conf changed: restart mosquitto "
            "(systemctl restart mosquitto); a reload does not reread them"
        )
    if owner:
        report.notes.append(f"files mosquitto reads are group-readable by {broker_user!r}")
    if not (spec.tls_dir / "server.crt").exists():
        report.notes.append(
            f"no server certificate yet: run {script} BROKER_HOSTNAME before starting mosquitto"
        )
    return report


def _credentials(spec: BrokerSpec, rotate: tuple[str, ...], report: WriteReport) -> dict[str, str]:
    """Each user's password: kept from credentials/{user}, or new (and written there)."""
    passwords = {}
    for user in spec.users:
        path = spec.credentials_dir / user
        if user in rotate or not path.exists():
            passwords[user] = new_password()
            _atomic_write(path, passwords[user] + "\n", 0o600, None)
            report.written.append(path)
            (report.rotated if user in rotate else report.new_passwords).append(user)
            continue
        try:
            text = path.read_text().rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise BrokerSetupError(
                f"{path}: cannot read ({exc}); fix it or --rotate {user}"
            ) from exc
        if not text or any(c in text for c in "\r\n") or not text.isprintable():
            raise BrokerSetupError(f"{path}: not a single-line password; use --rotate {user}")
        passwords[user] = text
        report.kept_passwords.append(user)
        # Tighten a file someone copied around with looser permissions.
        os.chmod(path, 0o600)
    return passwords


def _write_passwd(
    spec: BrokerSpec, passwords: dict[str, str], passwd_bin: str, owner: tuple[int, int] | None
) -> None:
    """Hash every password with `mosquitto_passwd -U` (PBKDF2-SHA512) into `passwd`.

    Hashing a private plain-text copy keeps passwords off the command line, where
    `ps` would show them; the file is rehashed (new salts) on every run.
    """
    tmp = spec.out / ".passwd.tmp"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.writelines(f"{user}:{pw}\n" for user, pw in passwords.items())
        result = subprocess.run(
            [passwd_bin, "-U", str(tmp)], capture_output=True, text=True, timeout=60
        )
        if result.returncode != 0:
            raise BrokerSetupError(f"mosquitto_passwd -U failed: {result.stderr.strip()}")
        hashed = tmp.read_text()
        if any(not line.split(":", 1)[1].startswith("$7$") for line in hashed.splitlines()):
            raise BrokerSetupError("mosquitto_passwd left a password unhashed")
        _finish(tmp, spec.passwd_path, 0o640 if owner else 0o600, owner)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _read_or_none(path: Path) -> str | None:
    """A file's text, or None when it does not exist (yet)."""
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


def _broker_owner(broker_user: str) -> tuple[int, int] | None:
    """(uid, gid) of the broker's user when running as root, else None.

    Mosquitto started as root drops to that user before it reads the password file
    and ACL, so they must be readable by its group. When not root, whoever runs this
    command runs mosquitto, and owning the files is enough.
    """
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(broker_user)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def _mkdir(path: Path, mode: int, owner: tuple[int, int] | None, *, broker_owns: bool) -> None:
    """A directory owned by root + the broker's group, or by the broker (data/)."""
    path.mkdir(parents=True, exist_ok=True)
    if owner:
        os.chown(path, owner[0] if broker_owns else 0, owner[1])
    os.chmod(path, mode)


def _atomic_write(path: Path, text: str, mode: int, owner: tuple[int, int] | None) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    _finish(tmp, path, mode, owner)


def _finish(tmp: Path, path: Path, mode: int, owner: tuple[int, int] | None) -> None:
    """Set mode and owner on the finished temp file, fsync it, then rename it into place."""
    if owner:
        os.chown(tmp, 0, owner[1])
    os.chmod(tmp, mode)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
