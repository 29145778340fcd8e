"""What the field app needs besides its pages: the web app manifest, the service worker with its version,
and the home-screen icons.

The icons are drawn with Pillow (a grid on the platform's blue with a location pin), so no image is
fetched or vendored. The service worker's version is a hash of the files it caches: a deploy that changes
any of them installs a new worker, which drops the old cache.
"""

from __future__ import annotations

import hashlib
import io
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw

WEB = Path(__file__).resolve().parent.parent
STATIC = WEB / "static"
BLUE = (11, 92, 173)
WHITE = (255, 255, 255)
RED = (216, 44, 32)
ICON_SIZES = (192, 512)
PAGES = ("/field", "/field/tasks", "/field/patrol", "/field/grid", "/field/register")
# The app shell: everything the pages load, so they open with no network at all.
SHELL = (
    "/static/field.css", "/static/field.js", "/static/vendor/leaflet-1.9.4/leaflet.css",
    "/static/vendor/leaflet-1.9.4/leaflet.js", "/field/manifest.webmanifest",
    *(f"/field/icon-{size}.png" for size in ICON_SIZES),
)


@cache
def shell_version() -> str:
    digest = hashlib.sha256()
    for path in (STATIC / "field.css", STATIC / "field.js", WEB / "templates/field/sw.js",
                 WEB / "templates/field/base.html"):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def manifest(name: str, short_name: str, lang: str) -> dict[str, object]:
    return {
        "name": name, "short_name": short_name, "lang": "zh-CN" if lang == "zh" else "en",
        "start_url": "/field", "scope": "/field", "display": "standalone", "orientation": "portrait",
        "background_color": "#ffffff", "theme_color": "#0b5cad",
        "icons": [{"src": f"/field/icon-{size}.png", "sizes": f"{size}x{size}", "type": "image/png",
                   "purpose": "any maskable"} for size in ICON_SIZES],
    }


@cache
def icon_png(size: int) -> bytes:
    """A full-bleed square (safe for "maskable": the motif stays inside the central 80 %)."""
    img = Image.new("RGB", (size, size), BLUE)
    draw = ImageDraw.Draw(img)
    lo, hi, line = round(size * 0.24), round(size * 0.76), max(2, size // 48)
    for i in range(4):
        at = lo + (hi - lo) * i // 3
        draw.line([(lo, at), (hi, at)], fill=WHITE, width=line)
        draw.line([(at, lo), (at, hi)], fill=WHITE, width=line)
    cx, cy, r = size // 2, round(size * 0.44), round(size * 0.12)
    draw.polygon([(cx - r * 0.8, cy + r * 0.6), (cx + r * 0.8, cy + r * 0.6), (cx, cy + r * 2.1)], fill=RED)
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=RED)
    draw.ellipse([cx - r // 2.5, cy - r // 2.5, cx + r // 2.5, cy + r // 2.5], fill=WHITE)
    out = io.BytesIO()
    img.save(out, "PNG", optimize=True)
    return out.getvalue()
