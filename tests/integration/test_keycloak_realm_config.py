"""keycloak_realm_config through the keycloak_realm role against the test bed's Keycloak: check mode with --diff on a
realm that does not exist yet, objects the inventory does not name survive, the clients' secrets (the inventory's
wins, a held one stays), and a no-op run is changed=0. Each test works in a realm of its own (sandbox_vars)."""

from __future__ import annotations

import json
import os
import urllib.error

import pytest

from keycloak import Admin

PLAYBOOK = "tests/integration/playbooks/realm_secrets.yml"
CLIENTS = ["jupyterhub", "conda_store", "argo-server-sso", "grafana", "forwardauth"]


@pytest.fixture
def admin(testbed):
    return Admin(testbed["keycloak_url"], testbed["keycloak_password"])


@pytest.fixture
def realm_run(playbook, sandbox_vars, tmp_path):
    """The role alone on the test's realm; returns (run, the fact keycloak_realm_client_secrets or None)."""
    out = tmp_path / "secrets.json"

    def run(args=(), raw=False, **variables):
        if out.exists():
            out.unlink()
        result = playbook(PLAYBOOK, extra_vars=dict(sandbox_vars, secrets_out=str(out), **variables), args=args,
                          env={"ANSIBLE_STDOUT_CALLBACK": "default"} if raw else None, raw=raw)
        return result, json.loads(out.read_text()) if out.exists() else None

    return run


def ids(admin, realm):
    return {c["clientId"]: c["id"] for c in admin.call("GET", "/%s/clients" % realm)}


def secret_of(admin, realm, client_id):
    return admin.call("GET", "/%s/clients/%s/client-secret" % (realm, ids(admin, realm)[client_id]))["value"]


def given_secret(testbed):
    with open(os.path.join(testbed["state"], "secrets", "jupyterhub-client-secret")) as f:
        return f.read().strip()


def test_check_mode_with_diff_on_a_fresh_realm_changes_nothing_and_shows_no_secret(playbook, sandbox_vars, admin,
                                                                                   testbed):
    realm = sandbox_vars["keycloak_realm_name"]
    run = playbook("playbooks/identity.yml", extra_vars=sandbox_vars, args=["--check", "--diff", "-vvv"],
                   env={"ANSIBLE_STDOUT_CALLBACK": "default"}, raw=True)
    assert run.rc == 0, run.output[-3000:]
    assert "realm %s: created" % realm in run.output  # what would be done is reported
    assert "client jupyterhub: created" in run.output and "******** (the one given)" in run.output
    with pytest.raises(urllib.error.HTTPError) as missing:
        admin.call("GET", "/" + realm)
    assert missing.value.code == 404
    for value in (given_secret(testbed), admin.password):
        assert value not in run.output


def test_what_the_inventory_does_not_name_survives_and_a_rerun_changes_nothing(realm_run, sandbox_vars, admin):
    realm = sandbox_vars["keycloak_realm_name"]
    first, dummy = realm_run()
    assert first.rc == 0, first.failure_messages()

    # by hand: a group, a client, a role of a managed client, a claim, and role mappings of a managed group
    admin.call("POST", "/%s/groups" % realm, {"name": "hand-made"})
    admin.call("POST", "/%s/clients" % realm, {"clientId": "hand-client", "publicClient": True})
    client = ids(admin, realm)
    admin.call("POST", "/%s/clients/%s/roles" % (realm, client["jupyterhub"]), {"name": "hand-role"})
    admin.call("POST", "/%s/clients/%s/protocol-mappers/models" % (realm, client["jupyterhub"]),
               {"name": "audience", "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper",
                "config": {"included.client.audience": "jupyterhub", "access.token.claim": "true"}})
    groups = {g["name"]: g["id"] for g in admin.call("GET", "/%s/groups" % realm)}
    extra = [r for r in admin.call("GET", "/%s/clients/%s/roles" % (realm, client["jupyterhub"]))
             if r["name"] in ("hand-role", "jupyterhub_admin")]
    admin.call("POST", "/%s/groups/%s/role-mappings/clients/%s" % (realm, groups["analyst"], client["jupyterhub"]),
               extra)

    again, dummy = realm_run()
    assert again.rc == 0 and again.changed == 0, again.changed_tasks()
    assert "hand-made" in {g["name"] for g in admin.call("GET", "/%s/groups" % realm)}
    assert "hand-client" in ids(admin, realm)
    hub = admin.call("GET", "/%s/clients/%s" % (realm, client["jupyterhub"]))
    assert sorted(m["name"] for m in hub["protocolMappers"]) == ["audience", "groups", "jupyterlab_profiles", "roles"]
    assert "hand-role" in {r["name"] for r in admin.call("GET", "/%s/clients/%s/roles" % (realm, client["jupyterhub"]))}
    mapped = admin.call("GET", "/%s/groups/%s/role-mappings/clients/%s"
                        % (realm, groups["analyst"], client["jupyterhub"]))
    assert {"hand-role", "jupyterhub_admin", "jupyterhub_developer"} <= {r["name"] for r in mapped}

    # a setting of a managed client that differs is put back, and the run says so
    hub.update(redirectUris=["https://elsewhere.example.com/cb"], directAccessGrantsEnabled=True)
    admin.call("PUT", "/%s/clients/%s" % (realm, client["jupyterhub"]), hub)
    fixed, dummy = realm_run()
    assert fixed.rc == 0 and fixed.changed == 1
    hub = admin.call("GET", "/%s/clients/%s" % (realm, client["jupyterhub"]))
    assert hub["redirectUris"] == ["https://nebari.sandbox.localhost/hub/oauth_callback"]
    assert hub["directAccessGrantsEnabled"] is False
    assert sorted(m["name"] for m in hub["protocolMappers"]) == ["audience", "groups", "jupyterlab_profiles", "roles"]


def test_the_inventory_secret_wins_and_a_held_secret_stays(realm_run, sandbox_vars, admin, testbed):
    realm = sandbox_vars["keycloak_realm_name"]
    first, secrets = realm_run()
    assert first.rc == 0, first.failure_messages()
    assert sorted(secrets) == sorted(CLIENTS)
    assert secrets["jupyterhub"] == given_secret(testbed) == secret_of(admin, realm, "jupyterhub")
    for client_id in CLIENTS:
        assert secrets[client_id] == secret_of(admin, realm, client_id)

    # Keycloak's secret of a client the inventory gives none for is kept; the inventory's one comes back
    regenerated = admin.call("POST", "/%s/clients/%s/client-secret" % (realm, ids(admin, realm)["grafana"]))["value"]
    admin.call("POST", "/%s/clients/%s/client-secret" % (realm, ids(admin, realm)["jupyterhub"]))
    second, secrets = realm_run()
    assert second.rc == 0 and second.changed == 1  # the jupyterhub secret put back
    assert secret_of(admin, realm, "grafana") == regenerated == secrets["grafana"]
    assert secret_of(admin, realm, "jupyterhub") == given_secret(testbed) == secrets["jupyterhub"]

    third, secrets = realm_run()
    assert third.rc == 0 and third.changed == 0
    assert secrets["grafana"] == regenerated


def test_a_bad_entry_fails_before_any_request_and_names_it(realm_run, sandbox_vars, admin):
    realm = sandbox_vars["keycloak_realm_name"]
    run, dummy = realm_run(nebari_groups=[{"name": "x/y", "roles": ["developer"]}])
    assert run.rc != 0
    assert any("groups[5] (x/y)" in message for message in run.failure_messages()), run.failure_messages()
    with pytest.raises(urllib.error.HTTPError):
        admin.call("GET", "/" + realm)
