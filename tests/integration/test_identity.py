"""The identity layer on the sandbox: realm, groups, default groups, role mappings and users from the inventory;
adding one user with --tags users touches nothing but Keycloak."""

from __future__ import annotations

import pytest

from conftest import standin_components
from keycloak import Admin


@pytest.fixture
def admin(testbed):
    return Admin(testbed["keycloak_url"], testbed["keycloak_password"])


def test_identity_layer_builds_the_realm_from_the_inventory(playbook, sandbox_vars, admin):
    realm = sandbox_vars["keycloak_realm_name"]
    run = playbook("playbooks/identity.yml", extra_vars=sandbox_vars)
    assert run.rc == 0, run.failure_messages()

    groups = {g["name"]: g for g in admin.call("GET", "/%s/groups?briefRepresentation=false" % realm)}
    assert set(groups) == {"superadmin", "admin", "developer", "analyst", "users", "ml-team"}
    assert sorted(g["path"] for g in admin.call("GET", "/%s/default-groups" % realm)) == ["/analyst", "/users"]
    client = admin.call("GET", "/%s/clients?clientId=realm-management" % realm)[0]["id"]
    roles = admin.call("GET", "/%s/groups/%s/role-mappings/clients/%s" % (realm, groups["admin"]["id"], client))
    assert sorted(r["name"] for r in roles) == ["manage-users", "query-groups", "query-users"]
    profile = admin.call("GET", "/%s/users/profile" % realm)
    assert profile["unmanagedAttributePolicy"] == "ADMIN_EDIT"

    alia = admin.user(realm, "alia")
    assert alia["groups"] == ["/analyst", "/ml-team"]  # exact: not also in the default group /users
    assert admin.user(realm, "blake")["enabled"] is False

    clients = {c["clientId"]: c for c in admin.call("GET", "/%s/clients" % realm)}
    assert {"jupyterhub", "conda_store", "argo-server-sso", "grafana", "forwardauth"} <= set(clients)
    hub = clients["jupyterhub"]
    assert hub["redirectUris"] == ["https://nebari.sandbox.localhost/hub/oauth_callback"]
    assert sorted(m["name"] for m in hub["protocolMappers"]) == ["groups", "roles"]
    mapped = admin.call("GET", "/%s/groups/%s/role-mappings/clients/%s" % (realm, groups["ml-team"]["id"], hub["id"]))
    assert sorted(r["name"] for r in mapped) == ["allow-group-directory-creation-role", "dask_gateway_developer",
                                                 "jupyterhub_developer"]  # ml-team has developer's roles
    secret = admin.call("GET", "/%s/clients/%s/client-secret" % (realm, hub["id"]))["value"]

    again = playbook("playbooks/identity.yml", extra_vars=sandbox_vars, args=["-vvv", "--diff"],
                     env={"ANSIBLE_STDOUT_CALLBACK": "default"}, raw=True)
    assert again.rc == 0 and "changed=0" in again.output, again.output[-3000:]
    assert admin.call("GET", "/%s/clients/%s/client-secret" % (realm, hub["id"]))["value"] == secret  # stable
    for value in (secret, admin.password):
        assert value not in again.output


def test_adding_a_user_touches_nothing_but_keycloak(playbook, sandbox_vars, admin):
    realm = sandbox_vars["keycloak_realm_name"]
    # the whole platform first (every layer; the stand-in chart for the releases, whose real charts test_site runs)
    platform = dict(sandbox_vars, nebari_components=standin_components(sandbox_vars["nebari_namespace"]))
    assert playbook(extra_vars=platform).rc == 0
    users = [{"username": "alia", "email": "alia@example.com", "first_name": "Alia", "groups": ["analyst", "ml-team"]},
             {"username": "blake", "email": "blake@example.com", "groups": ["developer"], "enabled": False},
             {"username": "dana", "email": "dana@example.com", "groups": ["developer"]}]
    run = playbook(extra_vars=dict(sandbox_vars, nebari_users=users), args=["--tags", "users"])
    assert run.rc == 0, run.failure_messages()
    assert run.changed_tasks() == ["nebari.platform.nebari_users : Reconcile Nebari's users in Keycloak"]
    # what ran besides preflight and the roles' own argument checks (always run, read only)
    ran = [name for name, dummy in run.results() if "Validating arguments against arg spec" not in name]
    words = ("helm", "Helm", "Install or upgrade", "Realm ", "Groups", "kubeconfig", "nodes")
    assert not any(word in name for name in ran for word in words)
    assert admin.user(realm, "dana")["groups"] == ["/developer"]
