"""The cluster check over fake API objects: each kind of problem found and named, and what is not a problem."""

from __future__ import annotations

import json

from ansible_collections.nebari.platform.plugins.module_utils import cluster_check as cc

NS = "dev"
NODE_GROUPS = {"general": {"labels": {"nebari.dev/node-group": "general"}},
               "user": {"labels": {"nebari.dev/node-group": "user"}},
               "gpu": {"labels": {"nebari.dev/node-group": "gpu"}}}
RELEASES = [{"component": "jupyterhub", "release": "jupyterhub", "namespace": NS},
            {"component": "traefik", "release": "traefik", "namespace": NS},
            {"component": "mine", "release": "mine", "namespace": NS}]
PLACEMENT = {"default": ["general"], "components": ["jupyterhub", "traefik"],
             "releases": {"jupyterhub": {"singleuser-server": ["user", "gpu"]}}}


def meta(name, namespace=NS, **extra):
    return dict({"name": name, "namespace": namespace}, **extra)


def service(name, ports=((80, "http"),), type_="ClusterIP", namespace=NS, ingress=None):
    obj = {"metadata": meta(name, namespace), "spec": {"type": type_, "ports": [
        {"port": port, "name": pname} for port, pname in ports]}}
    if ingress is not None:
        obj["status"] = {"loadBalancer": {"ingress": ingress}}
    return obj


def pod(name, spec=None, labels=None, node="general-0", ready=True, phase="Running", owners=()):
    return {"metadata": meta(name, labels=labels or {}, ownerReferences=[{"kind": k, "name": "x"} for k in owners]),
            "spec": dict({"nodeName": node, "containers": [{"name": "main"}]}, **(spec or {})),
            "status": {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                       "containerStatuses": [{"name": "main", "ready": ready,
                                              "state": {"running": {}} if ready else
                                              {"waiting": {"reason": "CrashLoopBackOff"}}}]}}


def secret(name, keys):
    return {"metadata": meta(name), "data": dict.fromkeys(keys, "eA==")}


NODES = [{"metadata": {"name": "general-0", "labels": {"nebari.dev/node-group": "general"}}},
         {"metadata": {"name": "user-0", "labels": {"nebari.dev/node-group": "user"}}}]


def run(**objects):
    objects.setdefault("nodes", NODES)
    return cc.run_checks(objects, RELEASES, PLACEMENT, NODE_GROUPS, ["singleuser-server"])


def messages(problems):
    return [p["message"] for p in problems]


HEALTHY_HUB = {
    "containers": [{"name": "hub", "env": [
        {"name": "A", "valueFrom": {"secretKeyRef": {"name": "hub", "key": "hub.config.a"}}},
        {"name": "B", "valueFrom": {"secretKeyRef": {"name": "gone", "key": "x", "optional": True}}}],
        "envFrom": [{"configMapRef": {"name": "cfg"}}]}],
    "volumes": [{"name": "db", "persistentVolumeClaim": {"claimName": "hub-db-dir"}},
                {"name": "s", "secret": {"secretName": "absent", "optional": True}}]}


def test_a_healthy_namespace_has_no_problem():
    objects = dict(
        services=[service("proxy-public"), service("traefik", type_="LoadBalancer", ingress=[{"ip": "10.0.0.1"}])],
        ingresses=[{"metadata": meta("jupyterhub"), "spec": {"rules": [{"host": "a", "http": {"paths": [
            {"path": "/", "backend": {"service": {"name": "proxy-public", "port": {"name": "http"}}}}]}}]}}],
        ingressroutes=[{"metadata": meta("hub"), "spec": {"routes": [{"match": "PathPrefix(`/`)", "services": [
            {"name": "proxy-public", "port": 80}, {"name": "api@internal", "kind": "TraefikService"}]}]}}],
        secrets=[secret("hub", ["hub.config.a"])],
        configmaps=[{"metadata": meta("cfg"), "data": {"a": "1"}}],
        pvcs=[{"metadata": meta("hub-db-dir")}],
        pods=[pod("hub-1", labels={"app.kubernetes.io/instance": "jupyterhub"}, spec=HEALTHY_HUB),
              pod("jupyter-alia", node="user-0", ready=False,
                  labels={"release": "jupyterhub", "component": "singleuser-server"})])
    assert run(**objects) == []


def test_routes_to_missing_services_and_ports_are_named():
    problems = run(
        services=[service("proxy-public"), service("other", namespace="elsewhere")],
        ingresses=[{"metadata": meta("jupyterhub"), "spec": {
            "defaultBackend": {"service": {"name": "nowhere", "port": {"number": 80}}},
            "rules": [{"host": "a", "http": {"paths": [
                {"path": "/hub", "backend": {"service": {"name": "proxy-public", "port": {"number": 8080}}}}]}}]}}],
        ingressroutes=[{"metadata": meta("gateway"), "spec": {"routes": [
            {"match": "PathPrefix(`/gateway`)", "services": [{"name": "gone", "port": 8000}]}]}}],
        ingressroutetcps=[{"metadata": meta("scheduler"), "spec": {"routes": [{"match": "HostSNI(`*`)", "services": [
            {"name": "other", "namespace": "elsewhere", "port": "tcp"}]}]}}])
    assert messages(problems) == [
        "Ingress dev/jupyterhub: default backend: Service dev/nowhere does not exist",
        "Ingress dev/jupyterhub: a/hub: Service dev/proxy-public has no port 8080 (it has: 80(http))",
        "IngressRoute dev/gateway: route 0 (PathPrefix(`/gateway`)): Service dev/gone does not exist",
        "IngressRouteTCP dev/scheduler: route 0 (HostSNI(`*`)): Service elsewhere/other has no port tcp "
        "(it has: 80(http))"]
    assert {p["check"] for p in problems} == {"routes"}


def test_pods_referring_to_missing_secrets_configmaps_keys_and_claims_are_named():
    spec = {"containers": [{"name": "gateway", "env": [
        {"name": "JUPYTERHUB_API_TOKEN", "valueFrom": {"secretKeyRef": {
            "name": "hub", "key": "hub.services.dask-gateway.apiToken"}}},
        {"name": "C", "valueFrom": {"configMapKeyRef": {"name": "nocm", "key": "k"}}}],
        "envFrom": [{"secretRef": {"name": "nosecret"}}, {"configMapRef": {"name": "optional-cm", "optional": True}}]}],
        "initContainers": [{"name": "init", "envFrom": [{"configMapRef": {"name": "cfg"}}]}],
        "volumes": [
            {"name": "config", "configMap": {"name": "cfg", "items": [
                {"key": "a", "path": "a"}, {"key": "missing", "path": "m"}]}},
            {"name": "tls", "secret": {"secretName": "notls"}},
            {"name": "all", "projected": {"sources": [
                {"secret": {"name": "hub", "items": [{"key": "nokey", "path": "x"}]}},
                {"configMap": {"name": "noproj"}},
                {"serviceAccountToken": {"path": "token"}}]}},
            {"name": "data", "persistentVolumeClaim": {"claimName": "noclaim"}}]}
    problems = run(pods=[pod("api-dask-gateway-1", spec=spec)], secrets=[secret("hub", ["hub.config.x"])],
                   configmaps=[{"metadata": meta("cfg"), "data": {"a": "1"}}])
    assert messages(problems) == [
        "Pod dev/api-dask-gateway-1: container gateway env JUPYTERHUB_API_TOKEN: Secret hub has no key "
        "hub.services.dask-gateway.apiToken",
        "Pod dev/api-dask-gateway-1: container gateway env C: ConfigMap nocm does not exist",
        "Pod dev/api-dask-gateway-1: container gateway envFrom: Secret nosecret does not exist",
        "Pod dev/api-dask-gateway-1: volume config: ConfigMap cfg has no key missing",
        "Pod dev/api-dask-gateway-1: volume tls: Secret notls does not exist",
        "Pod dev/api-dask-gateway-1: volume all: Secret hub has no key nokey",
        "Pod dev/api-dask-gateway-1: volume all: ConfigMap noproj does not exist",
        "Pod dev/api-dask-gateway-1: volume data: PersistentVolumeClaim noclaim does not exist"]


def test_finished_pods_are_not_held_to_their_references():
    spec = {"volumes": [{"name": "tls", "secret": {"secretName": "notls"}}]}
    assert run(pods=[pod("job-1", spec=spec, phase="Succeeded")]) == []


def test_a_pod_off_its_node_group_is_named_with_its_release_and_the_group():
    problems = run(pods=[
        pod("hub-1", labels={"app.kubernetes.io/instance": "jupyterhub", "component": "hub"}, node="user-0"),
        # Traefik's chart labels its pods <release>-<namespace>
        pod("traefik-1", labels={"app.kubernetes.io/instance": "traefik-dev"}, node="user-0"),
        # a DaemonSet's pod runs where its DaemonSet puts it; the inventory's own release is not placed by the stack
        pod("exporter-1", labels={"app.kubernetes.io/instance": "traefik"}, node="user-0", owners=["DaemonSet"]),
        pod("mine-1", labels={"app.kubernetes.io/instance": "mine"}, node="user-0"),
        # a user's server on a node of one of its profiles' groups; another on the general group
        pod("jupyter-alia", labels={"release": "jupyterhub", "component": "singleuser-server"}, node="user-0"),
        pod("jupyter-blake", labels={"release": "jupyterhub", "component": "singleuser-server"}, node="general-0"),
        # not scheduled yet: readiness says so, not placement
        pod("hub-2", labels={"app.kubernetes.io/instance": "jupyterhub"}, node=None)])
    placement = [p["message"] for p in problems if p["check"] == "placement"]
    assert placement == [
        "Pod dev/hub-1: release jupyterhub (hub) runs on node user-0, which is not in node group general",
        "Pod dev/traefik-1: release traefik runs on node user-0, which is not in node group general",
        "Pod dev/jupyter-blake: release jupyterhub (singleuser-server) runs on node general-0, which is not in "
        "node group user or gpu"]


def test_load_balancers_without_an_address_are_named():
    problems = run(services=[service("traefik", type_="LoadBalancer"),
                             service("pending", type_="LoadBalancer", ingress=[{}]),
                             service("ok", type_="LoadBalancer", ingress=[{"hostname": "lb.example.com"}])])
    assert messages(problems) == ["Service dev/traefik: LoadBalancer without an address",
                                  "Service dev/pending: LoadBalancer without an address"]


def test_release_pods_not_ready_are_named_with_their_release_and_why():
    problems = run(pods=[
        pod("hub-1", labels={"app.kubernetes.io/instance": "jupyterhub"}, ready=False),
        pod("mine-1", labels={"release": "mine", "heritage": "Helm"}, ready=False, phase="Pending"),
        pod("stranger", labels={}, ready=False),  # of no release
        pod("hook", labels={"app.kubernetes.io/instance": "jupyterhub"}, ready=False, owners=["Job"]),
        pod("jupyter-alia", labels={"release": "jupyterhub", "component": "singleuser-server"}, ready=False,
            node="user-0")])
    assert messages(problems) == [
        "Pod dev/hub-1: release jupyterhub: pod not Ready (phase Running, main CrashLoopBackOff)",
        "Pod dev/mine-1: release mine: pod not Ready (phase Pending, main CrashLoopBackOff)"]
    assert {p["check"] for p in problems} == {"readiness"}


def test_every_problem_at_once_and_only_the_checks_asked_for():
    objects = dict(services=[service("lb", type_="LoadBalancer")],
                   pods=[pod("hub-1", labels={"app.kubernetes.io/instance": "jupyterhub"}, ready=False,
                             node="user-0", spec={"volumes": [{"name": "v", "configMap": {"name": "none"}}]})],
                   nodes=NODES)
    every = cc.run_checks(objects, RELEASES, PLACEMENT, NODE_GROUPS)
    assert sorted(p["check"] for p in every) == ["load_balancers", "placement", "readiness", "references"]
    only = cc.run_checks(objects, RELEASES, PLACEMENT, NODE_GROUPS, checks=["load_balancers"])
    assert [p["check"] for p in only] == ["load_balancers"]


class FakeResponse:
    def __init__(self, status, payload):
        self.status, self.reason = status, "OK" if status == 200 else "Not Found"
        self.data = json.dumps(payload).encode() if payload is not None else b""

    def read(self):
        return self.data


class FakeApi:
    """The ApiClient as the check uses it (param_serialize, then call_api): raw JSON per path; a path it does not
    know is a 404."""

    def __init__(self, paths):
        self.paths = paths
        self.calls = []

    def param_serialize(self, method, path, header_params=None, auth_settings=None):
        return method, path, header_params, None, None

    def call_api(self, method, url, header_params=None):
        self.calls.append(url)
        return FakeResponse(200, self.paths[url]) if url in self.paths else FakeResponse(404, None)


def test_read_lists_each_kind_once_per_namespace_keeps_no_secret_value_and_skips_absent_traefik_groups():
    paths = {"/api/v1/namespaces/dev/secrets": {"items": [{"metadata": meta("hub"), "data": {"k": "c2VjcmV0"}}]},
             "/api/v1/nodes": {"items": NODES},
             "/apis/traefik.io/v1alpha1": {"resources": [{"name": "ingressroutes"}]},
             "/apis/traefik.io/v1alpha1/namespaces/dev/ingressroutes": {"items": [
                 {"metadata": meta("r"), "spec": {"routes": [{"services": [{"name": "s", "namespace": "other"}]}]}}]},
             "/api/v1/namespaces/other/services": {"items": [service("s", namespace="other")]}}
    for kind in ("pods", "services", "configmaps", "persistentvolumeclaims"):
        paths["/api/v1/namespaces/dev/%s" % kind] = {"items": []}
    paths["/apis/networking.k8s.io/v1/namespaces/dev/ingresses"] = {"items": []}
    api = FakeApi(paths)
    objects = cc.read(api, ["dev"])
    assert objects["secrets"] == [{"metadata": {"name": "hub", "namespace": "dev"}, "data": {"k": ""},
                                   "binaryData": {}}]
    assert [r["metadata"]["name"] for r in objects["ingressroutes"]] == ["r"]
    assert [s["metadata"]["name"] for s in objects["services"]] == ["s"]  # the other namespace's, for the route
    assert len(api.calls) == len(set(api.calls)) == 11
    assert cc.run_checks(objects, [], {}, {}) == []


def test_a_node_standing_in_for_a_group_counts_as_its_member_for_placement():
    """The sandbox's real node (general) runs the user group's JupyterLab servers: named as a stand-in, it counts."""
    pods = [pod("jupyter-alia", labels={"release": "jupyterhub", "component": "singleuser-server"}, node="general-0"),
            pod("hub-1", labels={"app.kubernetes.io/instance": "jupyterhub"}, node="user-0")]
    found = cc.run_checks({"pods": pods, "nodes": NODES}, RELEASES, PLACEMENT, NODE_GROUPS, checks=["placement"],
                          stand_ins={"general-0": ["user"]})
    assert messages(found) == [
        "Pod dev/hub-1: release jupyterhub runs on node user-0, which is not in node group general"]


# ------------------------------------------------------------------------------------------- the routes, described

ROUTED = dict(
    ingresses=[
        {"metadata": meta("argo-workflows-server", annotations={cc.ENTRY_POINTS_ANNOTATION: "websecure"}),
         "spec": {"rules": [{"host": "nebari.example.com", "http": {"paths": [
             {"path": "/argo/",
              "backend": {"service": {"name": "argo-workflows-server", "port": {"number": 2746}}}}]}}]}},
        {"metadata": meta("jupyterhub"), "spec": {"rules": [{"http": {"paths": [
            {"backend": {"service": {"name": "proxy-public", "port": {"name": "http"}}}}]}}]}}],
    ingressroutes=[
        {"metadata": meta("dask-gateway"), "spec": {"entryPoints": ["websecure"], "routes": [
            {"match": "Host(`nebari.example.com`) && PathPrefix(`/gateway`)",
             "services": [{"name": "traefik-dask-gateway", "namespace": "dask", "port": 80},
                          {"name": "api@internal", "kind": "TraefikService"}]}]}},
        {"metadata": meta("api-dask-gateway"), "spec": {"entryPoints": ["web"], "routes": [
            {"match": "Path(`/gateway`)", "services": [{"name": "api-dask-gateway", "port": 8000}]}]}}],
    ingressroutetcps=[
        {"metadata": meta("dask-gateway-schedulers"), "spec": {"entryPoints": ["tcp"], "routes": [
            {"match": "HostSNI(`*`)", "services": [{"name": "traefik-dask-gateway", "port": 8786}]}]}}])


def test_every_route_is_described_with_its_entry_points_host_path_and_backend():
    routes = cc.describe_routes(ROUTED)
    assert [(r["kind"], r["name"], r["entry_points"], r["host"], r["path"], r["service"], r["port"])
            for r in routes] == [
        ("Ingress", "argo-workflows-server", ["websecure"], "nebari.example.com", "/argo/",
         {"namespace": NS, "name": "argo-workflows-server"}, 2746),
        # no entry point named: Traefik's default ones; no host, no path: every host, /
        ("Ingress", "jupyterhub", None, None, "/", {"namespace": NS, "name": "proxy-public"}, "http"),
        ("IngressRoute", "api-dask-gateway", ["web"], None, "/gateway",
         {"namespace": NS, "name": "api-dask-gateway"}, 8000),
        # a route's namespace honoured; Traefik's own services left out
        ("IngressRoute", "dask-gateway", ["websecure"], "nebari.example.com", "/gateway",
         {"namespace": "dask", "name": "traefik-dask-gateway"}, 80),
        ("IngressRouteTCP", "dask-gateway-schedulers", ["tcp"], "*", None,
         {"namespace": NS, "name": "traefik-dask-gateway"}, 8786)]
    assert routes[3]["match"] == "Host(`nebari.example.com`) && PathPrefix(`/gateway`)"


def test_entry_points_of_an_ingress_annotation_are_split_and_trimmed():
    ingress = {"metadata": meta("x", annotations={cc.ENTRY_POINTS_ANNOTATION: "web, websecure"}),
               "spec": {"defaultBackend": {"service": {"name": "s", "port": {"number": 80}}}}}
    assert cc.describe_routes({"ingresses": [ingress]})[0]["entry_points"] == ["web", "websecure"]
    assert cc.describe_routes({}) == []
