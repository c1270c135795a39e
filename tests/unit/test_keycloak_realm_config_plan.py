"""The pure plan step of keycloak_realm_config: the inventory's realm shape + what Keycloak holds -> actions, secrets
and the diff; and the options' checks, made before any request."""

import copy
import json

from ansible_collections.nebari.platform.plugins.module_utils.keycloak.realm_config import (
    desired_state, mappers, plan, validate)

HELD = "held-secret-0123456789abcdefghijk"
GIVEN = "given-secret-0123456789abcdefghij"
NEW = "new-secret-0123456789abcdefghijkl"

PARAMS = {
    "realm": "nebari", "display_name": "Nebari", "enabled": True, "ssl_required": "external",
    "unmanaged_attribute_policy": "ADMIN_EDIT",
    "groups": [
        {"name": "admin", "grants": {"realm-management": ["query-users", "manage-users"],
                                     "jupyterhub": ["jupyterhub_admin"]}},
        {"name": "analyst", "grants": {"jupyterhub": ["jupyterhub_developer"]}},
        {"name": "users", "grants": {}},
    ],
    "default_groups": ["analyst", "users"],
    "clients": [{"client_id": "jupyterhub", "name": None,
                 "redirect_uris": ["https://nebari.example.com/hub/oauth_callback"],
                 "roles": ["jupyterhub_admin", "jupyterhub_developer"]}],
    "client_secrets": {},
    "workers": 4,
}


def params(**changes):
    result = copy.deepcopy(PARAMS)
    result.update(changes)
    return result


def converged(secret=HELD):
    """What Keycloak holds once the realm is as PARAMS says (with what Keycloak adds of its own)."""
    hub_mappers = [dict(m, id="mapper-" + m["name"], consentRequired=False) for m in mappers("jupyterhub")]
    return {
        "settings": {"realm": "nebari", "displayName": "Nebari", "enabled": True, "sslRequired": "external",
                     "defaultGroups": ["/users", "/analyst"]},  # Keycloak's own order
        "policy": "ADMIN_EDIT",
        "groups": {"/admin": "g-admin", "/analyst": "g-analyst", "/users": "g-users"},
        "default_groups": ["/users", "/analyst"],
        "clients": {
            "jupyterhub": {"id": "c-hub", "clientId": "jupyterhub", "name": "jupyterhub", "enabled": True,
                           "protocol": "openid-connect", "publicClient": False,
                           "clientAuthenticatorType": "client-secret", "standardFlowEnabled": True,
                           "directAccessGrantsEnabled": False, "secret": secret,
                           "redirectUris": ["https://nebari.example.com/hub/oauth_callback"],
                           "webOrigins": ["https://nebari.example.com"], "protocolMappers": hub_mappers},
            "realm-management": {"id": "c-rm", "clientId": "realm-management"},
        },
        "roles": {"jupyterhub": {"jupyterhub_admin": {"id": "r1"}, "jupyterhub_developer": {"id": "r2"}},
                  "realm-management": {"query-users": {"id": "r3"}, "manage-users": {"id": "r4"},
                                       "realm-admin": {"id": "r5"}}},
        "mappings": {"/admin": {"realm-management": {"query-users", "manage-users"}, "jupyterhub": {"jupyterhub_admin"}},
                     "/analyst": {"jupyterhub": {"jupyterhub_developer"}}},
    }


def run(state, **changes):
    return plan(desired_state(params(**changes)), state, new_secret=lambda: NEW)


def kinds(outcome):
    return [(a.kind, a["change"]) for a in outcome["actions"]]


def test_a_converged_realm_is_no_change_whatever_order_keycloak_answers_in():
    outcome = run(converged())
    assert outcome["actions"] == [] and outcome["errors"] == []
    assert outcome["secrets"] == {"jupyterhub": HELD} and outcome["secret_sources"] == {"jupyterhub": "kept"}
    assert outcome["before"] == outcome["after"]


def test_a_missing_realm_is_created_with_everything_in_it():
    outcome = run(None)
    assert kinds(outcome) == [("realm", "create"), ("policy", "update"), ("group", "create"), ("group", "create"),
                              ("group", "create"), ("default_groups", "update"), ("client", "create"),
                              ("role", "create"), ("mapping", "add"), ("mapping", "add"), ("mapping", "add")]
    realm, policy = outcome["actions"][0], outcome["actions"][1]
    assert realm["representation"] == {"id": "nebari", "realm": "nebari", "displayName": "Nebari", "enabled": True,
                                       "sslRequired": "external"}
    assert policy["previous"] == "DISABLED" and policy["policy"] == "ADMIN_EDIT"
    client = outcome["actions"][6]["representation"]
    assert client["secret"] == NEW and client["publicClient"] is False
    # jupyterhub's claims: groups, roles and the users' jupyterlab_profiles attribute
    assert [m["name"] for m in client["protocolMappers"]] == ["groups", "roles", "jupyterlab_profiles"]
    # realm-management comes with the realm: its roles are not checked before it exists
    assert outcome["errors"] == [] and outcome["before"]["realm"] is None


def test_settings_that_differ_are_updated_and_only_those():
    state = converged()
    state["settings"].update(displayName="Old", sslRequired="none")
    (action,) = run(state)["actions"]
    assert action.kind == "realm" and action["fields"] == {"displayName": "Nebari", "sslRequired": "external"}
    assert "displayName" not in run(state, display_name=None)["actions"][0]["fields"]  # not given: left alone


def test_groups_are_created_when_missing_and_others_are_left_alone():
    state = converged()
    state["groups"]["/hand-made"] = "g-hand"
    outcome = run(state, groups=PARAMS["groups"] + [{"name": "ml-team", "grants": {"jupyterhub": ["jupyterhub_developer"]}}])
    assert kinds(outcome) == [("group", "create"), ("mapping", "add")]
    assert outcome["actions"][0]["path"] == "/ml-team"
    assert outcome["actions"][1]["roles"] == ["jupyterhub_developer"]


def test_default_groups_are_set_exactly_and_must_exist():
    state = converged()
    state["default_groups"] = ["/users", "/admin"]
    (action,) = run(state)["actions"]
    assert action["add"] == ["/analyst"] and action["remove"] == ["/admin"]
    assert run(converged(), default_groups=None)["actions"] == []  # not given: left as they are
    assert run(converged(), default_groups=["/analyst", "users", "users"])["actions"] == []
    outcome = run(converged(), default_groups=["analyst", "wizards"])
    assert outcome["errors"] == ["default_groups: /wizards is not in the realm nor in groups"]


def test_client_settings_are_exact_and_redirect_uris_compare_as_a_set():
    state = converged()
    hub = state["clients"]["jupyterhub"]
    hub.update(directAccessGrantsEnabled=True, redirectUris=["https://old.example.com/cb"])
    (action,) = run(state)["actions"]
    assert action.kind == "client" and action["change"] == "update"
    assert action["fields"] == {"directAccessGrantsEnabled": False,
                                "redirectUris": ["https://nebari.example.com/hub/oauth_callback"]}
    hub.update(directAccessGrantsEnabled=False, redirectUris=["b", "a"])
    assert run(state, clients=[dict(PARAMS["clients"][0], redirect_uris=["a", "b"])])["actions"] == []


def test_secret_given_wins_held_stays_else_a_new_one():
    given = run(converged(), client_secrets={"jupyterhub": GIVEN})
    (action,) = given["actions"]
    assert action["fields"] == {"secret": GIVEN} and given["secret_sources"] == {"jupyterhub": "given"}
    assert run(converged(GIVEN), client_secrets={"jupyterhub": GIVEN})["actions"] == []
    kept = run(converged())
    assert kept["secrets"] == {"jupyterhub": HELD} and kept["actions"] == []
    state = converged(secret=None)
    fresh = run(state)
    assert fresh["secrets"] == {"jupyterhub": NEW} and fresh["actions"][0]["fields"] == {"secret": NEW}


def test_no_secret_ever_reaches_the_diff():
    for state, secrets in ((None, {"jupyterhub": GIVEN}), (converged(), {"jupyterhub": GIVEN}), (converged(), {}),
                           (converged(secret=None), {})):
        outcome = run(state, client_secrets=secrets)
        text = json.dumps([outcome["before"], outcome["after"]])
        for secret in (HELD, GIVEN, NEW):
            assert secret not in text
    outcome = run(converged(), client_secrets={"jupyterhub": GIVEN})
    assert outcome["before"]["clients"]["jupyterhub"]["secret"] == "********"
    assert outcome["after"]["clients"]["jupyterhub"]["secret"] == "******** (the one given)"


def test_mappers_compare_on_what_the_module_sets_and_keep_what_keycloak_added():
    state = converged()
    groups_mapper = state["clients"]["jupyterhub"]["protocolMappers"][0]
    groups_mapper["config"]["lightweight.claim"] = "false"  # Keycloak's own addition
    assert run(state)["actions"] == []
    groups_mapper["config"]["full.path"] = "false"
    (action,) = run(state)["actions"]
    assert action.kind == "mapper" and action["change"] == "update" and action["id"] == "mapper-groups"
    assert action["representation"]["config"]["full.path"] == "true"
    assert action["representation"]["config"]["lightweight.claim"] == "false"
    state["clients"]["jupyterhub"]["protocolMappers"] = [groups_mapper]
    groups_mapper["config"]["full.path"] = "true"
    actions = run(state)["actions"]
    assert [(a["change"], a["name"]) for a in actions] == [("create", "roles"), ("create", "jupyterlab_profiles")]


def test_extra_roles_mappers_and_mappings_stay():
    state = converged()
    state["roles"]["jupyterhub"]["hand-made"] = {"id": "r9"}
    state["mappings"]["/admin"]["jupyterhub"].add("hand-made")
    state["clients"]["jupyterhub"]["protocolMappers"].append({"id": "m9", "name": "audience",
                                                              "protocolMapper": "oidc-audience-mapper"})
    state["clients"]["hand-made"] = {"id": "c9", "clientId": "hand-made"}
    outcome = run(state)
    assert outcome["actions"] == []
    assert outcome["after"]["roleMappings"]["admin"]["jupyterhub"] == ["hand-made", "jupyterhub_admin"]


def test_missing_roles_and_mappings_are_added():
    state = converged()
    del state["roles"]["jupyterhub"]["jupyterhub_developer"]
    state["mappings"]["/admin"]["realm-management"] = {"query-users"}
    outcome = run(state)
    assert kinds(outcome) == [("role", "create"), ("mapping", "add")]
    assert outcome["actions"][0]["roles"] == ["jupyterhub_developer"]
    assert outcome["actions"][1]["client_id"] == "realm-management" and outcome["actions"][1]["roles"] == ["manage-users"]


def test_grants_of_a_client_the_realm_lacks_are_errors_naming_the_group():
    state = converged()
    del state["roles"]["realm-management"]["manage-users"]
    outcome = run(state)
    assert outcome["errors"] == ["groups (admin): client realm-management of realm nebari has no role manage-users"]
    del state["clients"]["realm-management"]
    outcome = run(state)
    assert outcome["errors"] == ["groups (admin): grants roles of client realm-management, which is neither in "
                                 "clients nor in realm nebari"]


def test_policy_is_left_alone_when_not_given():
    state = converged()
    state["policy"] = "ENABLED"
    assert run(state, unmanaged_attribute_policy=None)["actions"] == []
    (action,) = run(state)["actions"]
    assert action.kind == "policy" and action["previous"] == "ENABLED"


def test_validation_names_every_bad_entry_and_never_a_secret():
    bad = params(
        groups=[{"name": "admin", "grants": {"jupyterhub": ["wizard"]}}, {"name": "admin", "grants": {}},
                {"name": "a/b", "grants": {}}, {"name": "x", "grants": {"jupyterhub": "jupyterhub_admin"}}],
        clients=PARAMS["clients"] + [{"client_id": "jupyterhub", "roles": []},
                                     {"client_id": "grafana", "roles": ["v", "v"], "redirect_uris": [""]}],
        client_secrets={"grafanna": "s3cret-value", "grafana": ""},
        default_groups=["/"],
    )
    errors = validate(bad)
    assert errors == [
        "clients[1] (jupyterhub): duplicate of clients[0]",
        "clients[2] (grafana): roles listed twice: v",
        "clients[2] (grafana): a redirect URI must not be empty",
        "groups[0] (admin): grants roles of client jupyterhub that clients[0] does not list: wizard",
        "groups[1] (admin): duplicate of groups[0]",
        "groups[2] (a/b): a group name must not contain '/' (the module manages top-level groups)",
        "groups[3] (x): grants.jupyterhub must be a list of role names",
        "default_groups[0]: must name a group",
        "client_secrets.grafana: must be a non-empty string",
        "client_secrets.grafanna: names no client of clients",
    ]
    assert "s3cret-value" not in json.dumps(errors)
    assert validate(PARAMS) == []
