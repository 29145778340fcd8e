"""Keep them closed (issue 11): a corpus of bad input — NUL characters, integers past every column range,
negative numbers, odd Unicode (lone surrogates, direction overrides), wrong types, nulls, long strings,
deeply nested, oversized and broken bodies — sent to every operation of the OpenAPI document, by a user of
every role and anonymously. Not one answer may be a server error."""

from __future__ import annotations

from collections import Counter

import pytest
from fastapi.testclient import TestClient

from shiyu.app import create_app
from shiyu.org.identity.roles import DEPARTMENT_ROLES, Role
from tests.factories import add_user, login, make_world
from tests.security.openapi_corpus import Document

pytestmark = pytest.mark.slow


def _everyone(s) -> list[str]:
    world = make_world(s)
    names = []
    for role in Role:
        target = world.departments["a"] if role in DEPARTMENT_ROLES else (
            world.city if role in (Role.ADMIN, Role.AUDITOR, Role.ANALYST) else world.community_a)
        add_user(s, f"corpus_{role.value}", world.community_a, [(role.value, target)])
        names.append(f"corpus_{role.value}")
    s.commit()
    return names


def test_no_bad_input_answers_a_server_error(settings, system_session) -> None:
    names = _everyone(system_session)
    app = create_app(settings.model_copy(update={"logins_per_address": 10_000,
                                                  "anonymous_reports_per_address": 10_000}))
    failures, statuses, sent = [], Counter(), 0
    with TestClient(app, raise_server_exceptions=False) as client:
        doc = Document(client.get("/api/v1/openapi.json").json())
        callers = {name: login(client, name) for name in names} | {"anonymous": {}}
        operations = list(doc.operations())
        for who, headers in callers.items():
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
    print(f"\nbad-input corpus: {sent} requests, {len(operations)} operations × {len(callers)} callers; "
          f"answers {dict(sorted(statuses.items()))}; {len(failures)} ≥ 500")
    assert not failures, "\n".join(failures[:40])
