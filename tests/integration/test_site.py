"""site.yml against the sandbox: converge, idempotence, check mode, layers by tag, extra releases, rollback and
airgap (the collection as installed from its tarball runs as an AWX job: test_runner.py)."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
from pathlib import Path

import pytest
import yaml
from kubernetes.client import RbacAuthorizationV1Api
from kubernetes.client.exceptions import ApiException

import hublogin
from conftest import ROOT, SANDBOX_KEYCLOAK_URL
from keycloak import Admin

with open(os.path.join(ROOT, "roles", "nebari", "vars", "main.yml")) as catalog_file:
    CATALOG = yaml.safe_load(catalog_file)["nebari_component_catalog"]
# the sandbox's own deployment, as `make sandbox` makes it (its namespace and realm)
SANDBOX_NAMESPACE = "dev"
REAL_NODE, SIMULATED_GENERAL = "sandbox-general-0", "sandbox-general-1"
PLACEMENT = "testbed.nebari.dev/placement"
ALIA_PASSWORD = "alia-chose-this-1"  # the one she sets at her first login
VERA_PASSWORD = "vera-initial-pw-1"  # vera's initial password (offboarding step: a user the hub refuses)
LANDINGS = ("/hub/spawn", "/user/alia/")  # where the hub sends her after a login
with open(os.path.join(ROOT, "inventories", "sandbox", "group_vars", "all", "users.yml")) as users_file:
    SANDBOX_USERS = yaml.safe_load(users_file)["nebari_users"]
with open(os.path.join(ROOT, "inventories", "sandbox", "group_vars", "all", "environments.yml")) as environments_file:
    SANDBOX_ENVIRONMENTS = yaml.safe_load(environments_file)["nebari_environments"]
BACKUP_PASSWORD = "sandbox-backup-passphrase"


def namespace_exists(k8s, name):
    try:
        k8s.read_namespace(name)
        return True
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise


def place_pod(k8s, namespace, name, node_selector, tolerations, limits, timeout=60):
    """Create a pod with this placement and resource limits; return the node it runs on once Running."""
    from kubernetes import client

    pod = client.V1Pod(metadata=client.V1ObjectMeta(name=name), spec=client.V1PodSpec(
        node_selector=node_selector, tolerations=[client.V1Toleration(**t) for t in tolerations],
        containers=[client.V1Container(name="notebook", image="registry.invalid/notebook:1",
                                       resources=client.V1ResourceRequirements(limits=limits or None))]))
    k8s.create_namespaced_pod(namespace, pod)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = k8s.read_namespaced_pod(name, namespace)
        if status.status.phase == "Running":
            return status.spec.node_name
        time.sleep(0.5)
    raise AssertionError("pod %s not Running after %ds: %s" % (name, timeout, status.status))


def helm_json(testbed, *args):
    proc = subprocess.run([testbed["helm"], "--kubeconfig", testbed["kubeconfig"]] + list(args) + ["-o", "json"],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def helm_runs(run):
    """The releases a run took through kubernetes.core.helm: those that were not current (helm_release_plan)."""
    return [name.split(" : Install or upgrade ")[1].split(" ")[0] for name, dummy in run.results()
            if " : Install or upgrade " in name and "each enabled release" not in name]


def http_get(url, timeout=10):
    import urllib.request

    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (the test bed's addresses)
        return response.status, response.read().decode()


def test_site_converges_then_changes_nothing(playbook, testbed, k8s, tmp_path):
    """The sandbox exactly as `make sandbox` deploys it: every upstream chart at the catalog's pin from the airgap
    directory the test bed fills (../shared/charts), images from the test bed's registry. What has an image here
    runs on the real node (JupyterHub's hub and proxy, Keycloak and its PostgreSQL, each answering); the rest is
    simulated by kwok.
    A second run changes nothing."""
    namespace = SANDBOX_NAMESPACE
    variables = {"nebari_kubeconfig": str(tmp_path / "artifacts" / "kubeconfig")}
    keycloak_url = SANDBOX_KEYCLOAK_URL
    # a reused test bed: her first login again, and no server of hers left running
    forget_user(k8s, namespace, keycloak_url, testbed["keycloak_password"], "alia")
    forget_user(k8s, namespace, keycloak_url, testbed["keycloak_password"], "vera")
    try:
        k8s.delete_namespaced_pod("jupyter-alia", namespace, grace_period_seconds=0)
    except ApiException as exc:
        assert exc.status == 404, exc
    first = playbook(extra_vars=variables)
    assert first.rc == 0, first.failure_messages() or first.stderr
    # the cluster check, the run's last step, read the converged sandbox and found no broken reference (routes,
    # Secrets and keys, claims, node groups, LoadBalancer addresses, readiness): Dask Gateway's API token included
    check = [r for name, r in first.results() if name.endswith("Check the live cluster (routes, references, "
                                                               "placement, load balancers, readiness)")]
    assert len(check) == 1 and check[0]["problems"] == [], check
    assert check[0]["checked"]["pods"] > 10 and check[0]["checked"]["ingresses"] > 0, check[0]["checked"]
    # every service with a url_path is routed on the HTTPS entry point (or, for the charts' Ingresses that name
    # none, Traefik's default ones: web, redirected, and websecure), to a Service and port that exist (no problem
    # above); /gateway, /argo/ and /monitoring/ name websecure, and the Dask schedulers come in on entry point tcp
    routes = check[0]["routes"]
    https = {route["path"]: route for route in routes if route["kind"] != "IngressRouteTCP"
             and (route["entry_points"] is None or "websecure" in route["entry_points"])}
    assert {entry["url_path"] for entry in CATALOG.values() if entry.get("url_path")} <= set(https), https
    assert {path: (route["kind"], route["entry_points"], route["host"], route["service"]["name"], route["port"])
            for path, route in https.items() if path in ("/gateway", "/argo/", "/monitoring/")} == {
        "/gateway": ("IngressRoute", ["websecure"], "nebari.sandbox.localhost", "traefik-dask-gateway", 80),
        "/argo/": ("Ingress", ["websecure"], "nebari.sandbox.localhost", "argo-workflows-server", 2746),
        "/monitoring/": ("Ingress", ["websecure"], "nebari.sandbox.localhost", "kube-prometheus-stack-grafana", 80)}
    assert [(r["name"], r["entry_points"], r["service"]["name"], r["port"]) for r in routes
            if r["kind"] == "IngressRouteTCP"] == [("dask-gateway-schedulers", ["tcp"], "traefik-dask-gateway", 8786)]
    traefik = k8s.read_namespaced_service("traefik", namespace)
    assert 8786 in [port.port for port in traefik.spec.ports], traefik.spec.ports
    # Grafana's data sources: Prometheus and Loki (the loki release's gateway), no Alertmanager (none runs)
    datasources = yaml.safe_load(k8s.read_namespaced_config_map("kube-prometheus-stack-grafana-datasource", namespace)
                                 .data["datasource.yaml"])["datasources"]
    assert sorted((d["name"], d["type"], d["url"]) for d in datasources) == [
        ("Loki", "loki", "http://loki-gateway.%s.svc.cluster.local" % namespace),
        ("Prometheus", "prometheus", "http://kube-prometheus-stack-prometheus.%s:9090/" % namespace)]
    # and the Nebari dashboard, where Grafana's sidecar finds it (label grafana_dashboard)
    dashboards = k8s.list_namespaced_config_map(namespace, label_selector="grafana_dashboard=1").items
    nebari = [json.loads(c.data["nebari.json"]) for c in dashboards if c.metadata.name == "nebari-dashboard"]
    assert [(d["uid"], len(d["panels"])) for d in nebari] == [("nebari", 7)], nebari
    # Argo's single sign-on (the sandbox holds the argo-server-sso secret): its SSO RBAC accounts, each with its rule
    # over Keycloak's roles claim, a token that Kubernetes filled in, and a RoleBinding to a live ClusterRole of the
    # chart
    rbac = RbacAuthorizationV1Api(k8s.api_client)
    for account, (access, precedence) in {"argo-admin": ("admin", "11"), "argo-developer": ("edit", "10"),
                                          "argo-viewer": ("view", "9")}.items():
        annotations = k8s.read_namespaced_service_account(account, namespace).metadata.annotations
        assert (annotations["workflows.argoproj.io/rbac-rule"], annotations[
            "workflows.argoproj.io/rbac-rule-precedence"]) == ("'%s' in groups" % account, precedence)
        token = k8s.read_namespaced_secret(account + ".service-account-token", namespace)
        assert token.type == "kubernetes.io/service-account-token" and token.data and token.data.get("token"), account
        binding = rbac.read_namespaced_role_binding(account, namespace)
        assert (binding.role_ref.kind, binding.role_ref.name) == ("ClusterRole", "argo-workflows-" + access)
        assert [(s.kind, s.name, s.namespace) for s in binding.subjects] == [("ServiceAccount", account, namespace)]
        assert rbac.read_cluster_role(binding.role_ref.name).rules

    # every release from the airgap directory: the upstream chart, or the stand-in where nobody has the chart
    with open(os.path.join(testbed["state"], "airgap", "charts", "STANDINS")) as f:
        standins = f.read().split()
    releases = {r["name"]: r for r in helm_json(testbed, "list", "-n", namespace)}
    for component, entry in CATALOG.items():
        if component in ("metallb", "gpu-operator", "conda-store"):  # bare metal only / not the sandbox's plugin / ours
            continue
        chart = entry["chart"].get("name") or entry["chart"]["oci"].rsplit("/", 1)[-1]
        version = "17.1.0" if component == "keycloak-postgresql" else entry["chart"]["version"]  # sandbox override
        expected = "nebari-standin-0.1.0" if "%s-%s.tgz" % (chart, version) in standins else "%s-%s" % (chart, version)
        assert (releases[component]["chart"], releases[component]["status"]) == (expected, "deployed"), component
    assert releases["conda-store"]["chart"].startswith("conda-store-")

    # the values the collection rendered reached the real chart, images named on the test bed's registry
    values = helm_json(testbed, "get", "values", "jupyterhub", "-n", namespace)
    assert values["hub"]["nodeSelector"] == {"nebari.dev/node-group": "general"}
    assert values["singleuser"]["nodeSelector"] == {"nebari.dev/node-group": "user"}
    assert values["hub"]["image"]["name"] == "testbed.invalid/jupyterhub/k8s-hub"
    assert values["ingress"]["hosts"] == ["nebari.sandbox.localhost"]

    # JupyterHub really runs: its hub and proxy on the real node, the hub answering through the proxy
    pods = k8s.list_namespaced_pod(namespace, label_selector="app=jupyterhub,component in (hub,proxy)").items
    assert sorted((p.metadata.labels["component"], p.status.phase, p.spec.node_name, p.metadata.annotations[PLACEMENT])
                  for p in pods) == [("hub", "Running", REAL_NODE, "real"), ("proxy", "Running", REAL_NODE, "real")]
    proxy = k8s.read_namespaced_service("proxy-public", namespace).spec.cluster_ip
    assert http_get("http://%s/hub/health" % proxy)[0] == 200
    assert json.loads(http_get("http://%s/hub/api/" % proxy)[1])["version"] == "5.5.0"
    # Keycloak and its PostgreSQL really run too (Bitnami's chart on the test bed's PostgreSQL image), Keycloak
    # answering under /auth through its Service
    for release in ("keycloak", "keycloak-postgresql"):
        pods = k8s.list_namespaced_pod(namespace, label_selector="app.kubernetes.io/instance=%s" % release).items
        assert [(p.status.phase, p.spec.node_name, p.metadata.annotations[PLACEMENT]) for p in pods] == [
            ("Running", REAL_NODE, "real")], release
    keycloak = k8s.read_namespaced_service("keycloak-keycloakx-http", namespace)
    assert json.loads(http_get("http://%s/auth/realms/master" % keycloak.spec.cluster_ip)[1])["realm"] == "master"
    # the identity layer configured that Keycloak, at the address the sandbox gives it, as the admin the stack
    # bootstrapped it with
    assert keycloak.status.load_balancer.ingress[0].ip == keycloak_url.split("/")[2]
    admin = Admin(keycloak_url, testbed["keycloak_password"])
    assert admin.user("nebari", "alia")["groups"] == ["/analyst", "/ml-team"]
    # and a data scientist logs in to JupyterHub through it: Keycloak's real login form (her initial password is
    # temporary: she chooses her own), back to the hub, which knows her Keycloak groups
    hub = "http://%s" % proxy
    initial = (Path(testbed["state"]) / "secrets" / "alia-initial-password").read_text().strip()
    session, answer = hublogin.login(hub, "alia", initial, new_password=ALIA_PASSWORD)
    # (the spawn page; or her server, if a reused test bed still runs one)
    assert answer.status_code == 302 and answer.headers["Location"] in LANDINGS, answer.text[:300]
    me = hublogin.hub_api(session, hub, "/user")
    assert (me["name"], sorted(me["groups"]), me["admin"]) == ("alia", ["/analyst", "/ml-team"], False)
    # the sandbox offers its GPU profile to group developer only (nebari_profiles.jupyterlab[].groups): her spawn
    # page lists the small instance, not the GPU one
    page = hublogin.spawn_page(session, hub, "alia")
    assert "Small Instance" in page and "GPU Instance" not in page, page[:3000]
    # and the large one, which her Keycloak attribute jupyterlab_profiles names (keycloak_attribute: the claim the
    # jupyterhub client carries, in her auth state)
    assert "Large Instance" in page, page[:3000]
    # she starts JupyterLab with the default profile: a real pod (the real node stands in for the user node group),
    # her own volume as home, the server answering through the proxy once she is let in by the hub
    server = hublogin.spawn(session, hub, "alia", "small")
    assert server["url"] == "/user/alia/"
    notebook = k8s.read_namespaced_pod("jupyter-alia", namespace)
    assert (notebook.status.phase, notebook.spec.node_name) == ("Running", REAL_NODE)
    assert notebook.metadata.annotations[PLACEMENT] == "real: %s stands in for nebari.dev/node-group=user" % REAL_NODE
    # the shared volume (nebari_storage.shared): her home, her groups' folders, the environments she may read
    assert k8s.read_namespaced_persistent_volume_claim("nebari-shared", namespace).status.phase == "Bound"
    mounts = sorted((m.mount_path, m.sub_path, bool(m.read_only))
                    for m in notebook.spec.containers[0].volume_mounts if m.name == "home")
    assert mounts == [("/home/alia", "home/alia", False)] + [
        ("/home/conda/%s" % ns, "conda-store/%s" % ns, True)
        for ns in ("alia", "analyst", "global", "ml-team", "nebari-git")] + [
        ("/shared/analyst", "shared/analyst", False), ("/shared/ml-team", "shared/ml-team", False)], mounts
    envs_path = {e.name: e.value for e in notebook.spec.containers[0].env}["CONDA_ENVS_PATH"]
    assert envs_path.split(":") == ["/home/conda/%s/envs" % ns
                                    for ns in ("global", "nebari-git", "alia", "analyst", "ml-team")], envs_path
    assert session.get(hub + "/user/alia/lab", timeout=60).status_code == 200  # the hub's OAuth lets her in
    status = session.get(hub + "/user/alia/api/status", timeout=30)
    assert status.status_code == 200 and "started" in status.json(), status.text[:300]
    # her server culls idle kernels and terminals with Nebari's defaults (nebari_idle_culler): jupyter_server reads them
    shown = subprocess.run([testbed["kubectl"], "--kubeconfig", testbed["kubeconfig"], "-n", namespace, "exec",
                            "jupyter-alia", "--", "jupyter", "server", "--show-config"],
                           capture_output=True, text=True, timeout=60, check=False)
    assert "/etc/jupyter/jupyter_server_config.json" in shown.stdout, shown.stdout + shown.stderr
    for setting in (".cull_idle_timeout = 900", ".cull_connected = True", ".cull_inactive_timeout = 900",
                    ".shutdown_no_activity_timeout = 900"):
        assert setting in shown.stdout, shown.stdout
    # she works in her home, writes to her group's folder as herself, and cannot change an environment
    kubectl_exec = [testbed["kubectl"], "--kubeconfig", testbed["kubeconfig"], "-n", namespace, "exec", "jupyter-alia",
                    "--", "sh", "-c"]
    script = ('pwd; echo "$HOME"; date > /shared/analyst/from-alia && stat -c %u /shared/analyst/from-alia; '
              'touch /home/conda/global/x 2>/dev/null && echo writable || echo read-only')
    shown = subprocess.run(kubectl_exec + [script], capture_output=True, text=True, timeout=60, check=False)
    assert shown.stdout.split() == ["/home/alia", "/home/alia", "1000", "read-only"], shown.stdout + shown.stderr
    # the file is on the shared volume, where another member of the group finds it
    shared = [v for v in k8s.list_persistent_volume().items
              if v.spec.claim_ref and (v.spec.claim_ref.namespace, v.spec.claim_ref.name) == (namespace, "nebari-shared")]
    assert (Path(shared[0].spec.host_path.path) / "shared" / "analyst" / "from-alia").is_file()
    # conda-store's server and worker (the collection's chart) really run, the server answering through its Service
    conda_store = k8s.list_namespaced_pod(namespace, label_selector="app.kubernetes.io/instance=conda-store").items
    assert sorted((p.metadata.labels["app.kubernetes.io/component"], p.status.phase, p.spec.node_name)
                  for p in conda_store) == [("server", "Running", REAL_NODE), ("worker", "Running", REAL_NODE)]
    server = k8s.read_namespaced_service("conda-store-server", namespace).spec.cluster_ip
    assert json.loads(http_get("http://%s:5000/conda-store/api/v1/" % server)[1])["status"] == "ok"
    # she logs in to it through Keycloak as well, and gets Nebari's bindings, not conda-store's */* admin: her own
    # namespace, her groups' (ml-team has developer's roles), the shared ones to read
    store = "http://%s:5000" % server
    store_session, back = hublogin.service_login(store, "/conda-store/login/", "/conda-store/oauth_callback", "alia",
                                                 ALIA_PASSWORD)
    if back.status_code == 307:  # conda-store's callback route ends with a slash
        back = store_session.get(back.headers["Location"], allow_redirects=False, timeout=30)
    assert back.status_code == 200 and store_session.cookies.get("conda-store-auth"), (back.status_code, back.text[:300])
    granted = store_session.get(store + "/conda-store/api/v1/permission/", timeout=30).json()["data"]
    assert {arn: "environment::update" in roles for arn, roles in granted["entity_permissions"].items()} == {
        "alia/*": True, "analyst/*": True, "ml-team/*": True, "global/*": False, "nebari-git/*": False}, granted
    # a component without an image here is simulated by kwok in its node group
    traefik = k8s.list_namespaced_pod(namespace,
                                      label_selector="app.kubernetes.io/instance=traefik-%s" % namespace).items
    assert {(p.spec.node_name, p.metadata.annotations[PLACEMENT].split(":")[0]) for p in traefik} == {
        (SIMULATED_GENERAL, "simulated")}
    # the device plugin's pods on the GPU node only
    plugin = k8s.list_namespaced_pod(namespace, label_selector="app.kubernetes.io/instance=nvidia-device-plugin").items
    assert {p.spec.node_name for p in plugin} == {"sandbox-gpu-0"}

    # a user server started with the GPU profile, as KubeSpawner builds its pod, runs on the GPU node
    profiles = {p["slug"]: p["kubespawner_override"] for p in values["singleuser"]["profileList"]}
    try:
        assert place_pod(k8s, namespace, "jupyter-gpu", profiles["gpu"]["node_selector"],
                         profiles["gpu"]["tolerations"], profiles["gpu"]["extra_resource_limits"]) == "sandbox-gpu-0"
        assert place_pod(k8s, namespace, "jupyter-small", profiles["small"]["node_selector"],
                         profiles["small"]["tolerations"], {}) == "sandbox-user-0"
    finally:
        for name in ("jupyter-gpu", "jupyter-small"):
            try:
                k8s.delete_namespaced_pod(name, namespace, grace_period_seconds=0)
            except ApiException:
                pass

    kubeconfig = tmp_path / "artifacts" / "kubeconfig"
    assert oct(kubeconfig.stat().st_mode & 0o777) == "0o600"
    summary = (tmp_path / "artifacts" / "summary.md").read_text()
    assert ("| jupyterhub | jupyterhub | jupyterhub-4.4.0 | 5.5.0 | %s | deployed | %s: 2/2 "
            "| https://nebari.sandbox.localhost/ |" % (namespace, REAL_NODE)) in summary, summary
    assert "| sandbox-gpu-0 | gpu | 2 | yes |" in summary
    # the same as data, for CI jobs and AWX to keep as an artifact
    report = json.loads((tmp_path / "artifacts" / "summary.json").read_text())
    assert (report["domain"], report["provider"]) == ("nebari.sandbox.localhost", "existing")
    jupyterhub = [rel for rel in report["releases"] if rel["component"] == "jupyterhub"][0]
    assert jupyterhub == {"component": "jupyterhub", "release": "jupyterhub", "chart": "jupyterhub-4.4.0",
                          "app_version": "5.5.0", "namespace": namespace, "status": "deployed",
                          "pods": [{"node": REAL_NODE, "ready": 2, "total": 2}],
                          "url": "https://nebari.sandbox.localhost/", "urls": ["https://nebari.sandbox.localhost/"],
                          "url_path": "/"}
    # each URL read from the live routes, at the path the catalog expects
    assert {rel["component"]: rel["url"] for rel in report["releases"] if rel["url_path"]} == {
        component: "https://nebari.sandbox.localhost" + entry["url_path"] for component, entry in CATALOG.items()
        if entry.get("url_path")}
    assert {"name": "sandbox-gpu-0", "group": "gpu", "gpus": 2, "ready": True} in [
        {key: node[key] for key in ("name", "group", "gpus", "ready")} for node in report["nodes"]]

    second = playbook(extra_vars=variables)
    assert second.rc == 0, second.failure_messages()
    assert second.changed == 0, "second run changed: %s" % second.changed_tasks()
    # the real charts' values as Helm keeps them equal the rendered ones: not one helm process
    assert helm_runs(second) == [], helm_runs(second)
    # her server was left alone, and the password she chose is still hers (the initial one is never set again)
    assert k8s.read_namespaced_pod("jupyter-alia", namespace).metadata.uid == notebook.metadata.uid
    assert session.get(hub + "/user/alia/api/status", timeout=30).status_code == 200
    again, answer = hublogin.login(hub, "alia", ALIA_PASSWORD)
    assert answer.status_code == 302 and answer.headers["Location"] in LANDINGS

    # a backup of the running platform (playbooks/backup.yml, every part): Keycloak's own export holds her and the
    # password she chose as a hash; the sandbox's environments come back as inventory; each release's values,
    # encrypted. (test_backup.py checks the files, the encryption and the retention in detail.)
    backups = tmp_path / "backups"
    backup = playbook("playbooks/backup.yml", extra_vars=dict(variables, backup_dir=str(backups),
                                                              backup_password=BACKUP_PASSWORD))
    assert backup.rc == 0, backup.failure_messages() or backup.output[-3000:]
    assert ALIA_PASSWORD not in backup.output and BACKUP_PASSWORD not in backup.output
    written = next(backups.iterdir())
    manifest = yaml.safe_load((written / "manifest.yml").read_text())
    assert manifest["parts"] == ["keycloak", "conda_store", "helm"] and len(manifest["releases"]) >= 10, manifest
    password_file = tmp_path / "backup-password"
    password_file.write_text(BACKUP_PASSWORD)
    realm = json.loads(subprocess.run(
        [os.path.join(ROOT, ".venv", "bin", "ansible-vault"), "view", "--vault-password-file", str(password_file),
         str(written / "keycloak" / "nebari-realm.json.vault")], check=True, capture_output=True, text=True).stdout)
    exported = {user["username"]: user for user in realm["users"]}
    assert [c["type"] for c in exported["alia"]["credentials"]] == ["password"], exported["alia"]
    assert exported["alia"]["credentials"][0]["secretData"] and ALIA_PASSWORD not in json.dumps(realm)
    assert sorted(exported["alia"]["groups"]) == ["/analyst", "/ml-team"], exported["alia"]["groups"]
    environments = yaml.safe_load((written / "conda-store" / "environments.yml").read_text())["nebari_environments"]
    present = {(e["namespace"], e["name"]) for e in environments}
    assert {(e["namespace"], e["name"]) for e in SANDBOX_ENVIRONMENTS} <= present, present

    # her password lost (as on a fresh cluster, where site.yml makes her again from the inventory, without one):
    # restore.yml gives her back the one she chose, from the backup (test_restore.py: the rest of the round trip,
    # a second run that changes nothing, damaged backups)
    alia = admin.user("nebari", "alia")
    for credential in admin.call("GET", "/nebari/users/%s/credentials" % alia["id"]):
        admin.call("DELETE", "/nebari/users/%s/credentials/%s" % (alia["id"], credential["id"]))
    restore_vars = dict(variables, restore_from=str(written), restore_password=BACKUP_PASSWORD)
    restore = playbook("playbooks/restore.yml", extra_vars=restore_vars)
    assert restore.rc == 0, restore.failure_messages() or restore.output[-3000:]
    assert "user alia: password restored" in restore.output and BACKUP_PASSWORD not in restore.output
    again, answer = hublogin.login(hub, "alia", ALIA_PASSWORD)
    assert answer.status_code == 302 and answer.headers["Location"] in LANDINGS

    # she leaves: the inventory says `enabled: false` and the users playbook runs (the documented offboarding). In
    # the same run her running server is stopped and her hub tokens revoked; she can no longer log in, nor start a
    # server with the hub session she still holds. And vera joins, in group users only, which holds no jupyterhub
    # role: Keycloak lets her in, the hub does not (allowed_groups)
    offboarding = [dict(user, enabled=False) if user["username"] == "alia" else user for user in SANDBOX_USERS] + [
        {"username": "vera", "email": "vera@example.com", "first_name": "Vera", "last_name": "Lind",
         "groups": ["users"], "password": "{{ vault_vera_initial_password }}"}]
    offboarding = dict(variables, nebari_users=offboarding, vault_vera_initial_password=VERA_PASSWORD)
    offboarded = playbook("playbooks/users.yml", extra_vars=offboarding)
    assert offboarded.rc == 0, offboarded.failure_messages()
    stop_task = "Stop the servers and revoke the JupyterHub tokens of users who lost access"
    assert [name.rsplit(" : ", 1)[-1] for name in offboarded.changed_tasks()] == [
        "Reconcile Nebari's users in Keycloak", stop_task], offboarded.changed_tasks()
    taken = [result for name, result in offboarded.results() if name.endswith(stop_task)][0]
    assert [(u["username"], u["servers"]) for u in taken["users"]] == [("alia", [""])] and taken["users"][0]["tokens"]
    assert admin.user("nebari", "alia")["enabled"] is False
    with pytest.raises(hublogin.LoginRefused, match="disabled"):
        hublogin.login(hub, "alia", ALIA_PASSWORD)
    wait_for(lambda: not k8s.list_namespaced_pod(namespace, field_selector="metadata.name=jupyter-alia").items, 120)
    assert session.get(hub + "/user/alia/api/status", allow_redirects=False, timeout=30).status_code != 200
    respawn = session.post(hub + "/hub/spawn", data={"profile": "small", "_xsrf": hublogin.xsrf(session)},
                           allow_redirects=False, timeout=60)
    # (the hub checks her Keycloak tokens before a spawn: Keycloak no longer refreshes them)
    assert respawn.status_code == 403, (respawn.status_code, respawn.headers.get("Location"), respawn.text[:300])
    time.sleep(5)
    assert not k8s.list_namespaced_pod(namespace, field_selector="metadata.name=jupyter-alia").items
    assert admin.user("nebari", "vera")["groups"] == ["/users"]
    dummy, refused = hublogin.login(hub, "vera", VERA_PASSWORD, new_password=VERA_PASSWORD + "-2")
    assert refused.status_code == 403, (refused.status_code, refused.headers.get("Location"), refused.text[:300])
    # a run with nothing more to take changes nothing
    again = playbook("playbooks/users.yml", extra_vars=offboarding)
    assert again.rc == 0 and again.changed == 0, again.changed_tasks()


def forget_user(k8s, namespace, keycloak_url, password, username, timeout=300):
    """Delete the user from the sandbox's realm if the sandbox's Keycloak is there and holds her. A reused test bed
    has just come up: its Keycloak may still be starting, so wait for it when its Service exists."""
    try:
        k8s.read_namespaced_service("keycloak-keycloakx-http", namespace)
    except ApiException as exc:
        assert exc.status == 404, exc
        return
    deadline, error = time.monotonic() + timeout, None
    while True:
        try:
            admin = Admin(keycloak_url, password)
            user = admin.user("nebari", username)
            break
        except urllib.error.HTTPError as exc:
            if exc.code == 404:  # no realm yet
                return
            error = exc
        except OSError as exc:
            error = exc
        assert time.monotonic() < deadline, "the sandbox's Keycloak did not answer in %d s: %s" % (timeout, error)
        time.sleep(5)
    if user:
        admin.call("DELETE", "/nebari/users/%s" % user["id"])


def test_check_mode_changes_nothing(playbook, sandbox_vars, k8s, tmp_path):
    run = playbook(extra_vars=sandbox_vars, args=["--check", "--diff"])
    assert run.rc == 0, run.failure_messages() or run.stderr
    assert not namespace_exists(k8s, sandbox_vars["nebari_namespace"])
    # the only thing written is the kubeconfig on the controller, which later layers need to read the cluster
    assert sorted(p.name for p in (tmp_path / "artifacts").iterdir()) == ["kubeconfig"]
    assert "Install or upgrade jupyterhub from path " in " ".join(run.changed_tasks())


def test_tags_run_one_layer(playbook, sandbox_vars, k8s):
    run = playbook(extra_vars=sandbox_vars, args=["--tags", "cluster"])
    assert run.rc == 0, run.failure_messages()
    names = [name for name, dummy in run.results()]
    assert any(name.endswith("Validate the inventory (every problem listed at once; nothing changes)") for name in names)
    assert any(name.endswith("Read the cluster's nodes") for name in names)
    assert not any("Install or upgrade" in name for name in names)
    assert not namespace_exists(k8s, sandbox_vars["nebari_namespace"])


def test_extra_release_and_removal_only_when_asked(playbook, sandbox_vars, k8s, testbed):
    """Also: a current release costs no helm process, and one changed by hand is put back by a real helm run."""
    namespace = sandbox_vars["nebari_namespace"]
    standin = os.path.join(ROOT, "tests", "testbed", "charts", "standin")
    components = {name: {"enabled": False} for name in CATALOG}
    components["jupyterhub"] = {"chart": {"path": standin}, "timeout": "2m"}
    extra = [{"name": "team-tools", "chart": {"path": standin},
              "values": {"standin": {"nodeSelector": {"nebari.dev/node-group": "user"}}}}]

    def stack(**variables):
        run = playbook(extra_vars=dict(sandbox_vars, nebari_components=components, nebari_extra_releases=extra,
                                       **variables), args=["--tags", "cluster,stack"])
        assert run.rc == 0, run.failure_messages()
        return run

    def installed(release):  # the release's own objects: its values ConfigMap
        names = [c.metadata.name for c in k8s.list_namespaced_config_map(namespace).items]
        return "%s-values" % release in names

    stack()
    pods = k8s.list_namespaced_pod(namespace, label_selector="app.kubernetes.io/instance=team-tools").items
    assert [(p.status.phase, p.spec.node_name) for p in pods] == [("Running", "sandbox-user-0")]
    assert installed("jupyterhub")

    def helm_changes(run):  # the summary rewrites its file when the list of releases changes: not a release
        return [name for name in run.changed_tasks() if "nebari_stack" in name]

    # changed by hand (helm upgrade --set): Helm's record holds other values, so a real helm run puts the
    # inventory's back
    subprocess.run([testbed["helm"], "upgrade", "team-tools", standin, "-n", namespace, "--reuse-values", "--set",
                    "standin.replicas=2", "--kubeconfig", testbed["kubeconfig"]], check=True, capture_output=True)
    components["jupyterhub"]["enabled"] = False
    put_back = stack()
    assert helm_runs(put_back) == ["team-tools"]
    assert helm_changes(put_back) == ["nebari.platform.nebari_stack : Install or upgrade team-tools from path %s"
                                      % standin]
    assert helm_json(testbed, "get", "values", "team-tools", "-n", namespace) == extra[0]["values"]
    assert installed("jupyterhub")  # disabled: skipped, left installed
    removal = stack(nebari_remove_disabled=True)
    assert helm_runs(removal) == []  # team-tools is current: no helm process
    assert helm_changes(removal) == [
        "nebari.platform.nebari_stack : Remove the releases of disabled components (nebari_remove_disabled is true)"]
    assert not installed("jupyterhub") and installed("team-tools")
    assert stack(nebari_remove_disabled=True).changed == 0

    # destroy.yml: refused without the site's domain as its confirmation; then the releases go, and a namespace that
    # holds a volume claim stays with it until destroy_data says otherwise; a second run finds nothing to do
    k8s.create_namespaced_persistent_volume_claim(namespace, {
        "metadata": {"name": "home-data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})
    destroy = dict(sandbox_vars, nebari_components=components, nebari_extra_releases=extra)
    refused = playbook("playbooks/destroy.yml", extra_vars=destroy)
    assert refused.rc != 0 and "-e destroy_confirm=nebari.sandbox.localhost" in refused.output, refused.output[-2000:]
    destroy["destroy_confirm"] = "nebari.sandbox.localhost"
    checked = playbook("playbooks/destroy.yml", extra_vars=destroy, args=["--check"])
    assert checked.rc == 0 and installed("team-tools"), checked.failure_messages()
    kept = playbook("playbooks/destroy.yml", extra_vars=destroy)
    assert kept.rc == 0, kept.failure_messages()
    assert helm_json(testbed, "list", "-a", "-n", namespace) == [] and not installed("team-tools")
    assert namespace_exists(k8s, namespace) and "home-data" in kept.output
    gone = playbook("playbooks/destroy.yml", extra_vars=dict(destroy, destroy_data=True))
    assert gone.rc == 0 and not namespace_exists(k8s, namespace), gone.failure_messages()
    assert playbook("playbooks/destroy.yml", extra_vars=dict(destroy, destroy_data=True)).changed == 0


def test_a_failed_upgrade_rolls_back_and_a_fixed_rerun_converges(playbook, sandbox_vars, k8s, testbed, tmp_path):
    """A failed upgrade rolls back and says what serves; a fixed rerun converges; an upgrade killed mid-way is
    recovered by the next run, once (about 3 minutes: five stack runs, each waiting for its release or its timeout)."""
    namespace = sandbox_vars["nebari_namespace"]
    standin = os.path.join(ROOT, "tests", "testbed", "charts", "standin")
    components = {name: {"enabled": False} for name in CATALOG}

    def stack(node_group):
        extra = [{"name": "team-tools", "chart": {"path": standin}, "timeout": "20s",
                  "values": {"standin": {"nodeSelector": {"nebari.dev/node-group": node_group}}}}]
        return playbook(extra_vars=dict(sandbox_vars, nebari_components=components, nebari_extra_releases=extra),
                        args=["--tags", "cluster,stack"])

    def serving():
        pods = k8s.list_namespaced_pod(namespace, label_selector="app.kubernetes.io/instance=team-tools").items
        return sorted((p.status.phase, p.spec.node_name) for p in pods if not p.metadata.deletion_timestamp)

    def history():
        proc = subprocess.run([testbed["helm"], "history", "team-tools", "-n", namespace, "-o", "json",
                               "--kubeconfig", testbed["kubeconfig"]], capture_output=True, text=True, check=True)
        return [(r["revision"], r["status"], r["description"]) for r in yaml.safe_load(proc.stdout)]

    assert stack("user").rc == 0
    assert serving() == [("Running", "sandbox-user-0")]

    broken = stack("nowhere")  # no node carries this label: the new pods never schedule, the upgrade times out
    assert broken.rc != 0
    message = "\n".join(broken.failure_messages())
    assert "Release team-tools (path %s) in namespace %s failed" % (standin, namespace) in message, message
    assert "Rolled back: revision 2 failed; revision 3, a rollback, is deployed and serving" in message
    assert "node affinity/selector" in message, message  # the scheduler's warning event
    assert [status for dummy, status, dummy in history()] == ["superseded", "failed", "deployed"]
    assert history()[-1][2] == "Rollback to 1"
    deployment = client_apps(k8s).read_namespaced_deployment("team-tools", namespace)
    assert deployment.spec.template.spec.node_selector == {"nebari.dev/node-group": "user"}
    wait_for(lambda: serving() == [("Running", "sandbox-user-0")])

    fixed = stack("worker")
    assert fixed.rc == 0, fixed.failure_messages()
    wait_for(lambda: serving() == [("Running", "sandbox-worker-0")])
    assert history()[-1][1] == "deployed"

    # an upgrade killed mid-way (the controller or the API server gone) leaves the release pending-upgrade, and
    # every later upgrade would fail with "another operation is in progress": once the release's timeout has
    # passed, the next run rolls it back to what was serving, then upgrades it
    values = tmp_path / "nowhere.yml"
    values.write_text(yaml.safe_dump({"standin": {"nodeSelector": {"nebari.dev/node-group": "nowhere"}}}))
    killed = subprocess.Popen([testbed["helm"], "upgrade", "team-tools", standin, "-n", namespace, "-f", str(values),
                               "--wait", "--timeout", "5m", "--kubeconfig", testbed["kubeconfig"]],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: history()[-1][1] == "pending-upgrade", 60)
    finally:
        killed.kill()
        killed.wait()
    pending = history()[-1][0]
    time.sleep(21)  # the release's timeout (20s): until then it may be another run's upgrade at work
    recovered = stack("user")
    assert recovered.rc == 0, recovered.failure_messages()
    assert any(name.endswith("Recover the releases pending longer than their timeout (rollback; uninstall of a "
                             "first install)") for name in recovered.changed_tasks()), recovered.changed_tasks()
    # (Helm leaves the killed revision pending in the history: only the latest revision counts)
    assert [(revision, status) for revision, status, dummy in history()[-3:]] == [
        (pending, "pending-upgrade"), (pending + 1, "superseded"), (pending + 2, "deployed")], history()
    assert history()[-2][2] == "Rollback to %d" % (pending - 1)
    wait_for(lambda: serving() == [("Running", "sandbox-user-0")])
    again = stack("user")
    assert again.rc == 0 and again.changed == 0, again.changed_tasks()
    assert helm_runs(again) == []


def client_apps(k8s):
    from kubernetes import client

    return client.AppsV1Api(k8s.api_client)


def wait_for(predicate, timeout=60):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met after %ds" % timeout
        time.sleep(0.5)


def test_airgap_installs_from_the_local_charts_and_preflight_names_a_missing_one(playbook, sandbox_vars, k8s, testbed,
                                                                                 tmp_path):
    """No chart override: jupyterhub's repository chart resolves to <airgap dir>/charts/jupyterhub-4.4.0.tgz."""
    namespace = sandbox_vars["nebari_namespace"]
    with open(os.path.join(ROOT, "roles", "nebari", "vars", "main.yml")) as f:
        pin = yaml.safe_load(f)["nebari_component_catalog"]["jupyterhub"]["chart"]["version"]
    charts = tmp_path / "airgap" / "charts"
    charts.mkdir(parents=True)
    subprocess.run([testbed["helm"], "package", os.path.join(ROOT, "tests", "testbed", "charts", "standin"), "-d",
                    str(tmp_path)], check=True, capture_output=True)
    variables = dict(sandbox_vars, nebari_airgap=True, nebari_airgap_dir=str(tmp_path / "airgap"),
                     nebari_components=dict({name: {"enabled": False} for name in CATALOG}, jupyterhub={}))

    missing = playbook(extra_vars=variables, args=["--tags", "cluster,stack"])
    assert missing.rc != 0
    assert "nebari_airgap_dir: chart of jupyterhub is missing: %s/jupyterhub-%s.tgz" % (charts, pin) \
        in "\n".join(missing.failure_messages())
    assert not namespace_exists(k8s, namespace)  # preflight failed before anything changed

    os.rename(tmp_path / "nebari-standin-0.1.0.tgz", charts / ("jupyterhub-%s.tgz" % pin))
    run = playbook(extra_vars=variables, args=["--tags", "cluster,stack"])
    assert run.rc == 0, run.failure_messages()
    assert any("Install or upgrade jupyterhub from path %s/jupyterhub-%s.tgz (airgap copy of jupyterhub %s from "
               "https://hub.jupyter.org/helm-chart/)" % (charts, pin, pin) in name for name in run.changed_tasks())
    pods = k8s.list_namespaced_pod(namespace, label_selector="app.kubernetes.io/instance=jupyterhub").items
    assert [(p.status.phase, p.spec.node_name) for p in pods] == [("Running", "sandbox-general-1")]
