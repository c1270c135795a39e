"""Preflight checks over a set of bad inventories (preflight_cases/*.yml) and a good one.

Each case file gives the variables it changes from a valid base inventory and the problems expected (expect) and
the warnings (warn): every expected text must be found, each in its own problem or warning, and no other may appear.
"""

import copy
import glob
import os
import sys

import pytest
import yaml

from ansible_collections.nebari.platform.plugins.plugin_utils.preflight import runner, unknown_variables
from ansible_collections.nebari.platform.plugins.plugin_utils.preflight.problems import Inventory

CHART = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "charts", "conda-store")
CASES = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "preflight_cases", "*.yml")))

BASE = {
    "nebari_cluster_provider": "existing",
    "nebari_domain": "nebari.example.com",
    "nebari_namespace": "dev",
    "nebari_tls": {"mode": "selfsigned"},
    "nebari_kubeconfig": "/tmp/artifacts/kubeconfig",
    "nebari_existing_kubeconfig": __file__,  # any file that exists
    "nebari_helm_binary": sys.executable,  # any executable that exists
    "nebari_cloud_clis": {"eks": sys.executable, "gke": sys.executable, "aks": sys.executable},
    "nebari_node_groups": {
        "general": {"labels": {"nebari.dev/node-group": "general"}},
        "gpu": {"labels": {"nebari.dev/node-group": "gpu"},
                "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]},
    },
    "nebari_component_catalog": {
        "jupyterhub": {"chart": {"repo": "https://example.invalid", "name": "jupyterhub", "version": "4.4.0"}},
    },
    "nebari_components": {"jupyterhub": {"chart": {"path": CHART}}},
    "nebari_groups": [{"name": "ml-team", "roles": ["developer"]}],
    "nebari_users": [
        {"username": "alia", "email": "alia@example.com", "groups": ["analyst", "ml-team"]},
        {"username": "blake", "email": "blake@example.com", "groups": ["developer"], "enabled": False},
    ],
    "nebari_identity_providers": [
        {"alias": "github", "type": "github", "client_id": "Iv1.abc", "client_secret": "{{ vault_github_secret }}"},
        {"alias": "auth0", "type": "oidc", "display_name": "Auth0", "client_id": "abc",
         "client_secret": "{{ vault_auth0_secret }}", "discovery_url": "https://acme.auth0.com/.well-known/openid-configuration",
         "scopes": ["openid", "email"], "trust_email": True},
        {"alias": "old-idp", "state": "absent"},
    ],
    "nebari_user_federation": [
        {"name": "corp", "connection_url": "ldaps://ldap.example.com", "users_dn": "ou=people,dc=example,dc=com",
         "bind_dn": "cn=keycloak,dc=example,dc=com", "bind_credential": "{{ vault_ldap_bind }}", "vendor": "other",
         "full_sync_period": 86400, "user_object_classes": ["inetOrgPerson"]},
    ],
    "nebari_users_absent": ["old-user"],
    "nebari_users_prune": False,
    "nebari_keycloak_url": "https://nebari.example.com/auth",
    "nebari_keycloak_admin_username": "admin",
    "nebari_keycloak_admin_password": "{{ vault_keycloak_admin_password }}",
    "nebari_keycloak_validate_certs": True,
    "nebari_environments": [
        {"namespace": "global", "name": "data-science", "channels": ["conda-forge"],
         "dependencies": ["python=3.12", "pandas", {"pip": ["requests"]}], "variables": {"A": 1}},
        {"namespace": "ml-team", "name": "old", "state": "absent"},
    ],
    "nebari_conda_store_url": "https://nebari.example.com/conda-store",
    "nebari_conda_store_token": "{{ vault_conda_store_token }}",
    "nebari_conda_store_validate_certs": True,
}
BASE_HOSTS = {"node-0": {"nebari_node_group": "general"}, "gpu-0": {"nebari_node_group": ["gpu"]}}


def run_case(changes=None, remove=(), hosts=None, groups=None):
    values = copy.deepcopy(BASE)
    values.update(copy.deepcopy(changes or {}))
    for name in remove:
        values.pop(name, None)
    return runner.run(Inventory(values, hosts=hosts if hosts is not None else BASE_HOSTS, groups=groups))


def test_valid_inventory_has_no_problems():
    problems = run_case()
    assert problems == [] and problems.warnings == []


def test_every_variable_the_collection_declares_is_known():
    """Role defaults (commented ones too), argument specs, and what the collection sets itself are no typos."""
    names = unknown_variables.known_names()
    for name in ("nebari_strict", "nebari_keycloak_admin_password", "nebari_conda_store_token", "nebari_airgap",
                 "nebari_preflight_passed", "nebari_stack_release", "nebari_users_result", "nebari_reset_confirm"):
        assert name in names


@pytest.mark.parametrize("path", CASES, ids=[os.path.basename(p)[:-4] for p in CASES])
def test_bad_inventory(path):
    with open(path) as f:
        case = yaml.safe_load(f)
    problems = run_case(case.get("vars"), case.get("remove", ()), case.get("hosts"), case.get("groups"))
    for kind, reported, expected in (("problem", problems, case["expect"]),
                                     ("warning", problems.warnings, case.get("warn", []))):
        found = [str(p) for p in reported]
        unmatched = list(found)
        for text in expected:
            match = next((p for p in unmatched if text in p), None)
            assert match is not None, "expected a %s containing %r; found:\n%s" % (kind, text, "\n".join(found))
            unmatched.remove(match)
        assert not unmatched, "unexpected %ss:\n%s" % (kind, "\n".join(unmatched))


def test_report_lists_every_problem_on_its_own_line():
    problems = run_case({"nebari_domain": "", "nebari_cluster_provider": "openstack"})
    report = runner.report(problems)
    assert report.startswith("Preflight found 2 problems in the inventory; nothing was changed:")
    assert "  - nebari_cluster_provider: unknown provider a string ('openstack')" in report
    assert "  - nebari_domain: is required" in report


def test_secret_messages_never_contain_the_secret():
    problems = run_case({"nebari_keycloak_admin_password": "hunter2-very-secret",
                         "nebari_users": [{"username": "alia", "password": "alia-initial-pw"}]})
    text = runner.report(problems)
    assert "hunter2" not in text and "alia-initial-pw" not in text
    assert len(problems) == 2


def test_inline_vault_values_are_accepted():
    values = copy.deepcopy(BASE)
    values["nebari_keycloak_admin_password"] = "ciphertext"
    inventory = Inventory(values, hosts=BASE_HOSTS, vaulted=lambda v: v == "ciphertext")
    assert runner.run(inventory) == []


def test_every_check_declares_the_variables_it_reads():
    assert "nebari_users" in runner.variables()
    assert "nebari_node_group" in runner.host_variables()


def test_airgap_names_every_missing_chart(tmp_path):
    """Repository and OCI charts resolve to charts/<name>-<version>.tgz in the airgap dir; paths must exist."""
    (tmp_path / "charts").mkdir()
    (tmp_path / "charts" / "jupyterhub-4.4.0.tgz").write_bytes(b"")
    catalog = {"jupyterhub": {"chart": {"repo": "https://example.invalid", "name": "jupyterhub", "version": "4.4.0"}},
               "postgresql": {"chart": {"oci": "oci://registry.example/charts/postgresql", "version": "18.0.15"}},
               "loki": {"enabled": False, "chart": {"repo": "https://example.invalid", "name": "loki", "version": "1.0.0"}}}
    problems = run_case({"nebari_airgap": True, "nebari_airgap_dir": str(tmp_path), "nebari_component_catalog": catalog,
                         "nebari_components": {}, "nebari_image_registry": "registry.internal:5000/mirror",
                         "nebari_extra_releases": [{"name": "tools", "chart": {"path": str(tmp_path / "tools")}}]})
    assert [str(p) for p in problems] == [
        "nebari_airgap_dir: chart of postgresql is missing: %s/charts/postgresql-18.0.15.tgz (helm pull it where the "
        "registries are reachable and copy it here)" % tmp_path,
        "nebari_airgap_dir: chart of tools is missing: %s/tools (helm pull it where the registries are reachable and "
        "copy it here)" % tmp_path]


K3S = {"nebari_cluster_provider": "k3s", "k3s_token": "{{ vault_k3s_token }}"}
K3S_GROUPS = {"k3s_servers": ["server-0", "server-1", "server-2"], "k3s_agents": ["agent-0"]}


def test_k3s_ha_inventory_is_valid():
    hosts = dict(BASE_HOSTS, **{"server-0": {"ansible_host": "10.0.0.11"}})
    assert run_case(K3S, hosts=hosts, groups=K3S_GROUPS) == []


def test_k3s_first_server_needs_an_address_when_no_endpoint():
    problems = run_case(K3S, hosts={"server-0": {"ansible_host": "10.0.0.11:22"}}, groups=K3S_GROUPS)
    assert [str(p) for p in problems] == [
        "k3s_api_endpoint: is empty, so the first server's address is used, but server-0's ansible_host a string "
        "('10.0.0.11:22') is not an address"]


def _airgap(tmp_path, files):
    import hashlib
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    return dict(K3S, k3s_airgap_dir=str(tmp_path)), hashlib.sha256(files.get("k3s", b"")).hexdigest()


def test_k3s_airgap_dir_lists_missing_files(tmp_path):
    changes, dummy = _airgap(tmp_path, {"k3s": b"binary"})
    problems = [str(p) for p in run_case(changes, groups=K3S_GROUPS)]
    assert problems == ["k3s_airgap_dir: %s lacks k3s-airgap-images-amd64.tar.zst, sha256sum-amd64.txt beside k3s "
                        "(download them from the k3s v1.34.2+k3s1 release page)" % tmp_path]
    (tmp_path / "k3s").unlink()
    assert "holds no k3s binary" in str(run_case(changes, groups=K3S_GROUPS)[0])


def test_k3s_airgap_binary_is_checked_against_its_sha256(tmp_path):
    changes, digest = _airgap(tmp_path, {"k3s": b"binary", "k3s-airgap-images-amd64.tar.zst": b"images"})
    (tmp_path / "sha256sum-amd64.txt").write_text("%s  k3s\n" % digest)
    assert run_case(changes, groups=K3S_GROUPS) == []
    (tmp_path / "k3s").write_bytes(b"tampered")
    assert [str(p) for p in run_case(changes, groups=K3S_GROUPS)] == [
        "k3s_airgap_dir: %s/k3s does not match its sha256 in sha256sum-amd64.txt (listed): a corrupt or wrong "
        "download" % tmp_path]


@pytest.mark.parametrize("provider, settings", [
    ("eks", {"cluster": "nebari-prod", "region": "eu-west-1", "profile": "nebari"}),
    ("gke", {"cluster": "nebari-prod", "project": "my-project-123", "location": "europe-west1-b"}),
    ("aks", {"cluster": "nebari-prod", "resource_group": "nebari-rg", "login": "msi"}),
])
def test_cloud_providers_with_their_settings_pass(provider, settings):
    assert run_case({"nebari_cluster_provider": provider, "nebari_" + provider: settings}) == []


def test_a_template_syntax_error_names_the_variable_holding_the_text_and_suggests_unsafe():
    """A vault value with {# in it: the message names the vault variable, suggests !unsafe, never shows the text."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    from ansible_collections.nebari.platform.plugins.plugin_utils.preflight import templating

    variables = {"vault_keycloak_admin_password": trust_as_template("pa{#ss"),
                 "nebari_keycloak_admin_password": trust_as_template("{{ vault_keycloak_admin_password }}"),
                 "nebari_conda_store_token": trust_as_template("to{#ken"),
                 "nebari_domain": trust_as_template("{{ undefined_thing }}"),
                 "nebari_namespace": trust_as_template("{{ 'dev' }}")}
    templar = Templar(loader=DataLoader(), variables=variables)
    results = {name: templating.evaluate(templar, variables, name) for name in variables if name.startswith("nebari")}
    assert results["nebari_namespace"] == ("dev", None)
    value, error = results["nebari_keycloak_admin_password"]
    assert value is None and error.startswith("template syntax error in vault_keycloak_admin_password, which it "
                                              "refers to (")
    assert "tag it !unsafe (vault_keycloak_admin_password: !unsafe '...')" in error and "pa{#ss" not in error
    value, error = results["nebari_conda_store_token"]
    assert error.startswith("template syntax error (") and "tag it !unsafe (nebari_conda_store_token: !unsafe" in error
    assert "to{#ken" not in error
    assert results["nebari_domain"][1].startswith("cannot be evaluated: ")
