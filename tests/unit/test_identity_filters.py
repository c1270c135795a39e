"""Filters of the identity layer: realm_groups and users_from_csv."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.nebari.platform.plugins.filter.identity import realm_groups, role_mappings, users_from_csv

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
