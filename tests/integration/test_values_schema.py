"""The values the stack renders from the inventory, merged over each real chart's defaults as Helm merges them,
validate against that chart's own values schema (../shared/chart-schemas). A misspelt key or a wrong type fails here
exactly as `helm install` of the real chart would fail."""

from __future__ import annotations

import copy
import json
import os

import jsonschema
import pytest
import yaml

from conftest import ROOT, SANDBOX_KEYCLOAK_URL

SCHEMAS = os.path.join(os.path.dirname(ROOT), "shared", "chart-schemas")
# the real upstream charts at the catalog's pins (../shared/charts/README.md)
CHARTS = os.environ.get("NEBARI_SANDBOX_CHARTS") or os.path.join(os.path.dirname(ROOT), "shared", "charts")


def helm_merge(base, override):
    """Maps merge, lists and scalars replace; null deletes the key (Helm's coalescing of user values)."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = helm_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def chart_files(release):
    prefix = os.path.join(SCHEMAS, "%s-%s" % (release["chart_ref"], release["chart_version"]))
    schema = next((prefix + ext for ext in (".values.schema.yaml", ".values.schema.json") if os.path.exists(prefix + ext)),
                  None)
    return prefix + ".values.yaml", schema


MIRROR = "registry.internal:5000/mirror"
STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory"
CASES = {  # each TLS mode; and every image from a registry mirror, as an airgapped site sets it
    "selfsigned": {"nebari_tls": {"mode": "selfsigned"}},
    "letsencrypt": {"nebari_tls": {"mode": "letsencrypt", "acme_email": "ops@example.com", "acme_server": STAGING}},
    "existing": {"nebari_tls": {"mode": "existing", "secret_name": "nebari-tls"}},
    "mirror": {"nebari_tls": {"mode": "selfsigned"}, "nebari_image_registry": MIRROR},
    # a StorageClass and sizes, and every service's Keycloak client secret
    # (and idle culling: servers never, kernels after an hour even when busy)
    "storage-and-login": {"nebari_storage": {"class": "fast-ssd", "user_home": "20Gi", "prometheus": "100Gi"},
                          "nebari_idle_culler": {"server_cull_timeout": 0, "kernel_cull_idle_timeout": 60,
                                                 "kernel_cull_busy": True},
                          "nebari_keycloak_client_secrets": {client: "s3cret-%s" % client for client in (
                              "jupyterhub", "conda_store", "argo-server-sso", "grafana")}},
    # k3s with NVIDIA's GPU Operator installing driver and toolkit (instead of the device plugin and role nvidia_gpu)
    "k3s-gpu-operator": {"nebari_cluster_provider": "k3s", "nebari_metallb_addresses": ["10.0.0.240-10.0.0.250"],
                         "nebari_gpu_plugin": "gpu-operator", "nebari_gpu_operator_driver": True},
    # every user of the realm may log in to JupyterHub (instead of the groups holding a jupyterhub role)
    "hub-allow-all": {"nebari_tls": {"mode": "selfsigned"}, "nebari_jupyterhub_allow_all": True,
                      "nebari_keycloak_client_secrets": {"jupyterhub": "s3cret-jupyterhub"}},
    # without Dask Gateway and Loki: no route or entry point for the one, no data source for the other
    "no-dask-no-loki": {"nebari_tls": {"mode": "selfsigned"},
                        "nebari_components": {"dask-gateway": {"enabled": False}, "loki": {"enabled": False},
                                              "promtail": {"enabled": False}}},
}


@pytest.fixture(scope="module", params=list(CASES))
def rendered(request, tmp_path_factory):
    import subprocess

    out = tmp_path_factory.mktemp("values") / "values.json"
    extra = tmp_path_factory.mktemp("vars") / "vars.json"
    # the catalog as shipped: repository charts with their pinned versions and upstream images, not the sandbox's
    # airgap directory and registry
    # (and none of the sandbox's client secrets: each case gives its own; nor the test bed's secret files: rendering
    # needs no test bed)
    shipped = {"nebari_airgap": False, "nebari_image_registry": "", "nebari_components": {},
               "nebari_keycloak_client_secrets": {}, "nebari_conda_store_token": "render-only",
               "nebari_keycloak_admin_password": "render-only"}
    extra.write_text(json.dumps(dict(shipped, **CASES[request.param], values_out=str(out))))
    proc = subprocess.run([os.path.join(ROOT, ".venv", "bin", "ansible-playbook"),
                           "tests/integration/playbooks/render_values.yml", "-i", "inventories/sandbox",
                           "-e", "@%s" % extra], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg")), check=False)
    assert proc.returncode == 0, proc.stdout[-3000:]
    return dict(json.loads(out.read_text()), case=request.param)


def test_every_release_with_a_published_schema_validates(rendered):
    if not os.path.isdir(SCHEMAS):
        pytest.skip("no ../shared/chart-schemas beside the checkout")
    checked = []
    for release in rendered["releases"]:
        defaults_file, schema_file = chart_files(release)
        if schema_file is None:
            continue
        with open(defaults_file) as f:
            defaults = yaml.safe_load(f)
        with open(schema_file) as f:
            schema = yaml.safe_load(f)
        values = helm_merge(defaults, rendered["values"][release["component"]])
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(values), key=lambda e: list(e.absolute_path))
        assert not errors, "%s: %s" % (release["component"], "; ".join(
            "%s: %s" % ("/".join(map(str, e.absolute_path)), e.message) for e in errors))
        checked.append(release["component"])
    assert {"jupyterhub", "traefik", "keycloak", "dask-gateway", "metallb"} <= set(checked)


def test_a_misspelt_key_fails_validation(rendered):
    """The check is not vacuous: z2jh's schema refuses an unknown key under hub."""
    if not os.path.isdir(SCHEMAS):
        pytest.skip("no ../shared/chart-schemas beside the checkout")
    release = next(r for r in rendered["releases"] if r["component"] == "jupyterhub")
    defaults_file, schema_file = chart_files(release)
    with open(defaults_file) as f:
        defaults = yaml.safe_load(f)
    with open(schema_file) as f:
        schema = yaml.safe_load(f)
    values = helm_merge(defaults, rendered["values"]["jupyterhub"])
    values["hub"]["nodeSelectr"] = {}
    assert list(jsonschema.Draft7Validator(schema).iter_errors(values))


def run_dask_gateway_config(code):
    """Execute the rendered Dask Gateway config snippet as the gateway would, with its options classes stubbed."""
    import sys
    import types

    class Select:
        def __init__(self, field, options, default=None, label=None):
            self.field, self.options, self.default, self.label = field, options, default, label

    class Options:
        def __init__(self, *fields, handler=None):
            self.fields, self.handler = fields, handler

    module = types.ModuleType("dask_gateway_server.options")
    module.Options, module.Select = Options, Select
    config = types.SimpleNamespace(Backend=types.SimpleNamespace())
    saved = {name: sys.modules.get(name) for name in ("dask_gateway_server", "dask_gateway_server.options")}
    sys.modules.update({"dask_gateway_server": types.ModuleType("dask_gateway_server"),
                        "dask_gateway_server.options": module})
    try:
        exec(compile(code, "dask_gateway_config.py", "exec"), {"c": config})  # pylint: disable=exec-used
    finally:
        for name, value in saved.items():
            if value is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = value
    return config.Backend.cluster_options


def test_gpu_profiles_select_the_gpu_nodes_and_tolerate_their_taint(rendered):
    """The sandbox's GPU profiles (inventories/sandbox/group_vars/all/profiles.yml) land on the gpu node group."""
    toleration = [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}]
    # on k3s GPU pods run with the nvidia RuntimeClass (containerd's default runtime there is runc)
    runtime = {"runtimeClassName": "nvidia"} if rendered["case"] == "k3s-gpu-operator" else {}
    profiles = {p["slug"]: p for p in rendered["values"]["jupyterhub"]["singleuser"]["profileList"]}
    assert profiles["gpu"]["kubespawner_override"] == dict({
        "node_selector": {"nebari.dev/node-group": "gpu"}, "tolerations": toleration, "cpu_limit": 4,
        "cpu_guarantee": 4, "mem_limit": "16G", "mem_guarantee": "16G", "extra_resource_limits": {"nvidia.com/gpu": "1"}},
        **({"extra_pod_config": runtime} if runtime else {}))
    assert profiles["small"]["default"] and profiles["small"]["kubespawner_override"]["node_selector"] == {
        "nebari.dev/node-group": "user"}

    options = run_dask_gateway_config(
        rendered["values"]["dask-gateway"]["gateway"]["extraConfig"]["nebari-worker-profiles"])
    (select,) = options.fields
    assert (select.field, select.options, select.default) == ("worker_profile", ["small", "gpu"], "small")
    gpu = options.handler(type("Chosen", (), {"worker_profile": "gpu"}))
    assert gpu["worker_extra_pod_config"] == dict({"nodeSelector": {"nebari.dev/node-group": "gpu"},
                                                   "tolerations": toleration}, **runtime)
    assert gpu["worker_extra_container_config"] == {"resources": {"limits": {"nvidia.com/gpu": "1"}}}
    assert (gpu["worker_cores_limit"], gpu["worker_memory_limit"], gpu["worker_threads"]) == (4, "16G", 1)
    small = options.handler(type("Chosen", (), {"worker_profile": "small"}))
    assert small["worker_extra_pod_config"]["nodeSelector"] == {"nebari.dev/node-group": "worker"}
    assert "worker_extra_container_config" not in small


def test_the_gpu_release_runs_on_the_gpu_node_group(rendered):
    """Device plugin by default (provider existing: no RuntimeClass); GPU Operator with driver and toolkit on k3s."""
    enabled = {r["component"] for r in rendered["releases"] if r["enabled"]}
    toleration = {"key": "nvidia.com/gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}
    terms = [{"matchExpressions": [{"key": "nebari.dev/node-group", "operator": "In", "values": ["gpu"]}]}]
    if rendered["case"] != "k3s-gpu-operator":
        assert "nvidia-device-plugin" in enabled and "gpu-operator" not in enabled
        plugin = rendered["values"]["nvidia-device-plugin"]
        assert plugin["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == {
            "nodeSelectorTerms": terms}
        assert toleration in plugin["tolerations"] and "runtimeClassName" not in plugin
        return
    assert "gpu-operator" in enabled and "nvidia-device-plugin" not in enabled
    operator = rendered["values"]["gpu-operator"]
    assert operator["driver"] == {"enabled": True} and operator["toolkit"]["enabled"] is True
    assert {"name": "CONTAINERD_SOCKET", "value": "/run/k3s/containerd/containerd.sock"} in operator["toolkit"]["env"]
    assert operator["daemonsets"]["tolerations"] == [toleration]


def image_references(values, path=""):
    """(path, reference) of every image setting in a values tree: {name} (z2jh), {registry, repository}, or
    {repository}; a chart-wide global registry counts as one reference."""
    found = []
    if isinstance(values, dict):
        for key, value in values.items():
            where = "%s.%s" % (path, key)
            if key == "image" and isinstance(value, dict):
                found.append((where, value.get("name") or "/".join(
                    str(part) for part in (value.get("registry"), value.get("repository")) if part)))
            elif key in ("imageRegistry", "registry") and isinstance(value, str):
                found.append((where, value))
            else:
                found.extend(image_references(value, where))
    return found


def test_a_registry_mirror_points_every_image_of_the_catalog_at_it(rendered):
    if rendered["case"] != "mirror":
        pytest.skip("only with nebari_image_registry set")
    for release in rendered["releases"]:
        references = image_references(rendered["values"][release["component"]])
        assert references, "%s: no image setting points at the mirror" % release["component"]
        outside = [(path, ref) for path, ref in references if not ref.startswith(MIRROR)]
        assert not outside, "%s: %s" % (release["component"], outside)
    jupyterhub = rendered["values"]["jupyterhub"]
    assert jupyterhub["hub"]["image"]["name"] == MIRROR + "/jupyterhub/k8s-hub"


def test_lets_encrypt_takes_its_address_and_server_from_the_inventory(rendered):
    if rendered["case"] != "letsencrypt":
        pytest.skip("only with nebari_tls mode letsencrypt")
    acme = rendered["values"]["traefik"]["certificatesResolvers"]["letsencrypt"]["acme"]
    assert acme["email"] == "ops@example.com" and acme["caServer"] == STAGING


def test_storage_and_keycloak_login_come_from_the_inventory(rendered):
    values = rendered["values"]
    if rendered["case"] != "storage-and-login":
        # the sandbox's shared volume (nebari_storage.shared): homes and conda-store's store on claim nebari-shared;
        # no client secret: no Keycloak login configured
        assert values["jupyterhub"]["singleuser"]["storage"] == {
            "type": "static", "static": {"pvcName": "nebari-shared", "subPath": "home/{username}"},
            "homeMountPath": "/home/{username}"}
        assert values["conda-store"]["storage"] == {"existingClaim": "nebari-shared", "subPath": "conda-store",
                                                    "accessMode": "ReadWriteMany"}
        assert "nebari_shared_storage" in values["jupyterhub"]["hub"]["extraConfig"]["nebari-shared-storage"]
        assert values["jupyterhub"]["hub"]["config"]["KubeSpawner"] == {"working_dir": "/home/{username}"}
        if rendered["case"] != "hub-allow-all":  # (its only client secret: JupyterHub's)
            assert list(values["jupyterhub"]["hub"]["config"]) == ["KubeSpawner"]
        assert "envValueFrom" not in values["kube-prometheus-stack"]["grafana"]
        assert values["argo-workflows"]["server"]["extraArgs"] == ["--auth-mode=client"]
        return
    # without nebari_storage.shared: a volume per user, conda-store's own
    assert values["jupyterhub"]["singleuser"]["storage"] == {"capacity": "20Gi", "dynamic": {"storageClass": "fast-ssd"}}
    # (but the sandbox's profile access: its gpu profile is for group developer only)
    assert list(values["jupyterhub"]["hub"]["extraConfig"]) == ["nebari-profile-access"]
    assert list(values["jupyterhub"]["custom"]) == ["nebari-profile-access"]
    assert values["jupyterhub"]["hub"]["db"]["pvc"]["storageClassName"] == "fast-ssd"
    assert values["conda-store"]["storage"] == {"size": "200Gi", "storageClass": "fast-ssd"}
    assert values["keycloak-postgresql"]["primary"]["persistence"] == {"size": "8Gi", "storageClass": "fast-ssd"}
    claim = values["kube-prometheus-stack"]["prometheus"]["prometheusSpec"]["storageSpec"]["volumeClaimTemplate"]
    assert claim["spec"]["storageClassName"] == "fast-ssd" and claim["spec"]["resources"]["requests"]["storage"] == "100Gi"
    assert values["loki"]["singleBinary"]["persistence"]["storageClass"] == "fast-ssd"

    realm = SANDBOX_KEYCLOAK_URL + "/realms/nebari/protocol/openid-connect"
    hub = values["jupyterhub"]["hub"]
    assert hub["config"]["JupyterHub"]["authenticator_class"] == "generic-oauth"
    assert hub["config"]["GenericOAuthenticator"]["token_url"] == realm + "/token"
    assert hub["extraEnv"]["OAUTH_CLIENT_SECRET"]["valueFrom"]["secretKeyRef"] == {
        "name": "jupyterhub-oidc", "key": "client-secret"}
    grafana = values["kube-prometheus-stack"]["grafana"]
    assert grafana["grafana.ini"]["auth.generic_oauth"]["auth_url"] == realm + "/auth"
    assert grafana["envValueFrom"]["GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET"]["secretKeyRef"]["name"] == \
        "kube-prometheus-stack-oidc"
    sso = values["argo-workflows"]["server"]["sso"]
    assert sso["clientSecret"] == {"name": "argo-workflows-oidc", "key": "client-secret"}
    # the secrets themselves stay in Secrets: never in the values Helm stores
    assert "s3cret" not in json.dumps(values)
    assert {r["component"]: r["oidc_client"] for r in rendered["releases"] if r["oidc_client"]} == {
        "conda-store": "conda_store", "jupyterhub": "jupyterhub", "argo-workflows": "argo-server-sso",
        "kube-prometheus-stack": "grafana"}


def test_hub_login_is_for_the_groups_holding_a_jupyterhub_role_and_profiles_for_their_members(rendered, monkeypatch):
    """allowed_groups from the sandbox's groups (nebari_jupyterhub_allow_all: every realm user); the sandbox's gpu
    profile offered to group developer only, through the hub's extraConfig over a profileList KubeSpawner reads as
    it is."""
    import asyncio
    import logging
    import sys
    import types

    hub = rendered["values"]["jupyterhub"]
    login = hub["hub"]["config"].get("GenericOAuthenticator")
    if rendered["case"] == "storage-and-login":
        assert (login["allowed_groups"], login["admin_groups"]) == (
            ["/superadmin", "/admin", "/developer", "/analyst", "/ml-team"], ["/admin", "/superadmin"])
        assert "allow_all" not in login
    elif rendered["case"] == "hub-allow-all":
        assert (login["allow_all"], login["admin_groups"]) == (True, ["/admin", "/superadmin"])
        assert "allowed_groups" not in login
    else:
        assert login is None  # no client secret: no Keycloak login
    profiles = hub["singleuser"]["profileList"]
    assert all(set(p) <= {"slug", "display_name", "description", "default", "kubespawner_override"} for p in profiles)
    assert hub["custom"]["nebari-profile-access"] == {
        "gpu": {"users": [], "groups": ["/developer"]},
        "large": {"users": [], "groups": [], "names": ["Large Instance", "large"]}}
    # the extraConfig as z2jh runs it, after z2jh has set KubeSpawner's profile_list from singleuser.profileList
    for name, module in {"jupyterhub": types.ModuleType("jupyterhub"),
                         "jupyterhub.utils": types.SimpleNamespace(maybe_future=lambda value: value),
                         "tornado": types.SimpleNamespace(web=types.SimpleNamespace(HTTPError=Exception)),
                         "z2jh": types.SimpleNamespace(get_config=lambda key, default=None: hub["custom"].get(
                             key.split(".", 1)[1], default))}.items():
        monkeypatch.setitem(sys.modules, name, module)
    c = types.SimpleNamespace(KubeSpawner=types.SimpleNamespace(profile_list=profiles))
    exec(compile(hub["hub"]["extraConfig"]["nebari-profile-access"], "nebari-profile-access", "exec"),  # noqa: S102
         {"c": c})

    def offered(groups, attribute=()):
        async def auth_state():
            return {"oauth_user": {"jupyterlab_profiles": list(attribute)}}

        user = types.SimpleNamespace(name="alia", admin=False, groups=[types.SimpleNamespace(name=g) for g in groups],
                                     get_auth_state=auth_state)
        spawner = types.SimpleNamespace(user=user, log=logging.getLogger("spawner"))
        return [p["slug"] for p in asyncio.run(c.KubeSpawner.profile_list(spawner))]

    assert offered(["/analyst", "/ml-team"]) == ["small"] and offered(["/developer"]) == ["small", "gpu"]
    assert offered(["/analyst"], ["Large Instance"]) == ["small", "large"]


def test_idle_culling_takes_nebari_defaults_and_the_inventory_in_minutes(rendered):
    hub = rendered["values"]["jupyterhub"]
    culler = hub["singleuser"]["extraFiles"]["nebari-idle-culler"]
    assert culler["mountPath"] == "/etc/jupyter/jupyter_server_config.json"
    if rendered["case"] != "storage-and-login":
        assert hub["cull"] == {"enabled": True, "timeout": 1800, "every": 600}
        assert culler["data"] == {
            "MappingKernelManager": {"cull_idle_timeout": 900, "cull_interval": 300, "cull_connected": True,
                                     "cull_busy": False},
            "TerminalManager": {"cull_inactive_timeout": 900, "cull_interval": 300},
            "ServerApp": {"shutdown_no_activity_timeout": 900}}
        return
    assert hub["cull"]["enabled"] is False
    assert culler["data"]["MappingKernelManager"] == {"cull_idle_timeout": 3600, "cull_interval": 300,
                                                      "cull_connected": True, "cull_busy": True}


def test_every_url_path_is_routed_on_the_https_entry_point_and_grafana_has_its_data_sources(rendered):
    """/argo/ and /monitoring/ through their charts' Ingresses on websecure, /gateway and the schedulers' entry point
    tcp through Traefik's own values to dask-gateway's Traefik; Grafana's data sources are Prometheus (the chart's),
    Loki, and no Alertmanager, which does not run; and the Nebari dashboard."""
    values = rendered["values"]
    websecure = {"traefik.ingress.kubernetes.io/router.entrypoints": "websecure",
                 "traefik.ingress.kubernetes.io/router.tls": "true"}
    argo = values["argo-workflows"]["server"]
    assert (argo["baseHref"], argo["ingress"]["enabled"], argo["ingress"]["paths"], argo["ingress"]["hosts"]) == (
        "/argo/", True, ["/argo/"], ["nebari.sandbox.localhost"])
    middleware = {"traefik.ingress.kubernetes.io/router.middlewares": "dev-argo-workflows-strip-prefix@kubernetescrd"}
    assert argo["ingress"]["annotations"] == dict(websecure, **middleware)
    assert values["argo-workflows"]["extraObjects"][0] == {
        "apiVersion": "traefik.io/v1alpha1", "kind": "Middleware", "metadata": {"name": "argo-workflows-strip-prefix"},
        "spec": {"stripPrefix": {"prefixes": ["/argo"]}}}
    grafana = values["kube-prometheus-stack"]["grafana"]
    assert (grafana["ingress"]["enabled"], grafana["ingress"]["path"], grafana["ingress"]["annotations"]) == (
        True, "/monitoring/", websecure)
    assert grafana["grafana.ini"]["server"]["root_url"] == "https://nebari.sandbox.localhost/monitoring/"
    assert values["kube-prometheus-stack"]["alertmanager"]["enabled"] is False
    assert grafana["sidecar"]["datasources"]["alertmanager"]["enabled"] is False
    # the Nebari dashboard, loaded by Grafana's sidecar; the chart passes extraManifests through tpl: no braces pairs
    dashboard = values["kube-prometheus-stack"]["extraManifests"][0]
    assert (dashboard["kind"], dashboard["metadata"]) == (
        "ConfigMap", {"name": "nebari-dashboard", "labels": {"grafana_dashboard": "1"}})
    assert "{{" not in dashboard["data"]["nebari.json"]
    panels = {p["title"]: p for p in json.loads(dashboard["data"]["nebari.json"])["panels"]}
    assert panels["JupyterLab servers"]["targets"][0]["expr"] == (
        'count(kube_pod_info{namespace="dev", pod=~"jupyter-.*"}) or vector(0)')
    assert ("Logs of dev" in panels) == (rendered["case"] != "no-dask-no-loki")
    traefik = values["traefik"]
    assert traefik["ports"]["web"]["asDefault"] and traefik["ports"]["websecure"]["asDefault"]
    if rendered["case"] == "no-dask-no-loki":
        assert "tcp" not in traefik["ports"] and "extraObjects" not in traefik
        assert "additionalDataSources" not in grafana
        return
    assert grafana["additionalDataSources"] == [{"name": "Loki", "type": "loki", "uid": "loki", "access": "proxy",
                                                 "url": "http://loki-gateway.dev.svc.cluster.local",
                                                 "isDefault": False}]
    assert traefik["ports"]["tcp"] == {"port": 8786, "expose": {"default": True}, "exposedPort": 8786,
                                       "protocol": "TCP"}
    route, tcp = traefik["extraObjects"]
    assert (route["kind"], route["spec"]["entryPoints"], route["spec"]["routes"]) == ("IngressRoute", ["websecure"], [{
        "kind": "Rule", "match": "Host(`nebari.sandbox.localhost`) && PathPrefix(`/gateway`)",
        "services": [{"name": "traefik-dask-gateway", "namespace": "dev", "port": 80}]}])
    assert (tcp["kind"], tcp["spec"]["entryPoints"], tcp["spec"]["routes"]) == ("IngressRouteTCP", ["tcp"], [{
        "match": "HostSNI(`*`)", "services": [{"name": "traefik-dask-gateway", "namespace": "dev", "port": 8786}]}])
    assert values["dask-gateway"]["gateway"]["prefix"] == "/gateway"
    assert values["dask-gateway"]["traefik"]["service"]["ports"] == {"web": {"port": 80}, "tcp": {"port": 8786}}


ARGO_TIERS = {"argo-admin": ("admin", "11"), "argo-developer": ("edit", "10"), "argo-viewer": ("view", "9")}


def test_argo_sso_maps_each_role_to_an_account_bound_to_the_charts_own_role(rendered, testbed, tmp_path):
    """With single sign-on, Argo's SSO RBAC has a ServiceAccount per role of the argo-server-sso client (read from
    Keycloak's `roles` claim), each with its token Secret and a RoleBinding, in the workflow namespace, to the
    admin, edit or view ClusterRole that the real chart, rendered by `helm template`, creates; without single
    sign-on, none of them. No account matches every user: a user with none of the roles is refused."""
    release = next(r for r in rendered["releases"] if r["component"] == "argo-workflows")
    chart = os.path.join(CHARTS, "%s-%s.tgz" % (release["chart_ref"], release["chart_version"]))
    if not os.path.exists(chart):
        pytest.skip("no %s beside the checkout" % chart)
    import subprocess

    values = rendered["values"]["argo-workflows"]
    (tmp_path / "values.yaml").write_text(yaml.safe_dump(values))
    proc = subprocess.run([testbed["helm"], "template", release["release"], chart, "--namespace", release["namespace"],
                           "-f", str(tmp_path / "values.yaml")], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    objects = [doc for doc in yaml.safe_load_all(proc.stdout) if doc]
    by_kind = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], {})[obj["metadata"]["name"]] = obj
    tiers = {name: obj for kind in ("ServiceAccount", "Secret", "RoleBinding")
             for name, obj in by_kind.get(kind, {}).items() if name.split(".")[0] in ARGO_TIERS}
    if rendered["case"] != "storage-and-login":
        assert "sso" not in values["server"] and not tiers
        return
    namespace = release["namespace"]
    assert values["server"]["sso"]["customGroupClaimName"] == "roles"
    assert values["server"]["sso"]["rbac"] == {"enabled": True}
    config = yaml.safe_load(by_kind["ConfigMap"]["argo-workflows-workflow-controller-configmap"]["data"]["config"])
    assert config["sso"]["customGroupClaimName"] == "roles" and config["sso"]["rbac"] == {"enabled": True}
    cluster_roles = by_kind["ClusterRole"]
    for role, (access, precedence) in ARGO_TIERS.items():
        account = by_kind["ServiceAccount"][role]
        assert account["metadata"]["namespace"] == namespace
        assert account["metadata"]["annotations"] == {
            "workflows.argoproj.io/rbac-rule": "'%s' in groups" % role,
            "workflows.argoproj.io/rbac-rule-precedence": precedence}
        token = by_kind["Secret"][role + ".service-account-token"]
        assert (token["type"], token["metadata"]["namespace"], token["metadata"]["annotations"]) == (
            "kubernetes.io/service-account-token", namespace, {"kubernetes.io/service-account.name": role})
        binding = by_kind["RoleBinding"][role]
        assert binding["metadata"]["namespace"] == "dev"  # the workflow namespace (nebari_namespace)
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": role, "namespace": namespace}]
        assert (binding["roleRef"]["apiGroup"], binding["roleRef"]["kind"]) == ("rbac.authorization.k8s.io",
                                                                                "ClusterRole")
        # a ClusterRole of the chart's own output: argo-workflows-admin, -edit, -view (aggregated into Kubernetes'
        # admin, edit and view roles)
        assert binding["roleRef"]["name"] in cluster_roles, "%s: no ClusterRole %s in the chart's output (%s)" % (
            role, binding["roleRef"]["name"], ", ".join(sorted(cluster_roles)))
        granted = cluster_roles[binding["roleRef"]["name"]]
        assert granted["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-%s" % access] == "true"
    # precedence: admin over developer over viewer; no catch-all rule
    precedences = [int(by_kind["ServiceAccount"][role]["metadata"]["annotations"][
        "workflows.argoproj.io/rbac-rule-precedence"]) for role in ("argo-admin", "argo-developer", "argo-viewer")]
    assert precedences == sorted(precedences, reverse=True)
    rules = [sa["metadata"].get("annotations", {}).get("workflows.argoproj.io/rbac-rule")
             for sa in by_kind["ServiceAccount"].values()]
    assert "true" not in rules and len([r for r in rules if r]) == 3
