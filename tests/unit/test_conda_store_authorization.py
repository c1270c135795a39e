"""Nebari's conda-store authorization (charts/conda-store/files/keycloak_authorization.py): the role bindings the
chart's default rules give for a user's Keycloak groups and roles. Exec'd as conda-store's config runs it, with
conda-store and traitlets stood in for (the real ones: tests/integration/test_conda_store_chart.py)."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
import yaml

CHART = Path(__file__).parents[2] / "charts" / "conda-store"
RULES = yaml.safe_load((CHART / "values.yaml").read_text())["auth"]["keycloak"]["roleBindings"]
with open(Path(__file__).parents[2] / "roles" / "nebari" / "vars" / "main.yml") as catalog:
    COLLECTION_RULES = yaml.safe_load(catalog)["nebari_conda_store_role_bindings_defaults"]


@pytest.fixture(name="bindings")
def fixture_bindings(monkeypatch):
    auth = types.SimpleNamespace(GenericOAuthAuthentication=object)
    modules = {"conda_store_server": types.SimpleNamespace(api=None),
               "conda_store_server.server": types.SimpleNamespace(schema=None, auth=auth),
               "conda_store_server.server.auth": auth,
               "traitlets": types.SimpleNamespace(Dict=lambda **kw: {}, Unicode=lambda *a, **kw: "")}
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    source = CHART / "files" / "keycloak_authorization.py"
    scope = {}
    exec(compile(source.read_text(), str(source), "exec"), scope)  # noqa: S102 (as conda-store loads its config)
    return scope["nebari_role_bindings"]


def test_the_chart_and_the_collection_have_the_same_defaults():
    assert RULES == COLLECTION_RULES


def test_an_analyst_administers_her_namespace_builds_in_her_groups_and_reads_the_shared_ones(bindings):
    got, skipped = bindings("alia", ["/analyst", "/ml-team"], ["conda_store_developer"], RULES)
    assert got == {"alia/*": ["admin"], "global/*": ["viewer"], "nebari-git/*": ["viewer"],
                   "analyst/*": ["developer"], "ml-team/*": ["developer"]}
    assert skipped == []


def test_admin_administers_every_namespace_and_roles_add_up(bindings):
    got, dummy = bindings("root", ["/admin"], ["conda_store_admin", "conda_store_viewer"], RULES)
    assert got["*/*"] == ["admin"] and got["admin/*"] == ["viewer"]
    both, dummy = bindings("dana", ["/developer"], ["conda_store_viewer", "conda_store_developer"], RULES)
    assert both["developer/*"] == ["developer", "viewer"]


def test_a_user_without_a_role_gets_only_the_rules_of_all_users(bindings):
    got, dummy = bindings("eve", ["/users"], [], RULES)
    assert got == {"eve/*": ["admin"], "global/*": ["viewer"], "nebari-git/*": ["viewer"]}


def test_names_conda_store_cannot_use_bind_nothing_and_are_reported(bindings):
    got, skipped = bindings("alia", ["/projects/x", "/ml team", "/ok"], ["conda_store_developer"], RULES)
    assert "ok/*" in got and not [p for p in got if "projects" in p or " " in p]
    assert skipped == ["projects/x", "ml team"]
    odd, skipped = bindings("a b", [], [], RULES)
    assert "a b/*" not in odd and skipped == ["a b"]


def test_the_inventory_replaces_a_rule(bindings):
    rules = dict(RULES, conda_store_developer={"{group}/*": ["viewer"]}, all_users={"shared/*": ["viewer"]})
    got, dummy = bindings("alia", ["/ml-team"], ["conda_store_developer"], rules)
    assert got == {"shared/*": ["viewer"], "ml-team/*": ["viewer"]}
