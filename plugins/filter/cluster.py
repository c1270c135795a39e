# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the cluster layer: a self-contained kubeconfig for one context, a short view of the nodes, and the
URLs the live routes give each release."""

from __future__ import annotations

import os

from ansible.errors import AnsibleFilterError

from ansible_collections.nebari.platform.plugins.module_utils.cluster_check import describe_routes

# Fields holding file paths, which are relative to the kubeconfig's own directory.
_PATH_FIELDS = {
    "cluster": ("certificate-authority",),
    "user": ("client-certificate", "client-key", "tokenFile"),
}


def kubeconfig_minify(config, context=None, base_dir=None):
    """Return a kubeconfig holding only `context` (default: the current context) with its cluster and user.

    Relative file paths are made absolute against base_dir, the directory of the original file, so the
    result still works when written elsewhere.
    """
    if not isinstance(config, dict):
        raise AnsibleFilterError("kubeconfig_minify expects a parsed kubeconfig (a mapping)")
    name = context or config.get("current-context")
    if not name:
        raise AnsibleFilterError("the kubeconfig has no current-context; name the context to use")
    ctx = _named(config, "contexts", name, "context")
    cluster = _named(config, "clusters", ctx["context"].get("cluster"), "cluster")
    user = _named(config, "users", ctx["context"].get("user"), "user")
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "current-context": name,
        "contexts": [ctx],
        "clusters": [_absolute(cluster, "cluster", base_dir)],
        "users": [_absolute(user, "user", base_dir)],
    }


def _named(config, section, name, kind):
    for item in config.get(section) or []:
        if item.get("name") == name:
            return item
    known = ", ".join(sorted(str(item.get("name")) for item in config.get(section) or [])) or "none"
    raise AnsibleFilterError("the kubeconfig has no %s named %r (it has: %s)" % (kind, name, known))


def _absolute(item, kind, base_dir):
    body = dict(item.get(kind) or {})
    for field in _PATH_FIELDS[kind]:
        if base_dir and body.get(field) and not os.path.isabs(body[field]):
            body[field] = os.path.normpath(os.path.join(base_dir, body[field]))
    return {"name": item["name"], kind: body}


def node_summary(nodes, group_label="nebari.dev/node-group"):
    """Node objects (as kubernetes.core.k8s_info returns them) -> [{name, group, gpus, ready}] sorted by name."""
    summary = []
    for node in nodes or []:
        metadata = node.get("metadata") or {}
        status = node.get("status") or {}
        conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        summary.append({
            "name": metadata.get("name"),
            "group": (metadata.get("labels") or {}).get(group_label, "-"),
            "gpus": int((status.get("allocatable") or {}).get("nvidia.com/gpu", 0)),
            "ready": conditions.get("Ready") == "True",
        })
    return sorted(summary, key=lambda item: item["name"] or "")


def _service_release(service):
    """(namespace, release) of the Helm release that made a Service: Helm's ownership annotations, else the
    release labels charts write (app.kubernetes.io/instance, or release)."""
    metadata = service.get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    labels = metadata.get("labels") or {}
    name = (annotations.get("meta.helm.sh/release-name") or labels.get("app.kubernetes.io/instance")
            or labels.get("release"))
    return (annotations.get("meta.helm.sh/release-namespace") or metadata.get("namespace"), name)


def release_urls(objects, domain, entry_points=None):
    """The HTTPS URLs the live routes give each Helm release: {"<namespace>/<release>": [url, ...]}.

    objects: {ingresses, ingressroutes, services} as kubernetes.core.k8s_info returns them. A route serves a
    release when the Service it sends to is that release's (Helm's annotations on the Service). Only routes on one
    of entry_points count (a route naming no entry point is on the default ones, which count); TCP routes do not.
    A route without a host is under domain. Each release's URLs are sorted, the shortest path first."""
    if not isinstance(objects, dict):
        raise AnsibleFilterError("release_urls expects {ingresses, ingressroutes, services}")
    wanted = set(entry_points or ["websecure"])
    services = {}
    for service in objects.get("services") or []:
        metadata = service.get("metadata") or {}
        services[(metadata.get("namespace"), metadata.get("name"))] = _service_release(service)
    urls = {}
    routes = describe_routes({"ingresses": objects.get("ingresses") or [],
                              "ingressroutes": objects.get("ingressroutes") or []})
    for route in routes:
        if route["entry_points"] is not None and not wanted.intersection(route["entry_points"]):
            continue
        namespace, release = services.get((route["service"]["namespace"], route["service"]["name"]), (None, None))
        if not release:
            continue
        url = "https://%s%s" % (route["host"] or domain, route["path"] or "/")
        key = "%s/%s" % (namespace, release)
        if url not in urls.setdefault(key, []):
            urls[key].append(url)
    return {key: sorted(found, key=lambda url: (len(url), url)) for key, found in urls.items()}


class FilterModule:
    def filters(self):
        return {"kubeconfig_minify": kubeconfig_minify, "node_summary": node_summary, "release_urls": release_urls}
