"""The navigation marks exactly one entry as the current page: the one whose address is the longest the path
starts with, so a page under another entry's address (辖区案件 under 案件办理, 边界变更审批 under 区划与网格,
信息变更审核 under 基础信息) is not marked twice."""

from __future__ import annotations

import re

import pytest

from tests.factories import populated
from tests.web.test_pages import log_in

CURRENT = re.compile(r'<a href="([^"]+)" aria-current="page">')


@pytest.mark.parametrize(("user", "path", "entry"), [
    ("operator_a", "/desk/area", "/desk/area"),
    ("operator_a", "/desk", "/desk"),
    ("operator_a", "/registry/changes", "/registry/changes"),
    ("operator_a", "/registry", "/registry"),
    ("admin", "/admin/areas/proposals", "/admin/areas/proposals"),
    ("admin", "/admin/areas", "/admin/areas"),
    ("admin", "/", "/"),
])
def test_one_entry_is_current(client, system_session, user, path, entry):
    populated(system_session)
    log_in(client, user)
    page = client.get(path)
    assert page.status_code == 200, page.text[:300]
    sidebar = page.text.split('<nav id="sidebar"', 1)[1].split("</nav>", 1)[0]
    assert CURRENT.findall(sidebar) == [entry]
