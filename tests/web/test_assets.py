"""Vendored front-end files match their manifest, keep their licences, and nothing loads from the internet."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from scripts.vendor_assets import TEST_VENDOR, directory
from shiyu.web.i18n import catalogue

WEB = Path(__file__).resolve().parents[2] / "shiyu" / "web"
VENDOR = WEB / "static" / "vendor"


@pytest.mark.parametrize(("vendor", "expected"), [
    (VENDOR, {"leaflet", "htmx.org", "@alpinejs/csp", "swagger-ui-dist"}),
    (TEST_VENDOR, {"axe-core"}),
], ids=["served", "tests-only"])
def test_manifest_matches_files(vendor: Path, expected: set[str]) -> None:
    manifest = json.loads((vendor / "MANIFEST.json").read_text(encoding="utf-8"))
    listed = set()
    names = {p["name"] for p in manifest["packages"]}
    assert expected <= names
    for pkg in manifest["packages"]:
        assert pkg["version"] and pkg["licence"] and pkg["source"] == f"npm:{pkg['name']}"
        folder = vendor / pkg["directory"]
        assert folder.name == directory(pkg["name"], pkg["version"])
        assert "LICENSE" in pkg["files"], f"{pkg['name']} has no licence file"
        for rel, digest in pkg["files"].items():
            data = (folder / rel).read_bytes()
            assert hashlib.sha256(data).hexdigest() == digest, f"{pkg['name']}/{rel} differs from the manifest"
            listed.add((folder / rel).resolve())
    on_disk = {p.resolve() for p in vendor.rglob("*") if p.is_file() and p.name != "MANIFEST.json"}
    assert on_disk == listed, f"files not in the manifest: {sorted(map(str, on_disk - listed))}"


def test_templates_load_nothing_from_the_internet() -> None:
    pattern = re.compile(r"<(script|link)[^>]+(src|href)\s*=\s*[\"']?(https?:)?//", re.I)
    for path in (WEB / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not pattern.search(text), f"{path.name} loads a script or style from the internet"
        assert "@import url(http" not in text
    css = (WEB / "static" / "shiyu.css").read_text(encoding="utf-8")
    assert "http://" not in css and "https://" not in css


def test_catalogues_have_the_same_keys() -> None:
    """Every catalogue file (zh.json, zh.<area>.json …) has an English twin with the same keys."""
    for zh_path in sorted((WEB / "i18n").glob("zh*.json")):
        en_path = zh_path.with_name("en" + zh_path.name[2:])
        zh_part = json.loads(zh_path.read_text(encoding="utf-8"))
        assert set(zh_part) == set(json.loads(en_path.read_text(encoding="utf-8"))), zh_path.name
    zh, en = catalogue("zh"), catalogue("en")
    assert set(zh) == set(en)
    assert all(v.strip() for v in zh.values()) and all(v.strip() for v in en.values())


def test_every_icon_a_template_names_is_drawn():
    """``ui.icon('x')`` points at the sprite's ``#i-x``; a name it lacks draws an empty gap before the label
    (the export buttons had one)."""
    drawn = set(re.findall(r'<symbol id="i-([a-z-]+)"', (WEB / "templates" / "partials" / "icons.html").read_text()))
    named = {name for page in (WEB / "templates").rglob("*.html")
             for name in re.findall(r"icon\('([a-z-]+)'\)", page.read_text(encoding="utf-8"))}
    assert named and not named - drawn, sorted(named - drawn)
