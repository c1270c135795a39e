# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster check: every broken reference of a running platform, read from the API objects.

The checks are pure functions over the objects as the API serves them (JSON, camelCase), so that the unit tests
feed them fake objects; `read` lists those objects with a few calls (one per kind and namespace) through the
python kubernetes client, without deserializing them into its models.

Each problem is a dict: {check, kind, namespace, name, message}, `message` naming the object and what it misses.
"""

from __future__ import annotations

import json
import re

CHECKS = ("routes", "references", "placement", "load_balancers", "readiness")

TRAEFIK_GROUPS = ("traefik.io/v1alpha1", "traefik.containo.us/v1alpha1")
# labels that tie a pod to its Helm release: the recommended one, and the older heritage/release pair
INSTANCE_LABEL = "app.kubernetes.io/instance"
COMPONENT_LABELS = ("app.kubernetes.io/component", "component")


def problem(check, kind, namespace, name, message):
    return {"check": check, "kind": kind, "namespace": namespace, "name": name,
            "message": "%s %s/%s: %s" % (kind, namespace, name, message)}


def _meta(obj):
    return obj.get("metadata") or {}


def _spec(obj):
    return obj.get("spec") or {}


# ---------------------------------------------------------------------------------------------------------- routes

def _port_matches(service, port):
    """Whether a Service serves `port` (a number, or a port name). An ExternalName Service has no ports to match."""
    spec = _spec(service)
    if spec.get("type") == "ExternalName":
        return True
    for entry in spec.get("ports") or []:
        if isinstance(port, int) or (isinstance(port, str) and port.isdigit()):
            if int(entry.get("port", -1)) == int(port):
                return True
        elif entry.get("name") == port:
            return True
    return False


def _backend_problem(check, kind, namespace, name, services, target_namespace, service_name, port, where):
    service = services.get((target_namespace, service_name))
    if service is None:
        return problem(check, kind, namespace, name, "%s: Service %s/%s does not exist"
                       % (where, target_namespace, service_name))
    if port is not None and port != "" and not _port_matches(service, port):
        ports = ", ".join("%s%s" % (p.get("port"), "(%s)" % p["name"] if p.get("name") else "")
                          for p in _spec(service).get("ports") or [])
        return problem(check, kind, namespace, name, "%s: Service %s/%s has no port %s (it has: %s)"
                       % (where, target_namespace, service_name, port, ports or "none"))
    return None


def check_ingresses(ingresses, services):
    """networking.k8s.io Ingresses whose backend Service or port does not exist."""
    found = []
    for ingress in ingresses:
        meta, spec = _meta(ingress), _spec(ingress)
        namespace, name = meta.get("namespace"), meta.get("name")
        backends = []
        if (spec.get("defaultBackend") or {}).get("service"):
            backends.append(("default backend", spec["defaultBackend"]["service"]))
        for rule in spec.get("rules") or []:
            for path in (rule.get("http") or {}).get("paths") or []:
                service = (path.get("backend") or {}).get("service")
                if service:
                    backends.append(("%s%s" % (rule.get("host") or "*", path.get("path") or "/"), service))
        for where, backend in backends:
            port = backend.get("port") or {}
            port = port.get("number") if port.get("number") is not None else port.get("name")
            issue = _backend_problem("routes", "Ingress", namespace, name, services, namespace, backend.get("name"),
                                     port, where)
            if issue:
                found.append(issue)
    return found


def check_ingress_routes(routes, services, kind="IngressRoute"):
    """Traefik IngressRoutes (and IngressRouteTCPs) whose Service or port does not exist. Services of another kind
    (TraefikService, api@internal) are Traefik's own and not checked."""
    found = []
    for route in routes:
        meta = _meta(route)
        namespace, name = meta.get("namespace"), meta.get("name")
        for number, entry in enumerate(_spec(route).get("routes") or []):
            where = "route %s (%s)" % (number, entry.get("match") or "no match")
            for service in entry.get("services") or []:
                if (service.get("kind") or "Service") != "Service":
                    continue
                issue = _backend_problem("routes", kind, namespace, name, services,
                                         service.get("namespace") or namespace, service.get("name"),
                                         service.get("port"), where)
                if issue:
                    found.append(issue)
    return found


# The annotation of a Traefik-served Ingress that names its entry points (all the default ones without it)
ENTRY_POINTS_ANNOTATION = "traefik.ingress.kubernetes.io/router.entrypoints"
_MATCHERS = {name: re.compile(r"\b%s\(\s*`([^`]*)`" % name) for name in ("Host", "HostSNI", "PathPrefix", "Path")}


def _matcher(match, name):
    found = _MATCHERS[name].search(match or "")
    return found.group(1) if found else None


def _entry_points(value):
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split(",")
    points = [str(point).strip() for point in value if str(point).strip()]
    return points or None


def describe_routes(objects):
    """Every route of the Ingresses, IngressRoutes and IngressRouteTCPs, one entry per backend: {kind, namespace,
    name, entry_points (a list, or None: the router's default entry points), host, path (None for a TCP route or an
    IngressRoute matching no path), match (an IngressRoute's rule), service: {namespace, name}, port}. Sorted by
    kind, namespace, name."""
    found = []
    for ingress in objects.get("ingresses") or []:
        meta, spec = _meta(ingress), _spec(ingress)
        points = _entry_points((meta.get("annotations") or {}).get(ENTRY_POINTS_ANNOTATION))
        backends = []
        if (spec.get("defaultBackend") or {}).get("service"):
            backends.append((None, "/", spec["defaultBackend"]["service"]))
        for rule in spec.get("rules") or []:
            for path in (rule.get("http") or {}).get("paths") or []:
                if (path.get("backend") or {}).get("service"):
                    backends.append((rule.get("host"), path.get("path") or "/", path["backend"]["service"]))
        for host, path, backend in backends:
            port = backend.get("port") or {}
            found.append({"kind": "Ingress", "namespace": meta.get("namespace"), "name": meta.get("name"),
                          "entry_points": points, "host": host, "path": path, "match": None,
                          "service": {"namespace": meta.get("namespace"), "name": backend.get("name")},
                          "port": port.get("number") if port.get("number") is not None else port.get("name")})
    for key, kind in (("ingressroutes", "IngressRoute"), ("ingressroutetcps", "IngressRouteTCP")):
        for route in objects.get(key) or []:
            meta, spec = _meta(route), _spec(route)
            for entry in spec.get("routes") or []:
                match = entry.get("match") or ""
                host = _matcher(match, "HostSNI" if kind == "IngressRouteTCP" else "Host")
                path = None if kind == "IngressRouteTCP" else (_matcher(match, "PathPrefix") or _matcher(match, "Path"))
                for service in entry.get("services") or []:
                    if (service.get("kind") or "Service") != "Service":
                        continue
                    found.append({"kind": kind, "namespace": meta.get("namespace"), "name": meta.get("name"),
                                  "entry_points": _entry_points(spec.get("entryPoints")), "host": host,
                                  "path": path, "match": match,
                                  "service": {"namespace": service.get("namespace") or meta.get("namespace"),
                                              "name": service.get("name")},
                                  "port": service.get("port")})
    return sorted(found, key=lambda r: (r["kind"], r["namespace"] or "", r["name"] or ""))


# ------------------------------------------------------------------------------------------------------ references

def _keys(obj):
    return set((obj.get("data") or {}).keys()) | set((obj.get("binaryData") or {}).keys())


def _pod_references(pod):
    """(what, kind, name, key or None, optional, where) of every Secret, ConfigMap and PVC the pod refers to."""
    spec = _spec(pod)
    refs = []
    containers = [("container", c) for c in spec.get("containers") or []]
    containers += [("init container", c) for c in spec.get("initContainers") or []]
    for label, container in containers:
        where = "%s %s" % (label, container.get("name"))
        for env in container.get("env") or []:
            source = env.get("valueFrom") or {}
            for field, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
                ref = source.get(field)
                if ref:
                    refs.append((kind, ref.get("name"), ref.get("key"), bool(ref.get("optional")),
                                 "%s env %s" % (where, env.get("name"))))
        for env_from in container.get("envFrom") or []:
            for field, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
                ref = env_from.get(field)
                if ref:
                    refs.append((kind, ref.get("name"), None, bool(ref.get("optional")), "%s envFrom" % where))
    for volume in spec.get("volumes") or []:
        where = "volume %s" % volume.get("name")
        sources = []
        if volume.get("secret"):
            secret = volume["secret"]
            sources.append(("Secret", secret.get("secretName"), secret))
        if volume.get("configMap"):
            sources.append(("ConfigMap", volume["configMap"].get("name"), volume["configMap"]))
        for source in (volume.get("projected") or {}).get("sources") or []:
            if source.get("secret"):
                sources.append(("Secret", source["secret"].get("name"), source["secret"]))
            if source.get("configMap"):
                sources.append(("ConfigMap", source["configMap"].get("name"), source["configMap"]))
        for kind, name, source in sources:
            optional = bool(source.get("optional"))
            refs.append((kind, name, None, optional, where))
            for item in source.get("items") or []:
                refs.append((kind, name, item.get("key"), optional, where))
        if volume.get("persistentVolumeClaim"):
            refs.append(("PersistentVolumeClaim", volume["persistentVolumeClaim"].get("claimName"), None, False,
                         where))
    return refs


def _finished(pod):
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def check_pod_references(pods, secrets, configmaps, claims):
    """Pods referring to a Secret, ConfigMap, key of either, or PVC that does not exist (`optional: true` honoured).
    secrets and configmaps: {(namespace, name): set of keys}; claims: set of (namespace, name)."""
    found = []
    stores = {"Secret": secrets, "ConfigMap": configmaps}
    for pod in pods:
        if _finished(pod):
            continue
        meta = _meta(pod)
        namespace, name = meta.get("namespace"), meta.get("name")
        messages = []
        for kind, ref_name, key, optional, where in _pod_references(pod):
            if optional:
                continue
            if kind == "PersistentVolumeClaim":
                missing = None if (namespace, ref_name) in claims else "PersistentVolumeClaim %s does not exist"
            elif stores[kind].get((namespace, ref_name)) is None:
                missing = "%s %%s does not exist" % kind
            elif key is not None and key not in stores[kind][(namespace, ref_name)]:
                missing = "%s %%s has no key %s" % (kind, key)
            else:
                missing = None
            if missing:
                message = "%s: %s" % (where, missing % ref_name)
                if message not in messages:
                    messages.append(message)
        found += [problem("references", "Pod", namespace, name, message) for message in messages]
    return found


# ------------------------------------------------------------------------------------------------------- placement

def pod_release(pod, releases):
    """The release ({release, namespace, ...}) a pod belongs to, by its labels: app.kubernetes.io/instance (the
    release name, or <release>-<namespace> as Traefik's chart writes it), or release (with heritage Helm)."""
    meta = _meta(pod)
    labels = meta.get("labels") or {}
    namespace = meta.get("namespace")
    candidates = [labels.get(INSTANCE_LABEL), labels.get("release")]
    for release in releases:
        if release.get("namespace") != namespace:
            continue
        names = (release.get("release"), "%s-%s" % (release.get("release"), namespace))
        if any(candidate in names for candidate in candidates if candidate):
            return release
    return None


def pod_component(pod):
    labels = _meta(pod).get("labels") or {}
    for label in COMPONENT_LABELS:
        if labels.get(label):
            return labels[label]
    return None


def _daemon(pod):
    return any(owner.get("kind") == "DaemonSet" for owner in _meta(pod).get("ownerReferences") or [])


def expected_groups(placement, release, component):
    """Node groups a pod of this release and component may run on, from the placement data:
    {default: [groups], components: [release components the default applies to; all when not given],
    releases: {component: {"*": [groups], <pod component>: [groups]}}}. None: no expectation."""
    rules = (placement.get("releases") or {}).get(release.get("component"))
    if rules is None:
        components = placement.get("components")
        return placement.get("default") if components is None or release.get("component") in components else None
    if component in rules:
        return rules[component]
    if "*" in rules:
        return rules["*"]
    return placement.get("default")


def _as_list(value):
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


def check_placement(pods, nodes, releases, placement, node_groups, stand_ins=None):
    """Pods of the releases on a node outside the node groups the inventory assigns them (DaemonSets' pods, which
    run where their DaemonSet puts them, are left out, as are pods not scheduled yet: readiness reports those).
    nodes: {name: labels}; node_groups: nebari_node_groups (name -> {labels}); stand_ins: {node: [groups]}, nodes
    that count as members of groups whose labels they do not carry (a test bed's real node standing in for one)."""
    stand_ins = stand_ins or {}
    found = []
    for pod in pods:
        if _daemon(pod) or _finished(pod):
            continue
        node = _spec(pod).get("nodeName")
        release = pod_release(pod, releases)
        if not node or release is None:
            continue
        component = pod_component(pod)
        groups = _as_list(expected_groups(placement, release, component))
        if not groups:
            continue
        labels = nodes.get(node)
        if labels is None:
            continue
        on = [group for group in groups
              if group in (stand_ins.get(node) or []) or _has_labels(labels, node_groups.get(group))]
        if not on:
            meta = _meta(pod)
            found.append(problem("placement", "Pod", meta.get("namespace"), meta.get("name"),
                                 "release %s%s runs on node %s, which is not in node group %s" % (
                                     release.get("release"), " (%s)" % component if component else "", node,
                                     " or ".join(groups))))
    return found


# ---------------------------------------------------------------------------------------------- load balancers

def check_load_balancers(services):
    """LoadBalancer Services that have no address (no ingress IP or hostname in their status)."""
    found = []
    for service in services:
        if _spec(service).get("type") != "LoadBalancer":
            continue
        ingress = (((service.get("status") or {}).get("loadBalancer") or {}).get("ingress")) or []
        if not any(entry.get("ip") or entry.get("hostname") for entry in ingress):
            meta = _meta(service)
            found.append(problem("load_balancers", "Service", meta.get("namespace"), meta.get("name"),
                                 "LoadBalancer without an address"))
    return found


# ------------------------------------------------------------------------------------------------------- readiness

def _ready(pod):
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def _why(pod):
    status = pod.get("status") or {}
    reasons = []
    for container in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
        state = container.get("state") or {}
        waiting = state.get("waiting") or state.get("terminated")
        if waiting and waiting.get("reason") and waiting.get("reason") != "Completed":
            reasons.append("%s %s" % (container.get("name"), waiting["reason"]))
        elif not container.get("ready") and container.get("name") and not waiting:
            reasons.append("%s not ready" % container["name"])
    if not reasons:
        for condition in status.get("conditions") or []:
            if condition.get("status") != "True" and condition.get("reason"):
                reasons.append("%s: %s" % (condition.get("type"), condition.get("reason")))
                break
    return "phase %s%s" % (status.get("phase") or "unknown", ", " + "; ".join(reasons) if reasons else "")


def check_readiness(pods, releases, user_components=()):
    """Pods of the releases that are not Ready (finished pods, hooks and jobs, are left out; so are the pods users
    start: JupyterLab servers and Dask clusters, by their component label)."""
    found = []
    for pod in pods:
        if _finished(pod) or pod_component(pod) in user_components:
            continue
        if any(owner.get("kind") == "Job" for owner in _meta(pod).get("ownerReferences") or []):
            continue
        release = pod_release(pod, releases)
        if release is None or _ready(pod):
            continue
        meta = _meta(pod)
        found.append(problem("readiness", "Pod", meta.get("namespace"), meta.get("name"),
                             "release %s: pod not Ready (%s)" % (release.get("release"), _why(pod))))
    return found


# ------------------------------------------------------------------------------------------------------------ all

def run_checks(objects, releases, placement, node_groups, user_components=(), checks=CHECKS, stand_ins=None):
    """Every problem at once. objects: {pods, services, secrets, configmaps, pvcs, ingresses, ingressroutes,
    ingressroutetcps, nodes} as lists of API objects (secrets and configmaps need their data keys only)."""
    services = {(_meta(s).get("namespace"), _meta(s).get("name")): s for s in objects.get("services") or []}
    found = []
    if "routes" in checks:
        found += check_ingresses(objects.get("ingresses") or [], services)
        found += check_ingress_routes(objects.get("ingressroutes") or [], services, "IngressRoute")
        found += check_ingress_routes(objects.get("ingressroutetcps") or [], services, "IngressRouteTCP")
    if "references" in checks:
        index = {}
        for kind in ("secrets", "configmaps"):
            index[kind] = {(_meta(o).get("namespace"), _meta(o).get("name")): _keys(o) for o in objects.get(kind) or []}
        claims = {(_meta(c).get("namespace"), _meta(c).get("name")) for c in objects.get("pvcs") or []}
        found += check_pod_references(objects.get("pods") or [], index["secrets"], index["configmaps"], claims)
    if "placement" in checks:
        nodes = {_meta(n).get("name"): _meta(n).get("labels") or {} for n in objects.get("nodes") or []}
        found += check_placement(objects.get("pods") or [], nodes, releases, placement or {}, node_groups or {},
                                 stand_ins)
    if "load_balancers" in checks:
        found += check_load_balancers(objects.get("services") or [])
    if "readiness" in checks:
        found += check_readiness(objects.get("pods") or [], releases, user_components)
    return found


# ------------------------------------------------------------------------------------------------------ reading

class ReadError(Exception):
    pass


def _get(api, path):
    """GET a list as plain JSON (no model deserialization, which costs far more than the call). None on 404 (an API
    group the cluster does not serve)."""
    headers = {"Accept": "application/json"}
    if hasattr(api, "param_serialize"):  # kubernetes >= 35 (the generator's newer client)
        method, url, headers, body, post = api.param_serialize("GET", path, header_params=headers,
                                                               auth_settings=["BearerToken"])
        response = api.call_api(method, url, header_params=headers)
        status, reason, data = response.status, response.reason, response.read()
    else:
        from kubernetes.client.exceptions import ApiException

        try:
            response = api.call_api(path, "GET", header_params=headers, auth_settings=["BearerToken"],
                                    _preload_content=False, _return_http_data_only=True)
            status, reason, data = 200, "OK", response.data
        except ApiException as exc:
            status, reason, data = exc.status, exc.reason, None
    if status == 404:
        return None
    if not 200 <= status < 300:
        raise ReadError("GET %s: %s %s" % (path, status, reason))
    return json.loads(data)


def _items(api, path, kind):
    listed = _get(api, path)
    items = (listed or {}).get("items") or []
    for item in items:
        item.setdefault("kind", kind)
    return items


def _strip_data(obj):
    """Keep a Secret's or ConfigMap's keys, never its values."""
    return {"metadata": {"name": _meta(obj).get("name"), "namespace": _meta(obj).get("namespace")},
            "data": dict.fromkeys(obj.get("data") or {}, ""), "binaryData": dict.fromkeys(obj.get("binaryData") or {},
                                                                                          "")}


def read(api, namespaces):
    """The objects the checks need, for these namespaces: one list call per kind and namespace, plus Traefik's
    routes where the cluster serves their API groups, plus Services of other namespaces that routes name."""
    objects = {key: [] for key in ("pods", "services", "secrets", "configmaps", "pvcs", "ingresses", "ingressroutes",
                                   "ingressroutetcps")}
    core = {"pods": "pods", "services": "services", "secrets": "secrets", "configmaps": "configmaps",
            "pvcs": "persistentvolumeclaims"}
    for namespace in namespaces:
        for key, resource in core.items():
            items = _items(api, "/api/v1/namespaces/%s/%s" % (namespace, resource), resource)
            if key in ("secrets", "configmaps"):
                items = [_strip_data(item) for item in items]
            objects[key] += items
        objects["ingresses"] += _items(api, "/apis/networking.k8s.io/v1/namespaces/%s/ingresses" % namespace,
                                       "Ingress")
    served = {group: _get(api, "/apis/%s" % group) for group in TRAEFIK_GROUPS}
    for group, resources in served.items():
        if resources is None:
            continue
        names = {r.get("name") for r in resources.get("resources") or []}
        for namespace in namespaces:
            for key, resource in (("ingressroutes", "ingressroutes"), ("ingressroutetcps", "ingressroutetcps")):
                if resource in names:
                    objects[key] += _items(api, "/apis/%s/namespaces/%s/%s" % (group, namespace, resource), key)
    known = set(namespaces)
    others = set()
    for route in objects["ingressroutes"] + objects["ingressroutetcps"]:
        for entry in _spec(route).get("routes") or []:
            for service in entry.get("services") or []:
                if service.get("namespace") and service["namespace"] not in known:
                    others.add(service["namespace"])
    for namespace in sorted(others):
        objects["services"] += _items(api, "/api/v1/namespaces/%s/services" % namespace, "services")
    objects["nodes"] = _items(api, "/api/v1/nodes", "nodes")
    return objects


def api_client(kubeconfig=None, context=None):
    """A kubernetes ApiClient from a kubeconfig file (or the in-cluster config when none is given and none is found)."""
    from kubernetes import client, config

    try:
        if kubeconfig:
            return config.new_client_from_config(config_file=kubeconfig, context=context)
        try:
            return config.new_client_from_config(context=context)
        except config.ConfigException:
            config.load_incluster_config()
            return client.ApiClient()
    except Exception as exc:  # kubeconfig errors come in many kinds; say which file
        raise ReadError("cannot load the kubeconfig %s: %s" % (kubeconfig or "(default)", exc))


def _has_labels(labels, node_group):
    """Whether a node's labels carry every label of a node group."""
    return all(labels.get(key) == str(value) for key, value in ((node_group or {}).get("labels") or {}).items())
