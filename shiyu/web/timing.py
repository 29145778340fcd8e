"""``Server-Timing: app;dur=<ms>`` on every answer: how long the app took from receiving the request to
starting its answer.

Why: a slow page or report can be slow in the app, in the network or on the caller's machine; browsers'
developer tools and the intake bench read this header to tell the app's share from the rest. A pure ASGI
middleware (no ``BaseHTTPMiddleware``), so it costs a clock read and a header.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ServerTiming:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                took = (time.perf_counter() - started) * 1000
                message["headers"] = [*message.get("headers", []), (b"server-timing", f"app;dur={took:.1f}".encode())]
            await send(message)

        return await self.app(scope, receive, timed)
