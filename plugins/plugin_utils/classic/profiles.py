# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nebari Classic profiles (profiles.jupyterlab, profiles.dask_worker) as nebari_profiles entries.

Classic spells a JupyterLab profile's size as KubeSpawner traits (cpu_limit, mem_guarantee, ...) and places it
with a node_selector; a Dask worker profile is a mapping display name -> worker_* settings. The collection's
profiles name the size and the node group; what has no field of its own stays in kubespawner_override (JupyterLab)
or options (Dask), so nothing is lost.
"""

from __future__ import annotations

import re

from ansible_collections.nebari.platform.plugins.plugin_utils.classic.errors import ClassicError
from ansible_collections.nebari.platform.plugins.plugin_utils.preflight.profiles import _bytes, _number

GPU = "nvidia.com/gpu"
# KubeSpawner traits -> the collection's profile fields
JUPYTERLAB_FIELDS = {"cpu_limit": "cpu", "cpu_guarantee": "cpu_guarantee", "mem_limit": "memory",
                     "mem_guarantee": "memory_guarantee", "image": "image"}
# Dask Gateway worker settings -> the collection's profile fields
DASK_FIELDS = {"worker_cores_limit": "cores", "worker_cores": "cores_guarantee", "worker_memory_limit": "memory",
               "worker_memory": "memory_guarantee", "worker_threads": "threads", "image": "image"}
NOBODY_REASON = ("access yaml without users or groups: Classic offered this profile to no one, so it is not "
                 "imported (give it users or groups to import it)")


def slug(display_name, taken):
    """A profile name from its display name: "GPU Instance (T4)" -> gpu-instance-t4, unique among taken."""
    base = re.sub(r"[^a-z0-9]+", "-", str(display_name).lower()).strip("-")[:50].strip("-") or "profile"
    name, n = base, 2
    while name in taken:
        name, n = "%s-%d" % (base, n), n + 1
    taken.add(name)
    return name


def jupyterlab(entries, node_groups, key, skip, pool_label=()):
    """profiles.jupyterlab (a list) -> nebari_profiles.jupyterlab."""
    if not isinstance(entries, list):
        raise ClassicError(key, "must be a list of profiles, got %s" % type(entries).__name__)
    result, taken = [], set()
    for i, entry in enumerate(entries):
        where = "%s[%d]" % (key, i)
        if not isinstance(entry, dict) or not entry.get("display_name"):
            raise ClassicError(where, "must be a mapping with display_name")
        # null and empty are "not set": `nebari init --explicit` writes users: null, groups: null, profile_options: {}
        access = entry.get("access") or "all"
        if access != "yaml" and (entry.get("users") is not None or entry.get("groups") is not None):
            raise ClassicError(where, "users and groups are only allowed with access: yaml (access is %s)" % access)
        if access not in ("all", "yaml", "keycloak"):
            raise ClassicError(where + ".access", "%r is not a profile access of Nebari Classic (all, yaml, "
                               "keycloak)" % (access,))
        rules = _access(entry, where) if access == "yaml" else {}
        if access == "keycloak":  # the users whose Keycloak attribute jupyterlab_profiles names it
            rules = {"keycloak_attribute": True}
        if access == "yaml" and not rules:
            skip("%s.access" % where, NOBODY_REASON)
            continue
        if entry.get("profile_options") not in (None, {}, []):
            skip("%s.profile_options" % where, "profile options (choices within a profile) have no field in "
                 "nebari_profiles; make each choice a profile of its own")
        profile = {"name": slug(entry["display_name"], taken), "display_name": entry["display_name"]}
        for field in ("description", "default"):
            if field in entry:
                profile[field] = entry[field]
        override = dict(entry.get("kubespawner_override") or {})
        profile.update(_sized(override, JUPYTERLAB_FIELDS, ("cpu", "memory"), where + ".kubespawner_override"))
        _placement(profile, override, "node_selector", node_groups, where + ".kubespawner_override", pool_label)
        if override:
            profile["kubespawner_override"] = override
        profile.update(rules)
        result.append(profile)
    return result


def _access(entry, where):
    """access: yaml's users and groups (each a list of strings; null or empty: not set) -> {users, groups}."""
    rules = {}
    for field in ("users", "groups"):
        value = entry.get(field)
        if value in (None, []):
            continue
        if not (isinstance(value, list) and all(isinstance(item, str) and item for item in value)):
            raise ClassicError("%s.%s" % (where, field), "must be a list of %s, got %r"
                               % ("usernames" if field == "users" else "group names", value))
        rules[field] = list(value)
    return rules


def access_groups(profiles):
    """The top-level groups the profiles' groups name (a path /parent/child names parent), in order, each once."""
    names = [group.strip("/").split("/")[0] for profile in profiles for group in profile.get("groups", [])]
    return list(dict.fromkeys(name for name in names if name))


def dask_worker(entries, node_groups, key, pool_label=()):
    """profiles.dask_worker (display name -> settings) -> nebari_profiles.dask_worker."""
    if not isinstance(entries, dict):
        raise ClassicError(key, "must be a mapping of worker profiles by display name, got %s"
                           % type(entries).__name__)
    result, taken = [], set()
    for display_name, settings in entries.items():
        where = "%s.%s" % (key, display_name)
        if not isinstance(settings, dict):
            raise ClassicError(where, "must be a mapping of worker settings")
        options = dict(settings)
        profile = {"name": slug(display_name, taken), "display_name": str(display_name)}
        container = options.get("worker_extra_container_config")
        limits = ((container or {}).get("resources") or {}).get("limits") if isinstance(container, dict) else None
        if isinstance(limits, dict) and GPU in limits:  # Classic's Dask GPU recipe: a GPU limit on the container
            options["extra_resource_limits"] = {GPU: limits[GPU]}
            limits = dict((k, x) for k, x in limits.items() if k != GPU)
            resources = dict(container["resources"], limits=limits) if limits else \
                dict((k, x) for k, x in container["resources"].items() if k != "limits")
            container = dict(container, resources=resources) if resources else \
                dict((k, x) for k, x in container.items() if k != "resources")
            if container:
                options["worker_extra_container_config"] = container
            else:
                del options["worker_extra_container_config"]
        profile.update(_sized(options, DASK_FIELDS, ("cores", "memory"), where))
        pod = options.get("worker_extra_pod_config")
        if isinstance(pod, dict) and isinstance(pod.get("nodeSelector"), dict):
            pod = dict(pod)
            _placement(profile, pod, "nodeSelector", node_groups, where + ".worker_extra_pod_config", pool_label)
            options["worker_extra_pod_config"] = pod
            if not pod:
                del options["worker_extra_pod_config"]
        if options:
            profile["options"] = options
        result.append(profile)
    if result and not any(p.get("default") for p in result):
        result[0]["default"] = True  # Classic offers the first worker profile first
    return result


def _sized(settings, fields, limits, where):
    """Pop the fields with a profile field of their own (and the GPU limit) out of settings; check they agree."""
    profile = {}
    for classic, ours in fields.items():
        if classic in settings:
            profile[ours] = settings.pop(classic)
    limits_extra = settings.get("extra_resource_limits")
    if isinstance(limits_extra, dict) and GPU in limits_extra:
        limits_extra = dict(limits_extra)
        gpus = limits_extra.pop(GPU)
        if not (isinstance(gpus, int) and not isinstance(gpus, bool) and gpus >= 0):
            raise ClassicError("%s.extra_resource_limits.%s" % (where, GPU), "must be a whole number, got %r"
                               % (gpus,))
        profile["gpus"] = gpus
        if limits_extra:
            settings["extra_resource_limits"] = limits_extra
        else:
            del settings["extra_resource_limits"]
    inverse = dict((v, k) for k, v in fields.items())
    for limit in limits:
        guarantee = limit + "_guarantee"
        parse = _bytes if limit == "memory" else _number
        for field in (limit, guarantee):
            if field in profile and parse(profile[field]) is None:
                raise ClassicError("%s.%s" % (where, inverse[field]), "is not a valid size: %r" % (profile[field],))
        if guarantee in profile and limit in profile and parse(profile[guarantee]) > parse(profile[limit]):
            raise ClassicError("%s.%s" % (where, inverse[guarantee]), "%s is above %s (%s): the fields contradict "
                               "each other" % (profile[guarantee], inverse[limit], profile[limit]))
    return profile


def _placement(profile, settings, key, node_groups, where, pool_label=()):
    """A node selector that is exactly one node group's labels becomes node_group. A GPU profile's selector that no
    group has becomes a node group of its own, marked gpu: true (Classic's local and existing providers know GPU
    nodes only from the profiles). On a cloud, {<pool label>: <name>} selects node group <name> (pool_label: the
    labels Classic's node pools carry their name in). Other selectors stay in the override as they are."""
    selector = settings.get(key)
    if not isinstance(selector, dict) or not selector:
        return
    selector = dict((str(k), str(v)) for k, v in selector.items())
    matches = [name for name, group in node_groups.items()
               if (group.get("labels") or {}) == selector or any(selector == {label: name} for label in pool_label)]
    if not matches and profile.get("gpus") and not pool_label:
        name = slug("-".join(selector.values()), set(node_groups))
        node_groups[name] = {"gpu": True, "labels": selector}
        matches = [name]
    if len(matches) != 1:
        return
    name = matches[0]
    if profile.get("gpus") and not node_groups[name].get("gpu"):
        raise ClassicError("%s.%s" % (where, key), "asks for %s GPU(s) but selects node group %r, which has no GPUs: "
                           "the fields contradict each other" % (profile["gpus"], name))
    profile["node_group"] = name
    del settings[key]
