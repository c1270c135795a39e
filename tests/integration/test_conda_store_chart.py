"""The collection's own conda-store chart (charts/conda-store): lint, the configuration it renders checked against
conda-store-server itself, and an install from the stack layer on the test bed."""

from __future__ import annotations

import base64
import glob
import json
import os
import subprocess

import yaml

from conftest import ROOT

CHART = os.path.join(ROOT, "charts", "conda-store")
CACHE = os.environ.get("NEBARI_CACHE", os.path.expanduser("~/.cache/nebari-platform"))
with open(os.path.join(ROOT, "roles", "nebari", "vars", "main.yml")) as catalog_file:
    CATALOG = list(yaml.safe_load(catalog_file)["nebari_component_catalog"])


def conda_store_python():
    with open(os.path.join(ROOT, "tests", "testbed", "versions.env")) as f:
        version = dict(line.strip().split("=", 1) for line in f if "=" in line and not line.startswith("#"))
    found = glob.glob(os.path.join(CACHE, "venv", "conda-store-%s-*" % version["CONDA_STORE_VERSION"].strip('"'),
                                   "bin", "python"))
    assert found, "conda-store-server's venv is built by tests/testbed/testbed build"
    return found[0]


def test_the_chart_lints_and_its_config_is_conda_stores(testbed, tmp_path):
    lint = subprocess.run([testbed["helm"], "lint", "--strict", CHART], capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    values = {"auth": {"keycloak": {"enabled": True, "url": "https://n.example.com/auth/realms/nebari",
                                    "existingSecret": "conda-store-oidc",
                                    "callbackUrl": "https://n.example.com/conda-store/oauth_callback"}},
              "extraConfig": {"10-channels": "c.CondaStore.conda_allowed_channels = ['conda-forge']"}}
    (tmp_path / "values.yaml").write_text(yaml.safe_dump(values))
    rendered = subprocess.run([testbed["helm"], "template", "cs", CHART, "-f", str(tmp_path / "values.yaml")],
                              capture_output=True, text=True, check=True).stdout
    config = next(doc for doc in yaml.safe_load_all(rendered) if doc and doc["kind"] == "ConfigMap")
    (tmp_path / "conda_store_config.py").write_text(config["data"]["conda_store_config.py"])
    check = subprocess.run([conda_store_python(), os.path.join(ROOT, "tests", "integration", "conda_store_config_check.py"),
                            str(tmp_path / "conda_store_config.py")], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    settings = json.loads(check.stdout)
    assert settings["CondaStoreServer"]["url_prefix"] == "'/conda-store'"
    assert settings["GenericOAuthAuthentication"]["client_secret"] == "'secret'"
    assert settings["CondaStore"]["conda_allowed_channels"] == "['conda-forge']"  # extraConfig comes last


def test_the_stack_installs_it_keeps_its_token_and_logs_in_through_keycloak(playbook, sandbox_vars, k8s):
    namespace = sandbox_vars["nebari_namespace"]
    components = {name: {"enabled": False} for name in CATALOG if name != "conda-store"}
    variables = dict(sandbox_vars, nebari_components=components,
                     nebari_keycloak_client_secrets={"conda_store": "{{ 'oidc-' ~ 'secret' }}"})

    first = playbook(extra_vars=variables, args=["--tags", "cluster,stack"])
    assert first.rc == 0, first.failure_messages()
    pods = k8s.list_namespaced_pod(namespace, label_selector="app.kubernetes.io/instance=conda-store").items
    placed = sorted((p.metadata.labels["app.kubernetes.io/component"], p.status.phase, p.spec.node_name) for p in pods)
    # both really run (the test bed's conda-store image), the worker once the server has made the database
    assert placed == [("server", "Running", "sandbox-general-0"), ("worker", "Running", "sandbox-general-0")]
    # its store on the sandbox's shared volume (nebari_storage.shared), where notebooks mount the environments
    assert k8s.read_namespaced_persistent_volume_claim("nebari-shared", namespace).status.phase == "Bound"
    assert [v.persistent_volume_claim.claim_name for p in pods for v in p.spec.volumes if v.persistent_volume_claim] == [
        "nebari-shared", "nebari-shared"]
    oidc = k8s.read_namespaced_secret("conda-store-oidc", namespace).data["client-secret"]
    assert base64.b64decode(oidc) == b"oidc-secret"
    config = k8s.read_namespaced_config_map("conda-store-config", namespace).data["conda_store_config.py"]
    assert "GenericOAuthAuthentication" in config and "/realms/nebari/protocol/openid-connect/token" in config
    assert "oidc-secret" not in json.dumps(first.data)  # the client secret never reaches the output
    token = k8s.read_namespaced_secret("conda-store-service-token", namespace).data["token"]

    # an upgrade (new values) keeps the generated token; a run with nothing new changes nothing
    components["conda-store"] = {"values": {"worker": {"concurrency": 2}}}
    upgrade = playbook(extra_vars=variables, args=["--tags", "cluster,stack"])
    assert upgrade.rc == 0, upgrade.failure_messages()
    assert "concurrency = 2" in k8s.read_namespaced_config_map("conda-store-config", namespace).data[
        "conda_store_config.py"]
    assert k8s.read_namespaced_secret("conda-store-service-token", namespace).data["token"] == token
    again = playbook(extra_vars=variables, args=["--tags", "cluster,stack"])
    assert again.rc == 0 and [t for t in again.changed_tasks() if "nebari_stack" in t] == []
