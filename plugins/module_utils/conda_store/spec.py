# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""conda-store environment specifications: check one, build the one conda-store receives, and tell whether two
specifications differ in anything but order.

conda-store completes what it receives before it stores it: default channels when none are given, default packages
when there are no dependencies, and the "included" conda and pip packages it adds to every environment (Nebari adds
ipykernel). canonical(spec, settings) applies the same completion, so the specification the inventory asks for
compares equal to the one conda-store stored for it, and only a real change makes a new build.
"""

from __future__ import annotations

import hashlib
import json
import re

from ansible_collections.nebari.platform.plugins.module_utils.conda_store.package_spec import conda_problem, pip_problem

NAME = re.compile(r"^[A-Za-z0-9+_@$&?^~.=-]+$")  # conda-store's ALLOWED_CHARACTERS for names and namespaces
KEYS = ("namespace", "name", "channels", "dependencies", "variables", "description", "state")


def environment_argument_spec():
    """The options of one environment, shared by conda_store_environments (each entry) and conda_store_environment."""
    return dict(
        namespace=dict(type="str", required=True),
        name=dict(type="str", required=True),
        channels=dict(type="list", elements="str", default=[]),
        dependencies=dict(type="list", elements="raw", default=[]),
        variables=dict(type="dict", default={}),
        description=dict(type="str", default=""),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )


def label(env):
    """How messages name an entry: namespace/name, with ? for what is missing."""
    if not isinstance(env, dict):
        return "?"
    return "%s/%s" % (env.get("namespace") or "?", env.get("name") or "?")


def problems(env):
    """What is wrong with one environment entry, one message each (without naming the entry); [] when good."""
    if not isinstance(env, dict):
        return ["must be a mapping {namespace, name, channels, dependencies, ...}, got %r" % (env,)]
    found = []
    unknown = sorted(set(env) - set(KEYS))
    if unknown:
        found.append("unknown keys %s (known: %s)" % (", ".join(map(str, unknown)), ", ".join(KEYS)))
    for key in ("namespace", "name"):
        value = env.get(key)
        if not value:
            found.append("%s is missing" % key)
        elif not isinstance(value, str) or not NAME.match(value):
            found.append("%s %r has characters conda-store refuses (allowed: letters, digits and - + _ @ $ & ? ^ ~ . =)"
                         % (key, value))
    channels = env.get("channels", [])
    if not isinstance(channels, list) or not all(isinstance(c, str) and c.strip() for c in channels):
        found.append("channels must be a list of channel names or URLs")
    found.extend(dependency_problems(env.get("dependencies", [])))
    variables = env.get("variables", {})
    if variables is not None and (not isinstance(variables, dict)
                                  or not all(isinstance(v, (str, int)) and not isinstance(v, bool)
                                             for v in variables.values())):
        found.append("variables must map names to strings or numbers")
    if env.get("description") is not None and not isinstance(env.get("description"), str):
        found.append("description must be a string")
    if env.get("state", "present") not in ("present", "absent"):
        found.append("state must be present or absent, got %r" % (env.get("state"),))
    return found


def dependency_problems(dependencies):
    if not isinstance(dependencies, list):
        return ["dependencies must be a list of package specs (strings) and at most one {pip: [...]}"]
    found, pips = [], 0
    for i, dep in enumerate(dependencies):
        if isinstance(dep, str):
            reason = conda_problem(dep) if dep.strip() else "is empty"
            if reason:
                found.append("dependencies[%d] %r is not a conda package spec: %s" % (i, dep, reason))
        elif isinstance(dep, dict) and list(dep) == ["pip"]:
            pips += 1
            if not isinstance(dep["pip"], list) or not all(isinstance(p, str) and p.strip() for p in dep["pip"]):
                found.append("dependencies[%d]: pip must be a list of requirement strings" % i)
                continue
            for j, requirement in enumerate(dep["pip"]):
                reason = pip_problem(requirement)
                if reason:
                    found.append("dependencies[%d].pip[%d] %r %s" % (i, j, requirement, reason))
        else:
            found.append("dependencies[%d] %r is neither a package spec string nor {pip: [...]}" % (i, dep))
    if pips > 1:
        found.append("dependencies: give one {pip: [...]} entry, not %d" % pips)
    return found


def package_name(spec):
    """The package a conda match spec names: 'conda-forge::numpy>=1.26' -> numpy."""
    spec = spec.strip().split("::")[-1]
    match = re.match(r"[A-Za-z0-9_.+-]+", spec)
    return match.group(0).lower() if match else ""


def pip_name(requirement):
    """The distribution a pip requirement names, PEP 503-normalised; options (--index-url ...) stand for themselves."""
    requirement = requirement.strip()
    if requirement.startswith("-"):
        return requirement
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    return re.sub(r"[-_.]+", "-", match.group(0)).lower() if match else requirement


def specification(env):
    """The specification conda-store receives for an inventory environment (what an environment.yml holds)."""
    spec = {"name": env["name"], "channels": list(env.get("channels") or []),
            "dependencies": [_squash(d) if isinstance(d, str) else {"pip": [_squash(p) for p in d["pip"]]}
                             for d in env.get("dependencies") or []],
            "description": env.get("description") or ""}
    if env.get("variables"):
        spec["variables"] = dict(env["variables"])
    return spec


def canonical(spec, settings=None):
    """A comparable form of a specification: order does not count; with conda-store's settings, what it adds on
    reception is added first."""
    conda = [d for d in spec.get("dependencies") or [] if isinstance(d, str)]
    pip = [p for d in spec.get("dependencies") or [] if isinstance(d, dict) for p in d.get("pip") or []]
    channels = list(spec.get("channels") or [])
    if settings:
        if not channels:
            channels = list(settings.get("conda_default_channels") or [])
        if not conda:
            conda = list(settings.get("conda_default_packages") or [])
        names = set(package_name(d) for d in conda)
        conda += [d for d in settings.get("conda_included_packages") or [] if package_name(d) not in names]
        if not pip:
            pip = list(settings.get("pypi_default_packages") or [])
        names = set(pip_name(p) for p in pip)
        pip += [p for p in settings.get("pypi_included_packages") or [] if pip_name(p) not in names]
    return {
        "name": spec.get("name"),
        "channels": sorted(set(_squash(c) for c in channels)),
        "conda": sorted(set(_squash(d) for d in conda)),
        "pip": sorted(set(_squash(p) for p in pip)),
        "variables": dict(sorted((str(k), str(v)) for k, v in (spec.get("variables") or {}).items())),
        "description": spec.get("description") or "",
    }


def differs(desired, stored, settings=None):
    """Whether the inventory's specification asks for something else than the stored one; returns the fields."""
    want, have = canonical(desired, settings), canonical(stored)
    return [key for key in want if want[key] != have[key]]


def fingerprint(desired, settings=None):
    """A digest of what the inventory asks for, as compared: equal digests, no change."""
    text = json.dumps(canonical(desired, settings), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _squash(text):
    return " ".join(str(text).split())
