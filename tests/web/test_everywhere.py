"""What holds on every page: a local favicon; the API docs linked for administrators only and served from
the vendored Swagger UI (no network at run time); one term for the first step — 待立案 / 立案 — in the state
labels, the queues and every i18n catalogue."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from shiyu.cases.models import CaseState
from shiyu.cases.workflow.table import STATE_LABELS
from shiyu.web import pages
from tests.factories import World, populated
from tests.web.test_pages import log_in

WEB = Path(pages.__file__).parent


@pytest.fixture
def world(system_session) -> World:
    return populated(system_session)


def test_every_page_has_a_local_favicon(client, world):
    for url in ("/login", "/portal", "/portal/track"):
        page = client.get(url).text
        assert '<link rel="icon" type="image/svg+xml" href="/static/favicon.svg">' in page, url
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert "http" not in icon.text.replace('xmlns="http://www.w3.org/2000/svg"', "")


@pytest.mark.parametrize(("user", "shown"), [("admin", True), ("leader_a", False), ("worker_a1", False),
                                             ("handler_a", False)])
def test_the_api_docs_link_is_for_administrators(client, world, user, shown):
    log_in(client, user)
    assert ('href="/api/docs"' in client.get("/").text) is shown


def test_the_api_docs_are_served_offline(client, world):
    page = client.get("/api/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/static/vendor/swagger-ui-dist-") or s.startswith("/static/")
                           for s in sources), sources
    for source in sources:
        assert client.get(source).status_code == 200, source


def test_one_term_for_the_first_step():
    assert STATE_LABELS[CaseState.REPORTED][0] == "待立案"
    for catalogue in (WEB / "i18n").glob("zh*.json"):
        text = json.loads(catalogue.read_text(encoding="utf-8"))
        for key, value in text.items():
            assert "待受理" not in value and "受理立案" not in value, (catalogue.name, key)
