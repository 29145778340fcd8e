"""Security headers on every answer, pages and API alike: a Content-Security-Policy, no framing, no MIME
sniffing, a cautious Referrer-Policy, and Strict-Transport-Security outside demo mode.

Why a CSP: the pages show text that people outside the centre write (category, area and department names,
citizens' reports). Templates and scripts put that text in as text; the policy is the second line, so a slip
there cannot run script: only this origin's script files run (no inline script, no event-handler
attributes, no ``eval`` — Alpine is its CSP build), styles come only from this origin's style sheets (no
``style=""`` attributes either: scripts set styles through the CSSOM, which the policy allows), and the
browser talks only to this origin (the live updates are server-sent events on it). Map tiles may come from
the tile server of ``SHIYU_TILE_URL``. Answers that set a header themselves (attachment downloads) keep it.

A pure ASGI middleware (like ``shiyu.web.timing``): the header list is built once, at start.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shiyu.core.config import Settings

# A tile URL template's placeholders, e.g. {s} in https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png.
PLACEHOLDER = re.compile(r"\{[^}]*\}")


def tile_source(tile_url: str | None) -> str | None:
    """The CSP source that admits the tile server: its origin, with a subdomain placeholder as ``*``
    (``https://*.tile.openstreetmap.org``). None for no tiles or tiles on this origin (a path)."""
    if not tile_url or (tile_url.startswith("/") and not tile_url.startswith("//")):
        return None
    parts = urlsplit(tile_url)
    labels = parts.netloc.rsplit("@", 1)[-1].split(".")
    if PLACEHOLDER.search(labels[0]):
        labels[0] = "*"
    host = ".".join(labels)
    if PLACEHOLDER.search(host):  # a placeholder deeper in the name: CSP can only say "any host"
        return f"{parts.scheme or 'https'}:"
    return f"{parts.scheme}://{host}" if parts.scheme else host


def content_security_policy(settings: Settings) -> str:
    images = ["'self'", "data:", "blob:"]  # data: Leaflet's and Swagger UI's icons; blob: photo previews
    tiles = tile_source(settings.tile_url)
    if tiles:
        images.append(tiles)
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": " ".join(images),
        "connect-src": "'self'",
        "font-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def header_list(settings: Settings) -> list[tuple[bytes, bytes]]:
    headers = {
        "content-security-policy": content_security_policy(settings),
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "strict-origin-when-cross-origin",
    }
    if settings.hsts_max_age:
        headers["strict-transport-security"] = f"max-age={settings.hsts_max_age}"
    return [(name.encode(), value.encode()) for name, value in headers.items()]


class SecurityHeaders:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.headers = header_list(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                own = list(message.get("headers", []))
                present = {name.lower() for name, _ in own}
                message["headers"] = own + [h for h in self.headers if h[0] not in present]
            await send(message)

        return await self.app(scope, receive, with_headers)
