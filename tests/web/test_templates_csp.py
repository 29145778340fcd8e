"""The templates and our scripts stay within the Content-Security-Policy and keep stored text out of markup
(review S2, S6): checked on the source, so a slip shows here before a browser test or a city finds it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "shiyu" / "web"
TEMPLATES = sorted((WEB / "templates").rglob("*.html"))
SCRIPTS = sorted((WEB / "static").glob("*.js"))  # ours; the vendored libraries are under static/vendor/

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.I)
EVENT_ATTRIBUTE = re.compile(r"\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.I)
ALPINE_ATTRIBUTE = re.compile(r"\s(x-[\w:.-]+|@[\w:.-]+|:[\w.-]+)\s*=\s*\"([^\"]*)\"")
OUTPUT = re.compile(r"\{\{.*?\}\}", re.S)


def _names(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(WEB)) for p in paths]


@pytest.mark.parametrize("path", TEMPLATES, ids=_names(TEMPLATES))
def test_template_has_no_inline_script_handler_or_style(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for attrs in SCRIPT_TAG.findall(text):
        assert "src=" in attrs or 'type="application/json"' in attrs, f"inline script: <script{attrs}>"
    assert not EVENT_ATTRIBUTE.search(text), "an on…= event handler attribute (use a data-* hook in a script)"
    assert not STYLE_ATTRIBUTE.search(text), "a style attribute (use a class in the style sheet)"
    assert "hx-on" not in text and "js:" not in text and "javascript:" not in text
    assert "|safe" not in text.replace(" ", "") and "Markup" not in text


@pytest.mark.parametrize("path", TEMPLATES, ids=_names(TEMPLATES))
def test_server_data_never_goes_into_an_alpine_expression(path: Path) -> None:
    """Alpine evaluates x-*, @… and :… attributes as code: data belongs in data-* attributes."""
    for name, value in ALPINE_ATTRIBUTE.findall(path.read_text(encoding="utf-8")):
        assert "{{" not in value, f'{name}="{value}" puts template output into an expression'


@pytest.mark.parametrize("path", TEMPLATES, ids=_names(TEMPLATES))
def test_json_in_an_attribute_is_escaped(path: Path) -> None:
    """``tojson`` leaves ``"`` as it is: inside an attribute it must be followed by ``forceescape``; inside a
    ``<script type="application/json">`` block it is safe as it is (it escapes ``<``, ``>`` and ``&``)."""
    text = path.read_text(encoding="utf-8")
    for m in OUTPUT.finditer(text):
        if "tojson" not in m.group(0):
            continue
        before = text[:m.start()]
        in_tag = before.rfind("<") > before.rfind(">")
        if in_tag:
            assert "forceescape" in m.group(0).split("tojson", 1)[1], f"unescaped JSON in an attribute: {m.group(0)}"


@pytest.mark.parametrize("path", SCRIPTS, ids=_names(SCRIPTS))
def test_our_scripts_build_no_markup_from_strings(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for sink in (".innerHTML", ".outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in text, f"{sink}: build DOM nodes and set textContent instead"
    # Leaflet renders a string popup or tooltip as HTML: give it an element (shiyu.textBox) or a function.
    for call in re.findall(r"bind(?:Popup|Tooltip)\(([^,)]*)", text):
        assert call.startswith(("textBox(", "function")), f"bindPopup/bindTooltip({call}…) with a string"
