# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs every preflight check over an Inventory and returns all problems found.

To add checks: write a module beside this one with VARIABLES (the inventory variables it reads), optionally
HOST_VARIABLES (host-level ones), and check(inventory, problems); then list it in CHECKS. unknown_variables runs
last, over every nebari_* name of the inventory, knowing what the other checks read.
"""

from __future__ import annotations

from ansible_collections.nebari.platform.plugins.plugin_utils.preflight import (
    authorization,
    cloud,
    cluster,
    controller,
    environments,
    gpu,
    identity,
    identity_providers,
    idle_culler,
    components,
    k3s,
    node_groups,
    profiles,
    secrets,
    storage,
    unknown_variables,
    users,
)
from ansible_collections.nebari.platform.plugins.plugin_utils.preflight.problems import Problems

CHECKS = (cluster, k3s, cloud, controller, node_groups, gpu, users, identity, identity_providers, environments,
          components, storage, idle_culler, profiles, authorization, secrets)


def variables():
    """Names of the inventory variables the checks read."""
    names = []
    for module in CHECKS + (unknown_variables,):
        names.extend(name for name in module.VARIABLES if name not in names)
    return names


def host_variables():
    names = []
    for module in CHECKS:
        names.extend(name for name in getattr(module, "HOST_VARIABLES", ()) if name not in names)
    return names


def run(inventory, problems=None):
    """Run every check; problems may already hold problems found while reading the inventory."""
    problems = problems if problems is not None else Problems()
    for module in CHECKS:
        module.check(inventory, problems)
    unknown_variables.check(inventory, problems, variables() + host_variables())
    return problems


def report(problems):
    """The failure message: every problem on its own line, variable and entry first."""
    count = len(problems)
    lines = ["Preflight found %d problem%s in the inventory; nothing was changed:" % (count, "" if count == 1 else "s")]
    lines.extend("  - %s" % problem for problem in problems)
    return "\n".join(lines)
