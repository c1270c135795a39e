"""The identity layer on the sandbox: realm, groups, default groups, role mappings and users from the inventory;
adding one user with --tags users touches nothing but Keycloak."""

from __future__ import annotations

import pytest

from conftest import standin_components
from keycloak import Admin


@pytest.fixture
def admin(testbed):
    return Admin(testbed["keycloak_url"], testbed["keycloak_password"])


# sign-in through GitHub and an OpenID Connect provider, and users from an LDAP directory: Keycloak keeps them without
# reaching them (the endpoints are given, not discovered; an LDAP server is asked only at login or sync)
FEDERATION = {
    "test_github_secret": "ghs-%s" % "a1b2c3d4e5",
    "test_ldap_secret": "ldap-%s" % "f6g7h8i9",
    "nebari_identity_providers": [
        {"alias": "github", "type": "github", "client_id": "Iv1.nebari", "client_secret": "{{ test_github_secret }}"},
        {"alias": "auth0", "type": "oidc", "display_name": "Auth0", "client_id": "auth0-client",
         "client_secret": "{{ test_github_secret }}", "authorization_url": "https://acme.auth0.com/authorize",
         "token_url": "https://acme.auth0.com/oauth/token", "userinfo_url": "https://acme.auth0.com/userinfo",
         "jwks_url": "https://acme.auth0.com/.well-known/jwks.json", "issuer": "https://acme.auth0.com/",
         "trust_email": True},
    ],
    "nebari_user_federation": [
        {"name": "corp", "connection_url": "ldap://127.0.0.1:1389", "users_dn": "ou=people,dc=example,dc=com",
         "bind_dn": "cn=keycloak,dc=example,dc=com", "bind_credential": "{{ test_ldap_secret }}",
         "full_sync_period": 86400},
    ],
}


def test_identity_layer_builds_the_realm_from_the_inventory(playbook, sandbox_vars, admin):
    realm = sandbox_vars["keycloak_realm_name"]
    sandbox_vars = dict(sandbox_vars, **FEDERATION)
    run = playbook("playbooks/identity.yml", extra_vars=sandbox_vars)
    assert run.rc == 0, run.failure_messages()

    providers = {p["alias"]: p for p in admin.call("GET", "/%s/identity-provider/instances" % realm)}
    assert sorted(providers) == ["auth0", "github"]
    assert providers["github"]["providerId"] == "github" and providers["github"]["config"]["clientId"] == "Iv1.nebari"
    auth0 = providers["auth0"]
    assert (auth0["providerId"], auth0["displayName"], auth0["trustEmail"]) == ("oidc", "Auth0", True)
    assert auth0["config"]["tokenUrl"] == "https://acme.auth0.com/oauth/token"
    assert auth0["config"]["defaultScope"] == "openid email profile"
    ldap = admin.call("GET", "/%s/components?type=org.keycloak.storage.UserStorageProvider&name=corp" % realm)[0]
    assert ldap["providerId"] == "ldap" and ldap["config"]["usersDn"] == ["ou=people,dc=example,dc=com"]
    assert ldap["config"]["usernameLDAPAttribute"] == ["uid"] and ldap["config"]["fullSyncPeriod"] == ["86400"]
    # one the inventory does not name stays as it is (nothing is removed unless the inventory says so)
    admin.call("POST", "/%s/identity-provider/instances" % realm,
               {"alias": "by-hand", "providerId": "gitlab", "config": {"clientId": "x", "clientSecret": "y"}})

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
    assert sorted(m["name"] for m in hub["protocolMappers"]) == ["groups", "jupyterlab_profiles", "roles"]
    mapped = admin.call("GET", "/%s/groups/%s/role-mappings/clients/%s" % (realm, groups["ml-team"]["id"], hub["id"]))
    assert sorted(r["name"] for r in mapped) == ["allow-group-directory-creation-role", "dask_gateway_developer",
                                                 "jupyterhub_developer"]  # ml-team has developer's roles
    secret = admin.call("GET", "/%s/clients/%s/client-secret" % (realm, hub["id"]))["value"]

    again = playbook("playbooks/identity.yml", extra_vars=sandbox_vars, args=["-vvv", "--diff"],
                     env={"ANSIBLE_STDOUT_CALLBACK": "default"}, raw=True)
    assert again.rc == 0 and "changed=0" in again.output, again.output[-3000:]
    assert admin.call("GET", "/%s/clients/%s/client-secret" % (realm, hub["id"]))["value"] == secret  # stable
    for value in (secret, admin.password, FEDERATION["test_github_secret"], FEDERATION["test_ldap_secret"]):
        assert value not in again.output
    assert "by-hand" in [p["alias"] for p in admin.call("GET", "/%s/identity-provider/instances" % realm)]


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
