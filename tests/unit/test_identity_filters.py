"""Filters of the identity layer: realm_groups, client_role_groups, realm_default_groups and users_from_csv."""

import os

import pytest
from ansible.errors import AnsibleFilterError

import yaml

from ansible_collections.nebari.platform.plugins.filter.identity import (
    client_role_groups, realm_default_groups, realm_groups, role_mappings, users_from_csv)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

BUILTIN = {
    "superadmin": {"realm-management": ["realm-admin"], "conda_store": ["conda_store_superadmin"]},
    "admin": {"realm-management": ["query-users", "query-groups", "manage-users"], "jupyterhub": ["jupyterhub_admin"]},
    "developer": {"jupyterhub": ["jupyterhub_developer"]},
    "users": {},
}


def test_custom_groups_get_the_grants_of_the_roles_they_name():
    groups = realm_groups([{"name": "ml-team", "roles": ["developer"]},
                           {"name": "ops", "roles": ["admin", "superadmin"]}], BUILTIN)
    assert [g["name"] for g in groups] == ["superadmin", "admin", "developer", "users", "ml-team", "ops"]
    assert groups[4] == {"name": "ml-team", "grants": {"jupyterhub": ["jupyterhub_developer"]}}
    assert groups[5]["grants"] == {"realm-management": ["manage-users", "query-groups", "query-users", "realm-admin"],
                                   "conda_store": ["conda_store_superadmin"], "jupyterhub": ["jupyterhub_admin"]}
    mappings = role_mappings(groups)
    assert {"group": "ml-team", "client_id": "jupyterhub", "roles": ["jupyterhub_developer"]} in mappings
    assert not [m for m in mappings if m["group"] == "users"]


def test_an_unknown_role_is_refused():
    with pytest.raises(AnsibleFilterError, match="group x: unknown role 'wizard'"):
        realm_groups([{"name": "x", "roles": ["wizard"]}], BUILTIN)


def test_users_from_csv():
    text = ("username,email,first_name,last_name,groups,enabled\n"
            "alia,alia@example.com,Alia,,analyst;ml-team,\n"
            "\n"
            "blake,blake@example.com,,,developer,false\n")
    assert users_from_csv(text) == [
        {"username": "alia", "email": "alia@example.com", "first_name": "Alia", "groups": ["analyst", "ml-team"]},
        {"username": "blake", "email": "blake@example.com", "groups": ["developer"], "enabled": False},
    ]


def test_users_from_csv_refuses_unknown_columns_and_rows_without_username():
    with pytest.raises(AnsibleFilterError, match="unknown: mail"):
        users_from_csv("username,mail\nalia,a@example.com\n")
    with pytest.raises(AnsibleFilterError, match="line 3 has no username"):
        users_from_csv("username,email\nalia,a@example.com\n,b@example.com\n")


def test_default_groups_the_realm_already_has_are_given_back_as_keycloak_lists_them():
    """Issue 23 item 17: Keycloak answers [/users, /analyst] for [analyst, users]: no change, check mode or not."""
    assert realm_default_groups(["analyst", "users"], ["/users", "/analyst"]) == ["/users", "/analyst"]
    assert realm_default_groups(["/analyst", "users", "users"], ["/users", "/analyst"]) == ["/users", "/analyst"]


def test_default_groups_that_differ_or_a_new_realm_get_the_wanted_groups_as_paths():
    assert realm_default_groups(["users", "analyst"], ["/users"]) == ["/analyst", "/users"]
    assert realm_default_groups(["users"], ["/users", "/analyst"]) == ["/users"]
    assert realm_default_groups(["users", "parent/child"], None) == ["/parent/child", "/users"]
    assert realm_default_groups([], []) == []


def test_the_realm_role_gives_its_module_the_default_groups_and_the_groups_through_the_filter():
    """keycloak_realm_config compares the default groups as a set of paths itself (the filter is for
    community.general.keycloak_realm, which compares lists as they are)."""
    with open(os.path.join(ROOT, "roles", "keycloak_realm", "tasks", "main.yml")) as f:
        (task,) = [t for t in yaml.safe_load(f) if "nebari.platform.keycloak_realm_config" in t]
    options = task["nebari.platform.keycloak_realm_config"]
    assert options["default_groups"] == "{{ keycloak_realm_default_groups }}"
    assert "nebari.platform.realm_groups(keycloak_realm_builtin_groups)" in options["groups"]
    assert task["no_log"] is True  # its result carries the clients' secrets


def test_the_groups_holding_a_clients_roles_are_the_built_in_ones_that_grant_them_and_their_custom_groups():
    """JupyterHub's allowed_groups: the groups granting jupyterhub_developer or jupyterhub_admin, superadmin too."""
    custom = [{"name": "ml-team", "roles": ["developer"]}, {"name": "viewers", "roles": ["users"]},
              {"name": "ops", "roles": ["superadmin"]}, {"name": "plain"}]
    roles = ["jupyterhub_developer", "jupyterhub_admin"]
    assert client_role_groups(custom, BUILTIN, "jupyterhub", roles, ["superadmin"]) == [
        "/superadmin", "/admin", "/developer", "/ml-team", "/ops"]
    assert client_role_groups(custom, BUILTIN, "jupyterhub", ["jupyterhub_admin"]) == ["/admin"]
    assert client_role_groups([], BUILTIN, "grafana", roles) == []


def test_the_stack_gives_the_hub_the_groups_of_the_shipped_grants():
    """roles/nebari/vars/main.yml's nebari_builtin_groups (the identity layer's too): admin, developer, analyst grant
    a jupyterhub role; superadmin is let in as the hub's admins; users is not."""
    with open(os.path.join(ROOT, "roles", "nebari", "vars", "main.yml")) as f:
        builtin = yaml.safe_load(f)["nebari_builtin_groups"]
    with open(os.path.join(ROOT, "roles", "keycloak_realm", "vars", "main.yml")) as f:
        assert yaml.safe_load(f)["keycloak_realm_builtin_groups"] == "{{ nebari_builtin_groups }}"
    with open(os.path.join(ROOT, "roles", "nebari_stack", "vars", "main.yml")) as f:
        stack = yaml.safe_load(f)
    assert stack["nebari_stack_hub_admin_groups"] == ["/admin", "/superadmin"]
    expression = stack["nebari_stack_hub_allowed_groups"]
    assert "client_role_groups(nebari_builtin_groups, 'jupyterhub'" in expression
    assert "['jupyterhub_developer', 'jupyterhub_admin']" in expression and "['superadmin']" in expression
    assert client_role_groups([{"name": "ml-team", "roles": ["analyst"]}], builtin, "jupyterhub",
                              ["jupyterhub_developer", "jupyterhub_admin"], ["superadmin"]) == [
        "/superadmin", "/admin", "/developer", "/analyst", "/ml-team"]
