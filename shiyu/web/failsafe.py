"""The last net under every request: an exception nothing else answered becomes a 500 that the client can
read and keep its connection after.

Why not ``app.exception_handler(Exception)``: Starlette runs that handler in its outermost middleware, above
``SecurityHeaders`` (so the 500 left without CSP, nosniff, frame denial), and re-raises the exception once
the answer is sent, which makes the server drop the client's keep-alive connection without a
``Connection: close`` (security review S9: the client's next request on it failed with "connection
reset"). Added as the innermost middleware, this one answers below the header middleware and ends the
request normally. An exception after the answer has started cannot be answered any more; it is re-raised.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("shiyu")


class Failsafe:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:
            if started:
                raise
            from shiyu.web.errors import answer

            request = Request(scope, receive)
            log.exception("unhandled error on %s %s", request.method, request.url.path)
            response = answer(request, 500, "internal_error", "系统内部错误，已记录",
                              "Internal error; it has been logged")
            await response(scope, receive, send)
