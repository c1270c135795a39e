# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the cluster layer: a self-contained kubeconfig for one context, and a short view of the nodes."""

from __future__ import annotations

import os

from ansible.errors import AnsibleFilterError

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


class FilterModule:
    def filters(self):
        return {"kubeconfig_minify": kubeconfig_minify, "node_summary": node_summary}
