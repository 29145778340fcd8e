"""The domain list keeps its promises: every domain's routes are in the scope matrix, every permission a role
carries is declared by exactly one domain, every navigation entry has its texts, every table belongs to a
declared model module — and a new domain needs nothing but its package and one line (the example domain)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.routing import APIRoute

from shiyu import domains
from shiyu.core.db import Base
from shiyu.org.identity.roles import PERMISSIONS
from shiyu.web.i18n import catalogue
from tests.test_scope_matrix import ROUTES

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("domain", domains.DOMAINS, ids=lambda d: d.name)
def test_every_route_of_a_domain_is_in_the_scope_matrix(domain):
    declared = {(c.method, c.path) for c in ROUTES}
    routes = {(method, f"/api/v1{route.path}") for router in domain.api_routers for route in router.routes
              if isinstance(route, APIRoute) for method in route.methods}
    missing = routes - declared
    assert not missing, f"{domain.name}: add these routes to tests/test_scope_matrix.py: {sorted(missing)}"


def test_every_permission_a_role_carries_is_declared_by_one_domain():
    declared = domains.permissions()  # raises on a permission declared twice
    carried = set().union(*PERMISSIONS.values())
    assert carried - declared.keys() == set(), "declare these in their domain's declaration"
    assert all(text.strip() for text in declared.values())


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_navigation_entry_has_its_texts(lang):
    texts = catalogue(lang)
    for domain in domains.DOMAINS:
        for entry in domain.nav:
            assert f"nav.{entry.key}" in texts, (domain.name, entry.key, lang)


def test_every_table_belongs_to_a_declared_model_module():
    declared = {m.__name__ for d in domains.DOMAINS for m in d.models}
    for table in Base.metadata.sorted_tables:
        owners = {mapper.class_.__module__ for mapper in Base.registry.mappers
                  if table in mapper.tables}
        assert owners and owners <= declared, (table.name, owners)


def test_domain_names_are_unique():
    names = [d.name for d in domains.DOMAINS]
    assert len(names) == len(set(names))


@pytest.mark.slow
def test_a_new_domain_is_one_package_and_one_line():
    """tests/example_domain runs with the platform in a process of its own (its table must not join the
    schema the other tests compare with the migrations)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIYU_")}
    run = subprocess.run([sys.executable, "-m", "tests.example_domain.walk"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("ok   ") == 12, run.stdout


# A ``shiyu`` command loads every domain; the text comparison's libraries (a second to import) come only when a
# worker warms up for its first delivery, or when a model is trained, loaded or texts are compared; the Excel
# writer only when a file is exported.
_COMMAND_THEN_WORKER = """
import sys
import shiyu.cli
from shiyu import domains
heavy = sorted(m for m in ("sklearn", "scipy", "openpyxl") if m in sys.modules)
assert not heavy, f"a command imports {heavy}"
domains.warm_up_worker()
assert "sklearn.feature_extraction.text" in sys.modules and "scipy.sparse" in sys.modules
print("ok")
"""


def test_a_command_starts_without_the_comparison_libraries_and_a_worker_loads_them_before_delivering():
    run = subprocess.run([sys.executable, "-c", _COMMAND_THEN_WORKER], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stdout + run.stderr
