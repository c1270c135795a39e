# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read every environment of conda-store as ``nebari_environments`` entries: for a backup, or to take over
environments made in the UI into the inventory.

An environment is what its current build was built from (the build users get when they activate it); the
specification is the one conda-store stored, with the packages it adds to every environment, which the reconcile
compares equal to the inventory's entry without them.
"""

from __future__ import annotations

from ansible_collections.nebari.platform.plugins.module_utils.actions import pool_map


def entry(namespace, spec):
    """The nebari_environments entry of a stored specification."""
    found = {"namespace": namespace, "name": spec.get("name"),
             "channels": [str(c) for c in spec.get("channels") or []],
             "dependencies": [d if isinstance(d, str) else {"pip": [str(p) for p in d.get("pip") or []]}
                              for d in spec.get("dependencies") or [] if isinstance(d, (str, dict))]}
    if spec.get("variables"):
        found["variables"] = dict((str(k), str(v)) for k, v in spec["variables"].items())
    if spec.get("description"):
        found["description"] = spec["description"]
    return found


def export(client, namespaces=None, workers=4):
    """{environments: [entry], builds: [{namespace, name, build_id, status}], left_out: [{namespace, name, reason}],
    namespaces: [name]}, in namespace then name order. namespaces limits the read to those (each must exist)."""
    existing = sorted(client.namespaces())
    if namespaces:
        missing = sorted(set(namespaces) - set(existing))
        if missing:
            raise ValueError("no such namespace in conda-store: %s (it has: %s)"
                             % (", ".join(missing), ", ".join(existing) or "none"))
        existing = [n for n in existing if n in set(namespaces)]
    listed = pool_map(workers, client.environments, existing)
    environments = sorted(((ns, env) for ns, envs in zip(existing, listed) for env in envs),
                          key=lambda pair: (pair[0], pair[1]["name"]))
    with_build = [(ns, env) for ns, env in environments if env.get("current_build_id")]
    builds = pool_map(workers, lambda pair: client.build(pair[1]["current_build_id"]), with_build)
    by_key = dict(((ns, env["name"]), build) for (ns, env), build in zip(with_build, builds))
    result = {"environments": [], "builds": [], "left_out": [], "namespaces": existing}
    for namespace, env in environments:
        build = by_key.get((namespace, env["name"])) or {}
        spec = (build.get("specification") or {}).get("spec")
        if not spec:
            reason = "no build yet" if not env.get("current_build_id") else "its build has no specification"
            result["left_out"].append({"namespace": namespace, "name": env["name"], "reason": reason})
            continue
        found = entry(namespace, dict(spec, name=env["name"]))
        if env.get("description") and not found.get("description"):
            found["description"] = env["description"]
        result["environments"].append(found)
        result["builds"].append({"namespace": namespace, "name": env["name"], "build_id": build.get("id"),
                                 "status": build.get("status")})
    return result
