"""A bare ASGI app for the supervisor's tests: it answers every request with the pid of
the worker process that served it. `/block` first holds the worker's event loop for
half a second, as a long request does; `/hang` holds it for a minute, as a handler stuck
in a blocking call."""

from __future__ import annotations

import os
import time

from hq.web.worker import lifespan_notifier


async def app(scope, receive, send) -> None:
    if scope["type"] == "lifespan":  # systemd notifications as hq serve's workers send them
        start, stop = lifespan_notifier()
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await stop()
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["path"] == "/block":
        time.sleep(0.5)
    elif scope["path"] == "/hang":
        time.sleep(60)
    headers = [(b"content-type", b"text/plain")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": str(os.getpid()).encode()})
