"""A throwaway PostgreSQL cluster (initdb + pg_ctl in a temp dir) for tests and benches.

The cluster listens on a free TCP port on 127.0.0.1 and on a unix socket in its own
temp dir, with trust auth, so it never touches a system server. initdb refuses to
run as root, so as root every server command runs as the `postgres` user, and the
temp dir is created under /tmp (pytest's tmp dirs are root-only) and chowned to it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from sync.mosquitto import free_port


class PgClusterError(RuntimeError):
    """PostgreSQL is missing or the throwaway cluster did not start."""


def find_pg_bin() -> Path:
    """Directory holding initdb/pg_ctl: the newest /usr/lib/postgresql/*/bin, else PATH."""

    def version(p: str) -> int:
        m = re.search(r"/postgresql/(\d+)/bin/", p)
        return int(m.group(1)) if m else 0

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise PgClusterError("PostgreSQL is not installed: no initdb (apt-get install postgresql)")


class PgCluster:
    """One private PostgreSQL server; `start()`, `dsn()`, `stop()`."""

    def __init__(
        self, bin_dir: Path | None = None, *, port: int | None = None, keep: Path | None = None
    ) -> None:
        self.bin_dir = Path(bin_dir) if bin_dir else find_pg_bin()
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.workdir: Path | None = None
        # A directory whose cluster outlives this object (a benchmark's filled data):
        # started again if it holds one, never deleted.
        self.keep = Path(keep) if keep else None
        # As root the server must run as someone else; postgres is the packaged owner.
        self._user = "postgres" if os.geteuid() == 0 else None

    @property
    def data_dir(self) -> Path:
        """The cluster's data directory (inside the temp dir)."""
        assert self.workdir is not None, "cluster not started"
        return self.workdir / "data"

    @property
    def log_path(self) -> Path:
        """The server log, for error messages."""
        assert self.workdir is not None, "cluster not started"
        return self.workdir / "server.log"

    def _run(self, *args: str, timeout: float) -> None:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if self._user:
            cmd = ["runuser", "-u", self._user, "--", *cmd]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except FileNotFoundError as exc:
            raise PgClusterError(f"cannot run {cmd[0]}: {exc}") from None
        except subprocess.TimeoutExpired:
            raise PgClusterError(f"{args[0]} did not finish in {timeout}s") from None
        if done.returncode != 0:
            log = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
            out = (done.stdout + done.stderr).decode(errors="replace")
            raise PgClusterError(f"{args[0]} exited with {done.returncode}: {out}{log}")

    def start(self, timeout: float = 60.0) -> PgCluster:
        """initdb a fresh cluster and start it; returns once it accepts connections."""
        if not (self.bin_dir / "initdb").exists():
            raise PgClusterError(f"PostgreSQL is not installed: no initdb in {self.bin_dir}")
        if self.keep is not None:
            self.keep.mkdir(parents=True, exist_ok=True)
            self.workdir = self.keep
        else:
            self.workdir = Path(tempfile.mkdtemp(prefix="touchpoint-pg-", dir="/tmp"))
        try:
            if self._user:
                entry = pwd.getpwnam(self._user)
                os.chown(self.workdir, entry.pw_uid, entry.pw_gid)
            if self.keep is not None and (self.data_dir / "PG_VERSION").exists():
                self.start_server(timeout)
                return self
            self._run(
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                timeout=timeout,
            )
            self.start_server(timeout)
        except BaseException:
            self._cleanup()
            raise
        return self

    def start_server(self, timeout: float = 60.0) -> None:
        """Start the server on the existing data directory (after `start` or `kill_server`)."""
        # fsync stays on (tests check durable commits); full_page_writes only
        # guards against torn pages after an OS crash, which a throwaway never sees.
        options = (
            f"-c listen_addresses={self.host} -p {self.port} "
            f"-c unix_socket_directories={self.workdir} "
            "-c full_page_writes=off -c max_connections=50"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_path),
            "-o",
            options,
            "-w",
            "-t",
            str(int(timeout)),
            "start",
            timeout=timeout + 5,
        )

    def kill_server(self, timeout: float = 30.0) -> None:
        """Stop the server abruptly (immediate mode: like a crash), keeping its data."""
        self._run(
            "pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop", timeout=timeout
        )

    def dsn(self, dbname: str = "postgres") -> str:
        """libpq connection string for a database on this cluster."""
        return f"host={self.host} port={self.port} user=postgres dbname={dbname}"

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the server (fast shutdown) and delete its temp dir."""
        if self.workdir is None:
            return
        with contextlib.suppress(PgClusterError):
            if (self.data_dir / "postmaster.pid").exists():
                self._run(
                    "pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop", timeout=timeout
                )
        self._cleanup()

    def _cleanup(self) -> None:
        if self.workdir is not None and self.keep is None:
            shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir = None

    def __enter__(self) -> PgCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
