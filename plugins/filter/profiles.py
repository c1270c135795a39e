# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the stack layer: JupyterLab and Dask worker profiles (nebari_profiles) in the terms of the charts.

A profile names its size (CPU, memory, GPUs) and, optionally, the node group it runs on. Placement comes from the
node group: its labels become the node selector and its taints the tolerations, so a GPU profile lands on the
tainted GPU nodes without the inventory repeating them. A profile asking for GPUs goes to the first node group with
`gpu: true` unless it names one.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

GPU_RESOURCE = "nvidia.com/gpu"


def gpu_node_groups(node_groups):
    """Names of the node groups marked `gpu: true`, in inventory order."""
    return [name for name, group in (node_groups or {}).items() if (group or {}).get("gpu")]


def profile_group(profile, node_groups, default_group):
    """The name of the node group a profile runs on."""
    name = profile.get("node_group")
    if not name:
        gpus = gpu_node_groups(node_groups) if profile.get("gpus") else []
        name = gpus[0] if gpus else default_group
    return name


def profile_node_groups(profiles, node_groups, default_group):
    """The node groups the pods of these profiles run on, the default group first: where the cluster check expects
    JupyterLab servers and Dask workers."""
    names = [default_group]
    for profile in profiles or []:
        name = profile_group(profile, node_groups, default_group)
        if name not in names:
            names.append(name)
    return names


def placement(profile, node_groups, default_group, kind):
    """(node selector, tolerations) of the node group a profile runs on."""
    name = profile_group(profile, node_groups, default_group)
    group = (node_groups or {}).get(name)
    if group is None:
        raise AnsibleFilterError("nebari_profiles.%s (%s): node group %r is not in nebari_node_groups"
                                 % (kind, profile.get("name"), name))
    tolerations = [{"key": t["key"], "operator": "Equal", "value": str(t.get("value", "")), "effect": t["effect"]}
                   for t in group.get("taints") or []]
    return dict(group.get("labels") or {}), tolerations


def node_group_placement(node_groups, names):
    """Affinity and tolerations that put a workload on the nodes of any of the named groups (a DaemonSet on the GPU
    groups, say): one node selector term per group, and every taint of those groups tolerated."""
    terms, tolerations = [], []
    for name in names or []:
        group = (node_groups or {}).get(name)
        if group is None:
            raise AnsibleFilterError("node group %r is not in nebari_node_groups" % (name,))
        labels = group.get("labels") or {}
        terms.append({"matchExpressions": [{"key": key, "operator": "In", "values": [str(value)]}
                                           for key, value in sorted(labels.items())]})
        for taint in group.get("taints") or []:
            toleration = {"key": taint["key"], "operator": "Equal", "value": str(taint.get("value", "")),
                          "effect": taint["effect"]}
            if toleration not in tolerations:
                tolerations.append(toleration)
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}
    return {"affinity": affinity if terms else {}, "tolerations": tolerations}


def _merge(base, override):
    merged = dict(base)
    for key, value in (override or {}).items():
        merged[key] = _merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) \
            else value
    return merged


def jupyterlab_profiles(profiles, node_groups, default_group="user", runtime_class=""):
    """nebari_profiles.jupyterlab -> z2jh singleuser.profileList (KubeSpawner overrides per profile). GPU profiles
    run with runtime_class when one is given (k3s: the nvidia handler, without which nvidia-smi is missing)."""
    result = []
    for profile in profiles or []:
        selector, tolerations = placement(profile, node_groups, default_group, "jupyterlab")
        override = {"node_selector": selector, "tolerations": tolerations}
        if "cpu" in profile:
            override.update(cpu_limit=profile["cpu"], cpu_guarantee=profile.get("cpu_guarantee", profile["cpu"]))
        if "memory" in profile:
            override.update(mem_limit=profile["memory"], mem_guarantee=profile.get("memory_guarantee",
                                                                                   profile["memory"]))
        if profile.get("gpus"):
            override["extra_resource_limits"] = {GPU_RESOURCE: str(profile["gpus"])}
            if runtime_class:
                override["extra_pod_config"] = {"runtimeClassName": runtime_class}
        if profile.get("image"):
            override["image"] = profile["image"]
        entry = {"slug": profile["name"], "display_name": profile.get("display_name") or profile["name"],
                 "kubespawner_override": _merge(override, profile.get("kubespawner_override"))}
        if profile.get("description"):
            entry["description"] = profile["description"]
        if profile.get("default"):
            entry["default"] = True
        result.append(entry)
    return result


def jupyterlab_profile_access(profiles):
    """nebari_profiles.jupyterlab -> {name: {users: [...], groups: [...], names: [...]}} for the profiles that name who
    may use them (names: with keycloak_attribute, the names the users' Keycloak attribute jupyterlab_profiles may
    give the profile by) (the hub's profile_access.py reads it from custom.nebari-profile-access). Group names become the paths the
    hub knows Keycloak's groups by (ml-team -> /ml-team; /parent/child stays as it is). Profiles without users or
    groups are offered to every user and are left out."""
    result = {}
    for profile in profiles or []:
        users, groups = profile.get("users") or [], profile.get("groups") or []
        attribute = profile.get("keycloak_attribute") is True
        if users or groups or attribute:
            result[profile["name"]] = {"users": list(users),
                                       "groups": [g if g.startswith("/") else "/" + g for g in groups]}
            if attribute:
                # also the users whose Keycloak attribute jupyterlab_profiles names it (by name or display name)
                result[profile["name"]]["names"] = sorted(set([profile["name"], profile.get("display_name",
                                                                                            profile["name"])]))
    return result


def dask_worker_profiles(profiles, node_groups, default_group="worker", runtime_class=""):
    """nebari_profiles.dask_worker -> {name: options} for the Dask Gateway cluster-options handler (GPU workers
    with runtime_class as JupyterLab's GPU profiles)."""
    result = {}
    for profile in profiles or []:
        selector, tolerations = placement(profile, node_groups, default_group, "dask_worker")
        options = {"worker_extra_pod_config": {"nodeSelector": selector, "tolerations": tolerations}}
        if "cores" in profile:
            options.update(worker_cores_limit=profile["cores"],
                           worker_cores=profile.get("cores_guarantee", profile["cores"]))
        if "memory" in profile:
            options.update(worker_memory_limit=profile["memory"],
                           worker_memory=profile.get("memory_guarantee", profile["memory"]))
        if "threads" in profile:
            options["worker_threads"] = profile["threads"]
        if profile.get("gpus"):
            options["worker_extra_container_config"] = {"resources": {"limits": {GPU_RESOURCE: str(profile["gpus"])}}}
            if runtime_class:
                options["worker_extra_pod_config"]["runtimeClassName"] = runtime_class
        if profile.get("image"):
            options["image"] = profile["image"]
        result[profile["name"]] = _merge(options, profile.get("options"))
    return result


class FilterModule:
    def filters(self):
        return {"jupyterlab_profiles": jupyterlab_profiles, "dask_worker_profiles": dask_worker_profiles,
                "jupyterlab_profile_access": jupyterlab_profile_access,
                "node_group_placement": node_group_placement, "profile_node_groups": profile_node_groups}
