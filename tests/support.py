"""Helpers for tests that run the real `touchpoint` command as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


COMMAND = [sys.executable, "-c", "from touchpoint.cli import main; main()"]


def touchpoint_process(*args: str, env: dict[str, str] | None = None, **kw) -> subprocess.Popen:
    """Start `touchpoint ARGS…` in the background (an agent, an ingester) and return it."""
    kw.setdefault("stdout", subprocess.DEVNULL)
    kw.setdefault("stderr", subprocess.DEVNULL)
    return subprocess.Popen(
        [*COMMAND, *args], env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, **kw
    )


def touchpoint(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60, **kw
) -> subprocess.CompletedProcess[str]:
    """Run `touchpoint ARGS…` with this interpreter and the checkout on the path."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [*COMMAND, *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        cwd=ROOT,
        **kw,
    )
