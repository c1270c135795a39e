# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight checks of nebari_profiles: JupyterLab and Dask worker profiles, their sizes and placement."""

from __future__ import annotations

import re

from ansible_collections.nebari.platform.plugins.plugin_utils.preflight.problems import (
    DNS_LABEL,
    describe,
)
from ansible_collections.nebari.platform.plugins.plugin_utils.preflight.users import BUILTIN_GROUPS

VARIABLES = ("nebari_profiles",)
# The extended resource a GPU is asked for by, also through kubespawner_override.extra_resource_limits
GPU_RESOURCE = "nvidia.com/gpu"

COMMON_KEYS = ("name", "display_name", "description", "default", "memory", "memory_guarantee", "gpus", "node_group",
               "image")
KINDS = {
    "jupyterlab": {"cpu": "cpu", "keys": COMMON_KEYS + ("cpu", "cpu_guarantee", "kubespawner_override", "users",
                                                        "groups", "keycloak_attribute"),
                   "override": "kubespawner_override"},
    "dask_worker": {"cpu": "cores", "keys": COMMON_KEYS + ("cores", "cores_guarantee", "threads", "options"),
                    "override": "options"},
}
# A Kubernetes memory quantity as KubeSpawner and Dask Gateway read it: 8G, 512Mi, 1.5Gi, or bytes.
MEMORY = re.compile(r"^\d+(\.\d+)?([KMGTPE]i?)?$")
UNITS = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
         "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60}


def check(inv, problems):
    var = "nebari_profiles"
    profiles = inv.get(var, {})
    if profiles is None or not problems.expect_type(var, profiles, dict, "a mapping {jupyterlab: [...], "
                                                    "dask_worker: [...]}"):
        return
    problems.unknown_keys(var, profiles, KINDS)
    groups = inv.get("nebari_node_groups", {})
    groups = groups if isinstance(groups, dict) else {}
    gpu_groups = [name for name, group in groups.items() if isinstance(group, dict) and group.get("gpu") is True]
    hosted = _hosted_groups(inv) if inv.get("nebari_cluster_provider") == "k3s" else None
    known = _known_groups(inv)
    for kind, spec in KINDS.items():
        entries = profiles.get(kind) or []
        if not problems.expect_type(var, entries, list, "a list of profiles", "." + kind):
            continue
        seen, defaults = {}, []
        for i, profile in enumerate(entries):
            entry = ".%s[%d]" % (kind, i)
            if not problems.expect_type(var, profile, dict, "a mapping with name and the profile's size", entry):
                continue
            name = profile.get("name")
            if not (isinstance(name, str) and DNS_LABEL.match(name)):
                problems.add(var, "name must be a slug (lower-case letters, digits, '-'), got %s" % describe(name),
                             entry)
            else:
                entry = "%s (%s)" % (entry, name)
                if name in seen:
                    problems.add(var, "duplicate of nebari_profiles%s" % seen[name], entry)
                seen.setdefault(name, ".%s[%d]" % (kind, i))
            if profile.get("default") is True:
                defaults.append(entry)
            _profile(profile, spec, entry, groups, gpu_groups, hosted, problems)
            if kind == "jupyterlab":
                _access(profile, entry, known, problems)
        if len(defaults) > 1:
            problems.add(var, "more than one profile is the default: %s" % ", ".join(defaults), "." + kind)


def _profile(profile, spec, entry, groups, gpu_groups, hosted, problems):
    var = "nebari_profiles"
    problems.unknown_keys(var, profile, spec["keys"], entry)
    for key in ("display_name", "description", "image", "node_group"):
        if key in profile:
            problems.expect_type(var, profile[key], str, "a string", "%s.%s" % (entry, key))
    if "default" in profile:
        problems.expect_type(var, profile["default"], bool, "true or false", entry + ".default")
    if spec["override"] in profile:
        problems.expect_type(var, profile[spec["override"]], dict, "a mapping merged over the rendered profile",
                             "%s.%s" % (entry, spec["override"]))
    cpu = spec["cpu"]
    _pair(profile, cpu, cpu + "_guarantee", _number, "a positive number of cores", entry, problems)
    _pair(profile, "memory", "memory_guarantee", _bytes, "a memory quantity such as 8G or 512Mi", entry, problems)
    if "threads" in profile and not _count(profile["threads"], 1):
        problems.add(var, "threads must be a whole number of at least 1, got %s" % describe(profile["threads"]),
                     entry + ".threads")
    gpus = profile.get("gpus", 0)
    if not _count(gpus, 0):
        problems.add(var, "gpus must be a whole number of GPUs, got %s" % describe(gpus), entry + ".gpus")
        gpus = 0
    gpus = max(gpus, _override_gpus(profile.get(spec["override"]), entry, problems))
    group = profile.get("node_group")
    if isinstance(group, str) and groups and group not in groups:
        problems.add(var, "node group %r is not in nebari_node_groups (%s)" % (group, ", ".join(groups)),
                     entry + ".node_group")
    elif gpus and isinstance(group, str) and group not in gpu_groups:
        problems.add(var, "asks for %d GPU%s but node group %r is not marked gpu: true in nebari_node_groups"
                     % (gpus, "" if gpus == 1 else "s", group), entry + ".node_group")
    elif gpus and group is None and not gpu_groups:
        problems.add(var, "asks for %d GPU%s but no node group is marked gpu: true in nebari_node_groups"
                     % (gpus, "" if gpus == 1 else "s"), entry + ".gpus")
    elif gpus and hosted is not None:
        candidates = [group] if isinstance(group, str) else gpu_groups
        if not any(name in hosted for name in candidates):
            problems.add(var, "asks for %d GPU%s but no inventory host is in node group %s (set nebari_node_group "
                         "on the GPU hosts), so its servers would never start"
                         % (gpus, "" if gpus == 1 else "s", " or ".join(repr(name) for name in candidates)),
                         entry + (".node_group" if isinstance(group, str) else ".gpus"))


def _known_groups(inv):
    """The built-in groups and the names of nebari_groups (those users may be members of)."""
    custom = inv.get("nebari_groups", [])
    names = [group.get("name") for group in custom if isinstance(group, dict)] if isinstance(custom, list) else []
    return set(BUILTIN_GROUPS) | set(name for name in names if isinstance(name, str))


def _access(profile, entry, known, problems):
    """users and groups: lists of strings; each group a known group's name, or a Keycloak path (/parent/child) under
    one (its subgroups are made in Keycloak, not by the inventory)."""
    var = "nebari_profiles"
    for key, what in (("users", "a list of usernames"), ("groups", "a list of group names or paths")):
        if key not in profile:
            continue
        values = profile[key]
        where = "%s.%s" % (entry, key)
        if not problems.expect_type(var, values, list, what, where):
            continue
        for value in values:
            if not (isinstance(value, str) and value.strip("/")):
                problems.add(var, "%s must hold strings, got %s" % (key, describe(value)), where)
            elif key == "groups" and value.strip("/").split("/")[0] not in known:
                problems.add(var, "unknown group %r (built-in: %s; custom groups come from nebari_groups)"
                             % (value, ", ".join(BUILTIN_GROUPS)), where)
    if "keycloak_attribute" in profile and not isinstance(profile["keycloak_attribute"], bool):
        problems.add(var, "keycloak_attribute must be true or false (true: also offered to the users whose Keycloak "
                     "attribute jupyterlab_profiles names the profile), got %s" % describe(profile["keycloak_attribute"]),
                     "%s.keycloak_attribute" % entry)


def _override_gpus(override, entry, problems):
    """GPUs asked for through kubespawner_override.extra_resource_limits (nvidia.com/gpu), 0 when none."""
    limits = override.get("extra_resource_limits") if isinstance(override, dict) else None
    if not isinstance(limits, dict) or GPU_RESOURCE not in limits:
        return 0
    value = limits[GPU_RESOURCE]
    count = int(value) if isinstance(value, str) and value.isdigit() else value
    if not _count(count, 0):
        problems.add("nebari_profiles", "%s must be a whole number of GPUs, got %s" % (GPU_RESOURCE, describe(value)),
                     entry + ".kubespawner_override.extra_resource_limits")
        return 0
    return count


def _hosted_groups(inv):
    """The node groups some inventory host names in nebari_node_group."""
    names = set()
    for hostvars in inv.hosts.values():
        value = hostvars.get("nebari_node_group")
        names.update(name for name in (value if isinstance(value, list) else [value]) if isinstance(name, str))
    return names


def _pair(profile, limit_key, guarantee_key, parse, what, entry, problems):
    """A limit and its guarantee: both valid, the guarantee only with a limit and not above it."""
    values = {}
    for key in (limit_key, guarantee_key):
        if key in profile:
            values[key] = parse(profile[key])
            if values[key] is None:
                problems.add("nebari_profiles", "%s must be %s, got %s" % (key, what, describe(profile[key])),
                             "%s.%s" % (entry, key))
    if guarantee_key in profile and limit_key not in profile:
        problems.add("nebari_profiles", "%s needs %s (the limit it guarantees part of)" % (guarantee_key, limit_key),
                     "%s.%s" % (entry, guarantee_key))
    elif values.get(guarantee_key) and values.get(limit_key) and values[guarantee_key] > values[limit_key]:
        message = "%s (%s) is above %s (%s)" % (guarantee_key, profile[guarantee_key], limit_key, profile[limit_key])
        problems.add("nebari_profiles", message, "%s.%s" % (entry, guarantee_key))


def _number(value):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
    return float(value) if ok else None


def _bytes(value):
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return float(value)
    match = MEMORY.match(value) if isinstance(value, str) else None
    if not match:
        return None
    number = float(value[:match.start(2)] if match.group(2) else value)
    return number * UNITS[match.group(2) or ""] or None


def _count(value, least):
    return isinstance(value, int) and not isinstance(value, bool) and value >= least
