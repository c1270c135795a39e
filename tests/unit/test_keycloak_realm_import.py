"""keycloak_realm_import's plan: what a realm lacks of its export, and the users that get their password back."""

from __future__ import annotations

from ansible_collections.nebari.platform.plugins.module_utils.keycloak import realm_import

HASHED = {"type": "password", "id": "c1", "secretData": '{"value":"x","salt":"y"}',
          "credentialData": '{"hashIterations":210000,"algorithm":"pbkdf2-sha512"}'}
EXPORT = {
    "realm": "nebari",
    "roles": {"realm": [{"name": "offline_access"}, {"name": "auditor"}],
              "client": {"jupyterhub": [{"name": "jupyterhub_admin"}, {"name": "dashboard"}]}},
    "groups": [{"name": "analyst"}, {"name": "ml-team", "subGroups": [{"name": "vision"}]}],
    "clients": [{"clientId": "jupyterhub"}, {"clientId": "reports", "secret": "s3cr3t"}],
    "identityProviders": [{"alias": "github"}],
    "identityProviderMappers": [{"name": "team", "identityProviderAlias": "github"}],
    "users": [
        {"id": "u1", "username": "alia", "credentials": [dict(HASHED)], "groups": ["/analyst"],
         "federatedIdentities": [{"identityProvider": "github", "userId": "42", "userName": "alia-gh"}]},
        {"id": "u2", "username": "vera", "credentials": [dict(HASHED, id="c2")], "groups": ["/ml-team"]},
        {"id": "u3", "username": "blake", "credentials": [dict(HASHED, id="c3")]},
        {"id": "u4", "username": "service-account-reports", "serviceAccountClientId": "reports"},
        {"id": "u5", "username": "ldap-user", "federationLink": "ldap-1"},
    ],
}
LIVE = {
    "users": {"alia": "L1", "blake": "L3"}, "groups": {"analyst"}, "clients": {"jupyterhub": "C1"},
    "identityProviders": set(), "roles": {"offline_access"}, "client_roles": {"jupyterhub": {"jupyterhub_admin"}},
    "held": {"alia": {"password": False, "links": set()}, "blake": {"password": True, "links": set()}},
}


def test_plan_adds_what_is_missing_and_restores_passwords_of_users_without_one():
    missing, repairs, lines = realm_import.plan(EXPORT, LIVE)
    assert missing["roles"] == {"realm": [{"name": "auditor"}], "client": {"jupyterhub": [{"name": "dashboard"}]}}
    assert [g["name"] for g in missing["groups"]] == ["ml-team"]
    assert [c["clientId"] for c in missing["clients"]] == ["reports"]
    assert [i["alias"] for i in missing["identityProviders"]] == ["github"]
    assert missing["identityProviderMappers"] == EXPORT["identityProviderMappers"]
    # vera is new (with her hash, without the export's ids); service accounts and LDAP users are not imported
    assert [u["username"] for u in missing["users"]] == ["vera"]
    assert "id" not in missing["users"][0] and "id" not in missing["users"][0]["credentials"][0]
    assert missing["users"][0]["credentials"][0]["secretData"] == HASHED["secretData"]
    # alia exists without a password: she gets hers back, and her GitHub link; blake keeps his newer password
    assert repairs == [{"username": "alia", "id": "L1", "credentials": [{k: v for k, v in HASHED.items() if k != "id"}],
                        "links": EXPORT["users"][0]["federatedIdentities"]}]
    assert "user alia: password restored" in lines and "user vera: added with its password" in lines
    assert not any("blake" in line or "s3cr3t" in line for line in lines)
    assert realm_import.counts(missing, repairs) == {"roles": 2, "groups": 1, "clients": 1, "identity_providers": 1,
                                                     "users": 1, "passwords_restored": 1, "links_restored": 1}


def test_a_realm_holding_everything_needs_nothing():
    live = {"users": {"alia": "L1", "vera": "L2", "blake": "L3"}, "groups": {"analyst", "ml-team"},
            "clients": {"jupyterhub": "C1", "reports": "C2"}, "identityProviders": {"github"},
            "roles": {"offline_access", "auditor"}, "client_roles": {"jupyterhub": {"jupyterhub_admin", "dashboard"}},
            "held": {name: {"password": True, "links": {"github"}} for name in ("alia", "vera", "blake")}}
    assert realm_import.plan(EXPORT, live) == ({}, [], [])


def test_parts_limit_the_restore():
    missing, repairs, lines = realm_import.plan(EXPORT, LIVE, parts=["groups"])
    assert list(missing) == ["groups"] and repairs == [] and lines == ["group ml-team: added"]


def test_validate_names_every_problem():
    errors = realm_import.validate("nebari", {"realm": "other", "users": [{"email": "x@example.com"}],
                                              "clients": [{}]}, ["users", "flows"])
    assert errors == ["export: it holds realm 'other', not 'nebari' (restore it into the realm it came from)",
                      "parts: 'flows' is not one of roles, groups, clients, identityProviders, users",
                      "export.users[0]: no username", "export.clients[0]: no clientId"]
    assert realm_import.validate("nebari", [], []) == [
        "export: not a realm as Keycloak exports it (a mapping with realm, users, groups, ...)"]
