# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight checks of idle culling (nebari_idle_culler): known keys, minutes as numbers, switches as booleans."""

from __future__ import annotations

from ansible_collections.nebari.platform.plugins.plugin_utils.preflight.problems import describe

VARIABLES = ("nebari_idle_culler",)
MINUTES = ("server_cull_timeout", "server_cull_interval", "kernel_cull_idle_timeout", "kernel_cull_interval",
           "terminal_cull_inactive_timeout", "terminal_cull_interval", "server_shutdown_no_activity_timeout")
SWITCHES = ("kernel_cull_connected", "kernel_cull_busy")
INTERVALS = ("server_cull_interval", "kernel_cull_interval", "terminal_cull_interval")


def check(inv, problems):
    culler = inv.get("nebari_idle_culler", {})
    if culler is None:
        return
    if not problems.expect_type("nebari_idle_culler", culler, dict,
                                "a mapping of minutes such as {server_cull_timeout: 60}"):
        return
    problems.unknown_keys("nebari_idle_culler", culler, MINUTES + SWITCHES)
    for key in MINUTES:
        if key not in culler:
            continue
        value = culler[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            problems.add("nebari_idle_culler", "must be a number of minutes (0: off), got %s" % describe(value),
                         "." + key)
        elif key in INTERVALS and value == 0:
            problems.add("nebari_idle_culler", "must be more than 0 minutes (how often idleness is checked)",
                         "." + key)
    for key in SWITCHES:
        if key in culler and not isinstance(culler[key], bool):
            problems.add("nebari_idle_culler", "must be true or false, got %s" % describe(culler[key]), "." + key)
