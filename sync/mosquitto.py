"""Run a private mosquitto broker: used by `touchpoint demo` and by the test suite.

The broker gets its own config file, port and persistence directory, so it never
touches the system broker. `kill()` sends SIGKILL (for chaos tests) and `start()`
brings it back on the same port with the same persistence file.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


class BrokerError(RuntimeError):
    """The broker binary is missing or did not come up."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def find_mosquitto() -> str:
    """Path of the mosquitto binary (Debian puts it in /usr/sbin, often off PATH)."""
    found = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    if not found:
        raise BrokerError("mosquitto is not installed (apt-get install mosquitto)")
    return found


class MosquittoProcess:
    """One private mosquitto on 127.0.0.1 with a generated (or given) config."""

    def __init__(
        self,
        workdir: Path,
        *,
        port: int | None = None,
        extra_config: str = "",
        config_text: str | None = None,
        persistence: bool = True,
    ) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.config_path = self.workdir / "mosquitto.conf"
        self.log_path = self.workdir / "mosquitto.log"
        # Where the broker's stderr goes (configs with `log_dest stderr` log there). A
        # file, not a pipe: nobody reads a pipe while the broker runs, and a verbose
        # broker would block once the pipe is full.
        self.stderr_path = self.workdir / "mosquitto.stderr"
        if config_text is None:
            config_text = self._default_config(persistence) + extra_config
        self.config_path.write_text(config_text)
        self._proc: subprocess.Popen[bytes] | None = None

    def _default_config(self, persistence: bool) -> str:
        lines = [
            f"listener {self.port} {self.host}",
            "allow_anonymous true",
            # Large enough that a test backlog never hits mosquitto's silent drop.
            "max_queued_messages 100000",
            "max_inflight_messages 100",
            f"log_dest file {self.log_path}",
            "log_type error",
            "log_type warning",
            "log_type notice",
        ]
        if os.geteuid() == 0:
            # As root mosquitto drops to the `mosquitto` user, which cannot write our
            # private (root-owned, 0700) temp dirs; a private broker has no need to.
            lines.append("user root")
        if persistence:
            lines += [
                "persistence true",
                f"persistence_location {self.workdir}/",
                "autosave_interval 1",
            ]
        return "\n".join(lines) + "\n"

    @property
    def running(self) -> bool:
        """Whether the broker process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs (benchmarks read its CPU time)."""
        return self._proc.pid if self.running else None

    def start(self, timeout: float = 10.0) -> MosquittoProcess:
        """Start the broker and wait until it accepts TCP connections."""
        if self.running:
            return self
        with open(self.stderr_path, "ab") as stderr:
            self._proc = subprocess.Popen(
                [find_mosquitto(), "-c", str(self.config_path)],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = self.stderr_path.read_text(errors="replace")
                log = self.log_path.read_text() if self.log_path.exists() else ""
                raise BrokerError(f"mosquitto exited with {self._proc.returncode}: {err}{log}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise BrokerError(f"mosquitto did not listen on {self.host}:{self.port} in {timeout}s")

    def kill(self) -> None:
        """SIGKILL the broker (no clean shutdown, no final persistence save)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGKILL)
            self._proc.wait(timeout=5)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the broker cleanly (SIGTERM), killing it after `timeout`."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=timeout)
        self._proc = None

    def __enter__(self) -> MosquittoProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
