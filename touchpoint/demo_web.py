"""The demo's last act: head office's dashboard served on the demo's own database.

`touchpoint demo` (without `--headless`) ends here: a demo user with a freshly
generated password, the web app of `touchpoint hq serve` over a read-only view of the
demo's `hq.db`, uvicorn on 127.0.0.1 until Ctrl-C. The stores keep trading meanwhile,
so the pages show the figures moving.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Callable
from pathlib import Path

import msgspec

from edge.configtree import SecretResolver

DEMO_USER = "demo"


def port_or_free(port: int) -> int:
    """`port` when nothing listens on it on 127.0.0.1, else any free one."""
    for wanted in (port, 0):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", wanted))
            except OSError:
                continue
            return s.getsockname()[1]
    raise OSError("no free TCP port on 127.0.0.1")


def serve_dashboard(root: Path, hq_db: Path, port: int, echo: Callable[[str], None]) -> None:
    """Serve the dashboard on 127.0.0.1 until Ctrl-C; prints the URL and the demo login."""
    import uvicorn

    from hq.backends import open_hq_reader
    from hq.config import HqConfig
    from hq.web.accounts import add_user
    from hq.web.app import create_app

    password = secrets.token_urlsafe(12)
    users = root / "hq-web-users.json"
    add_user(users, DEMO_USER, password, None)
    cfg = msgspec.convert(
        {
            # The web app reads no key; the demo's chain key stays in the demo's memory.
            "identity": {"keys": [{"id": "k1", "file": "chain-key"}], "active_key": "k1"},
            "hq": {"timezone": "Europe/Amsterdam"},
            "database": {"path": str(hq_db)},
            "web": {"users_file": str(users), "tokens_file": str(root / "hq-web-tokens.json"),
                    "state_file": str(root / "hq-web-state.db"), "cookie_secure": False},  # plain HTTP on this machine only
        },
        HqConfig,
    )  # fmt: skip
    reader = open_hq_reader(cfg.database, SecretResolver(root))
    port = port_or_free(port)
    try:
        app = create_app(cfg, reader, base_dir=root)
        echo("")
        echo(f"Head-office dashboard: http://127.0.0.1:{port}/")
        echo(f"  log in as {DEMO_USER!r} with password {password!r}")
        echo("  the stores keep trading; Ctrl-C stops the demo")
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", server_header=False)
    finally:
        reader.close()
