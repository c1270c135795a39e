"""The collection's own conda-store chart (charts/conda-store): lint, the configuration it renders checked against
conda-store-server itself, Nebari's authorization from Keycloak on the real conda-store, and an install from the stack
layer on the test bed."""

from __future__ import annotations

import ast
import base64
import glob
import json
import os
import socket
import subprocess
import time

import requests
import yaml

import hublogin
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
    assert settings["NebariKeycloakAuthentication"]["client_secret"] == "'secret'"
    with open(os.path.join(CHART, "values.yaml")) as f:
        rules = yaml.safe_load(f)["auth"]["keycloak"]["roleBindings"]
    assert ast.literal_eval(settings["NebariKeycloakAuthentication"]["role_bindings"]) == rules
    assert settings["RBACAuthorizationBackend"]["authenticated_role_bindings"] == "{}"
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
    assert "NebariKeycloakAuthentication" in config and "/realms/nebari/protocol/openid-connect/token" in config
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


CALLBACK = "https://nebari.sandbox.localhost/conda-store/oauth_callback"  # the public one; the test's last hop is local
PEOPLE = [  # (user, groups, the password they choose at their first login)
    ("alia", ["analyst", "ml-team"], "alia-chose-this-1"),
    ("rory", ["admin"], "rory-chose-this-1"),
    ("vera", ["users"], "vera-chose-this-1"),
]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_keycloak_users_get_nebaris_role_bindings_in_the_real_conda_store(playbook, sandbox_vars, testbed, tmp_path):
    """The chart's configuration (NebariKeycloakAuthentication, the default rules) run by the real conda-store-server
    against the test bed's real Keycloak, the realm made by the identity layer: each user logs in through Keycloak's
    form and gets what their groups and roles give, not conda-store's */* admin for all."""
    realm = sandbox_vars["keycloak_realm_name"]
    # (secrets as templates: preflight refuses them in plain text)
    users = [{"username": name, "email": "%s@example.com" % name, "groups": groups, "first_name": name.title(),
              "last_name": "Tester",
              "password": "{{ 'initial-%s' ~ '-1' }}" % name} for name, groups, dummy in PEOPLE]
    identity = playbook("playbooks/identity.yml", extra_vars=dict(
        sandbox_vars, nebari_users=users, nebari_keycloak_client_secrets={"conda_store": "{{ 'cs-oidc-' ~ 'secret' }}"}))
    assert identity.rc == 0, identity.failure_messages()

    values = {"auth": {"keycloak": {"enabled": True, "url": "%s/realms/%s" % (testbed["keycloak_url"], realm),
                                    "existingSecret": "conda-store-oidc", "callbackUrl": CALLBACK,
                                    "tlsVerify": False}}}
    (tmp_path / "values.yaml").write_text(yaml.safe_dump(values))
    rendered = subprocess.run([testbed["helm"], "template", "cs", CHART, "-f", str(tmp_path / "values.yaml")],
                              capture_output=True, text=True, check=True).stdout
    config = next(doc for doc in yaml.safe_load_all(rendered) if doc and doc["kind"] == "ConfigMap")
    port = free_port()
    state = tmp_path / "conda-store"
    state.mkdir()
    # the rendered configuration as it is, then what differs outside a pod: where it listens and keeps its state
    (tmp_path / "conda_store_config.py").write_text(config["data"]["conda_store_config.py"] + "\n".join([
        "", 'c.CondaStoreServer.address = "127.0.0.1"', "c.CondaStoreServer.port = %d" % port,
        "c.CondaStoreServer.behind_proxy = False", 'c.CondaStore.database_url = "sqlite:///%s/db.sqlite"' % state,
        "c.CondaStore.upgrade_db = True", 'c.CondaStore.store_directory = "%s/store"' % state,
        'c.LocalStorage.storage_path = "%s/storage"' % state, "c.CondaStore.conda_indexed_channels = []",
        "c.CondaStore.default_uid = %d" % os.getuid(), "c.CondaStore.default_gid = %d" % os.getgid(),
        # no worker here (builds stay queued): the disk-space check reads the metrics a worker records
        "c.CondaStore.validate_action = lambda db, conda_store, namespace, action: None", ""]))
    server_bin = os.path.join(os.path.dirname(conda_store_python()), "conda-store-server")
    env = dict(os.environ, CONDA_STORE_TOKEN="service-token", CONDA_STORE_SIGNING_KEY="signing-key",
               CONDA_STORE_OIDC_CLIENT_SECRET="cs-oidc-secret")
    log = open(tmp_path / "conda-store.log", "w")  # pylint: disable=consider-using-with
    server = subprocess.Popen([server_bin, "--config", str(tmp_path / "conda_store_config.py")], env=env, cwd=state,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = "http://127.0.0.1:%d" % port
    api = base + "/conda-store/api/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (tmp_path / "conda-store.log").read_text()[-3000:]
            try:
                if requests.get(api + "/", timeout=5).json().get("status") == "ok":
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, (tmp_path / "conda-store.log").read_text()[-3000:]
            time.sleep(1)

        sessions = {}
        for name, dummy, chosen in PEOPLE:
            session, back = hublogin.service_login(base, "/conda-store/login/", "/conda-store/oauth_callback", name,
                                                   "initial-%s-1" % name, new_password=chosen)
            if back.status_code in (301, 302, 303, 307, 308):  # conda-store's route ends with a slash
                back = session.get(back.headers["Location"], allow_redirects=False, timeout=30)
            assert back.status_code == 200 and session.cookies.get("conda-store-auth"), (
                back.status_code, back.text[:300], (tmp_path / "conda-store.log").read_text()[-2000:])
            sessions[name] = session

        def permissions(name):
            answer = sessions[name].get(api + "/permission/", timeout=30)
            answer.raise_for_status()
            return answer.json()["data"]

        def build(name, namespace):
            spec = yaml.safe_dump({"name": "tools", "channels": ["conda-forge"], "dependencies": ["python"]})
            return sessions[name].post(api + "/specification/", json={"namespace": namespace, "specification": spec},
                                       timeout=60).status_code

        # what each got at login, from the groups and the conda_store client's roles Keycloak gave
        alia = permissions("alia")
        assert (alia["authenticated"], alia["primary_namespace"]) == (True, "alia")
        # (read, build, delete: viewer, developer, admin)
        assert {arn: tuple(p in granted for p in ("environment::read", "environment::update", "environment::delete"))
                for arn, granted in alia["entity_permissions"].items()} == {
            "alia/*": (True, True, True), "analyst/*": (True, True, False), "ml-team/*": (True, True, False),
            "global/*": (True, False, False), "nebari-git/*": (True, False, False)}
        assert set(permissions("rory")["entity_permissions"]) >= {"*/*", "rory/*"}
        assert set(permissions("vera")["entity_permissions"]) == {"vera/*", "global/*", "nebari-git/*"}

        # an analyst builds in her group's namespace and her own, reads the shared one, and cannot write elsewhere
        assert build("alia", "ml-team") == 200
        assert build("alia", "alia") == 200
        assert build("alia", "data-eng") == 403
        assert build("alia", "global") == 403
        assert sessions["alia"].get(api + "/namespace/global/", timeout=30).status_code == 200
        assert sessions["vera"].get(api + "/namespace/ml-team/", timeout=30).status_code == 403
        # a user with no role of conda-store's has her own namespace only; admin may write anywhere
        assert build("vera", "ml-team") == 403
        assert build("vera", "vera") == 200
        assert build("rory", "data-eng") == 200
        seen = sessions["vera"].get(api + "/environment/", timeout=30).json()["data"]
        assert sorted((e["namespace"]["name"], e["name"]) for e in seen) == [("vera", "tools")]
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
