# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the node layer: the node-group labels and taints each Node should carry, as merge patches.

Exactly what the collection manages is added and removed: the keys it set last time are kept in the Node's
annotations (nebari.dev/managed-labels, nebari.dev/managed-taints), so a host moved to another group loses the old
group's labels and taints, and labels and taints set by anyone else stay.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

LABELS_ANNOTATION = "nebari.dev/managed-labels"
TAINTS_ANNOTATION = "nebari.dev/managed-taints"


def _groups_of(value):
    return value if isinstance(value, list) else [value]


def node_assignments(hostvars, hosts, node_groups, nodes=None, pool_label=""):
    """Node name -> node groups: from each inventory host's nebari_node_group (its Node named nebari_node_name,
    default the host name), and, with pool_label, from each Node whose pool label value names a node group
    (cloud node pools)."""
    assigned = {}
    for host in hosts:
        variables = hostvars.get(host) or {}
        if "nebari_node_group" not in variables:
            continue
        name = variables.get("nebari_node_name") or host
        for group in _groups_of(variables["nebari_node_group"]):
            if group not in node_groups:
                raise AnsibleFilterError("host %s: node group %r is not in nebari_node_groups" % (host, group))
            assigned.setdefault(name, [])
            if group not in assigned[name]:
                assigned[name].append(group)
    if pool_label:
        for node in nodes or []:
            pool = ((node.get("metadata") or {}).get("labels") or {}).get(pool_label)
            if pool in node_groups:
                assigned.setdefault(node["metadata"]["name"], [])
                if pool not in assigned[node["metadata"]["name"]]:
                    assigned[node["metadata"]["name"]].append(pool)
    return assigned


def _taint_id(taint):
    return "%s:%s" % (taint["key"], taint["effect"])


def node_label_patches(nodes, assigned, node_groups):
    """Nodes (kubernetes.core.k8s_info resources) -> [{name, patch, added, removed}] for the nodes whose labels or
    taints differ from their groups'. Nodes not assigned to any group are left alone unless the collection
    labelled them before (then what it set is removed)."""
    patches = []
    for node in nodes or []:
        metadata = node.get("metadata") or {}
        name = metadata.get("name")
        annotations = metadata.get("annotations") or {}
        labels = metadata.get("labels") or {}
        taints = (node.get("spec") or {}).get("taints") or []
        previous_labels = [k for k in annotations.get(LABELS_ANNOTATION, "").split(",") if k]
        previous_taints = [t for t in annotations.get(TAINTS_ANNOTATION, "").split(",") if t]
        groups = assigned.get(name, [])
        if not groups and not previous_labels and not previous_taints:
            continue
        want_labels, want_taints = {}, []
        for group in groups:
            want_labels.update((node_groups[group] or {}).get("labels") or {})
            for taint in (node_groups[group] or {}).get("taints") or []:
                taint = {"key": taint["key"], "value": str(taint.get("value", "")), "effect": taint["effect"]}
                if _taint_id(taint) not in [_taint_id(t) for t in want_taints]:
                    want_taints.append(taint)
        label_patch = dict((key, None) for key in previous_labels if key not in want_labels and key in labels)
        label_patch.update((key, value) for key, value in want_labels.items() if labels.get(key) != value)
        wanted_ids = [_taint_id(t) for t in want_taints]
        kept = [t for t in taints if _taint_id(t) not in wanted_ids and _taint_id(t) not in previous_taints]
        new_taints = kept + want_taints
        managed = {LABELS_ANNOTATION: ",".join(sorted(want_labels)), TAINTS_ANNOTATION: ",".join(sorted(wanted_ids))}
        annotation_patch = dict((key, value) for key, value in managed.items() if annotations.get(key, "") != value)
        current = [dict((k, t.get(k, "")) for k in ("key", "value", "effect")) for t in taints]
        taints_change = sorted(map(str, current)) != sorted(map(str, new_taints))
        if not (label_patch or annotation_patch or taints_change):
            continue
        patch = {"metadata": {}}
        if label_patch:
            patch["metadata"]["labels"] = label_patch
        if annotation_patch:
            patch["metadata"]["annotations"] = annotation_patch
        if taints_change:
            patch["spec"] = {"taints": new_taints}
        patches.append({"name": name, "groups": groups, "patch": patch,
                        "labels": sorted("%s=%s" % (k, v) if v is not None else "-" + k
                                         for k, v in label_patch.items()),
                        "taints": sorted(set(map(_taint_id, new_taints)) ^ set(map(_taint_id, taints)))})
    return patches


def node_group_flags(group_names, node_groups):
    """A host's node groups -> {"node-label": ["key=value"], "node-taint": ["key=value:Effect"]}, the k3s flags
    that register its node with those labels and taints (later groups win on the same label key)."""
    labels, taints = {}, []
    for group in _groups_of(group_names) if group_names else []:
        if group not in node_groups:
            raise AnsibleFilterError("node group %r is not in nebari_node_groups" % (group,))
        settings = node_groups[group] or {}
        labels.update(settings.get("labels") or {})
        for taint in settings.get("taints") or []:
            text = "%s%s:%s" % (taint["key"], "=%s" % taint["value"] if taint.get("value") else "", taint["effect"])
            if text not in taints:
                taints.append(text)
    return {"node-label": ["%s=%s" % item for item in sorted(labels.items())], "node-taint": taints}


class FilterModule:
    def filters(self):
        return {"node_assignments": node_assignments, "node_label_patches": node_label_patches,
                "node_group_flags": node_group_flags}
