"""Keep them closed (issue 11): a corpus of bad input — NUL characters, integers past every column range,
negative numbers, odd Unicode (lone surrogates, direction overrides), wrong types, nulls, long strings,
deeply nested, oversized and broken bodies — sent to every operation of the OpenAPI document, by a user of
every role and anonymously. Not one answer may be a server error.

Every caller on PostgreSQL, the production database, where bad input also meets the stricter types (a NUL
character in text, the integer ranges); on SQLite the callers whose rights reach the most different code
(the administrator, a grid worker, a department's handler, a citizen, anonymous) — the other roles' runs there
repeated those code paths and cost two minutes of every suite run."""

from __future__ import annotations

from collections import Counter

import pytest
from fastapi.testclient import TestClient

from shiyu.app import create_app
from shiyu.org.identity.roles import DEPARTMENT_ROLES, Role
from tests.conftest import BACKENDS
from tests.factories import add_user, login, make_world
from tests.security.openapi_corpus import Document

pytestmark = [pytest.mark.slow, pytest.mark.spread]
CALLERS = [role.value for role in Role] + ["anonymous"]
SQLITE_CALLERS = ("admin", "grid_worker", "department_handler", "citizen", "anonymous")
CASES = [(backend, who) for backend in BACKENDS for who in CALLERS
         if backend == "postgresql" or who in SQLITE_CALLERS]


def _caller(s, who: str) -> str | None:
    """The world, and the user of role ``who`` (None: anonymous) in community A — or of a department or the
    whole city, where the role belongs there."""
    world = make_world(s)
    if who != "anonymous":
        role = Role(who)
        target = world.departments["a"] if role in DEPARTMENT_ROLES else (
            world.city if role in (Role.ADMIN, Role.AUDITOR, Role.ANALYST) else world.community_a)
        add_user(s, f"corpus_{who}", world.community_a, [(who, target)])
    s.commit()
    return None if who == "anonymous" else f"corpus_{who}"


@pytest.mark.parametrize(("db_url", "who"), CASES, indirect=["db_url"])
def test_no_bad_input_answers_a_server_error(settings, system_session, who: str) -> None:
    """One caller per case, so that the workers share the corpus (about 14 s a caller on PostgreSQL)."""
    name = _caller(system_session, who)
    app = create_app(settings.model_copy(update={"logins_per_address": 10_000,
                                                  "anonymous_reports_per_address": 10_000}))
    failures, statuses, sent = [], Counter(), 0
    with TestClient(app, raise_server_exceptions=False) as client:
        doc = Document(client.get("/api/v1/openapi.json").json())
        headers = login(client, name) if name else {}
        operations = list(doc.operations())
        for method, path, operation in operations:
            if path == "/api/v1/auth/logout":
                continue  # would end this caller's token for the rest of the run
            for probe in doc.probes(method, path, operation):
                r = client.request(probe.method, probe.url, headers=headers | probe.headers,
                                   content=probe.content(), files=probe.files)
                sent += 1
                statuses[r.status_code] += 1
                if r.status_code >= 500:
                    failures.append(f"{who} {probe.method} {probe.url[:120]} [{probe.kind}] → "
                                    f"{r.status_code} {r.text[:160]}")
    app.state.engine.dispose()
    print(f"\nbad-input corpus as {who}: {sent} requests, {len(operations)} operations; "
          f"answers {dict(sorted(statuses.items()))}; {len(failures)} ≥ 500")
    assert not failures, "\n".join(failures[:40])
