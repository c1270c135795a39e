# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight checks of node groups: their labels and taints, and the node group each host names."""

from __future__ import annotations

from ansible_collections.nebari.platform.plugins.plugin_utils.preflight.problems import (
    DNS_LABEL,
    describe,
    is_label_key,
    is_label_value,
)

TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
GROUP_KEYS = ("labels", "taints", "description", "gpu")
TAINT_KEYS = ("key", "value", "effect")

VARIABLES = ("nebari_node_groups",)
HOST_VARIABLES = ("nebari_node_group",)


def check(inv, problems):
    groups = inv.get("nebari_node_groups", {})
    if not problems.expect_type("nebari_node_groups", groups, dict, "a mapping of node group name to its settings"):
        groups = {}
    for name, group in groups.items():
        _group(name, group, problems)
    _hosts(inv, set(groups), problems)


def _group(name, group, problems):
    var, entry = "nebari_node_groups", ".%s" % name
    if not isinstance(name, str) or not DNS_LABEL.match(name):
        problems.add(var, "node group name must be a DNS label (lower-case letters, digits, '-'), got %s" % describe(name), entry)
    if group is None:
        group = {}
    if not problems.expect_type(var, group, dict, "a mapping with labels and taints", entry):
        return
    problems.unknown_keys(var, group, GROUP_KEYS, entry)
    if "gpu" in group:
        problems.expect_type(var, group["gpu"], bool, "true or false", entry + ".gpu")
    labels = group.get("labels", {}) or {}
    if problems.expect_type(var, labels, dict, "a mapping of label key to value", entry + ".labels"):
        for key, value in labels.items():
            if not is_label_key(key):
                problems.add(var, "%r is not a valid Kubernetes label key" % (key,), entry + ".labels")
            if not is_label_value(value):
                problems.add(var, "label %s: value must be a string of at most 63 characters [A-Za-z0-9_.-], got %s"
                             % (key, describe(value)), entry + ".labels")
    taints = group.get("taints", []) or []
    if problems.expect_type(var, taints, list, "a list of {key, value, effect}", entry + ".taints"):
        seen = {}
        for i, taint in enumerate(taints):
            _taint(taint, "%s.taints[%d]" % (entry, i), seen, problems)


def _taint(taint, entry, seen, problems):
    var = "nebari_node_groups"
    if not problems.expect_type(var, taint, dict, "a mapping {key, value, effect}", entry):
        return
    problems.unknown_keys(var, taint, TAINT_KEYS, entry)
    key, value, effect = taint.get("key"), taint.get("value", ""), taint.get("effect")
    if not is_label_key(key):
        problems.add(var, "taint key must be a valid Kubernetes key such as nvidia.com/gpu, got %s" % describe(key), entry)
    if not is_label_value(value):
        problems.add(var, "taint value must be a string of at most 63 characters, got %s" % describe(value), entry)
    if effect not in TAINT_EFFECTS:
        problems.add(var, "taint effect must be one of %s, got %s" % (", ".join(TAINT_EFFECTS), describe(effect)), entry)
        return
    other = seen.setdefault((key, effect), (entry, value))
    if other[0] != entry:
        problems.add(var, "taint %s:%s is set twice (also %s); a node can carry one value per key and effect"
                     % (key, effect, other[0]), entry)


def _hosts(inv, group_names, problems):
    for host, hostvars in sorted(inv.hosts.items()):
        if "nebari_node_group" not in hostvars:
            continue
        value = hostvars["nebari_node_group"]
        names = value if isinstance(value, list) else [value]
        for name in names:
            if not isinstance(name, str) or name not in group_names:
                problems.add("nebari_node_group", "host %s names node group %s, which nebari_node_groups does not "
                             "define (defined: %s)" % (host, describe(name), ", ".join(sorted(group_names)) or "none"),
                             " (host %s)" % host)
