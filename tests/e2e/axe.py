"""Accessibility audit of the page in hand with axe-core (vendored in ``tests/e2e/vendor``, nothing fetched):
the WCAG 2.1 A and AA rules, which GB/T 37668-2019 follows.

axe is injected as a script element, which the Content-Security-Policy would refuse, so audited pages are
opened in a context made with ``bypass_csp=True`` (``AUDIT_CONTEXT``); every other browser test keeps the
policy and fails on any violation of it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VENDOR = Path(__file__).parent / "vendor"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("critical", "serious")
AUDIT_CONTEXT = {"bypass_csp": True}


def _source() -> str:
    manifest = json.loads((VENDOR / "MANIFEST.json").read_text(encoding="utf-8"))
    axe = next(p for p in manifest["packages"] if p["name"] == "axe-core")
    return (VENDOR / axe["directory"] / "axe.min.js").read_text(encoding="utf-8")


def audit(page: Any) -> list[dict[str, Any]]:
    """The WCAG 2.1 A/AA violations on the page as it is now: rule id, impact, help and the offending nodes."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=_source())
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", WCAG_TAGS)
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [" ".join(n["target"]) if isinstance(n["target"], list) else str(n["target"])
                       for n in v["nodes"]][:5]}
            for v in result["violations"]]


def blocking(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v["impact"] in BLOCKING]
