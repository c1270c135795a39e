# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight checks of who may do what (nebari_conda_store_role_bindings): rules by Keycloak role, each a mapping
of conda-store patterns (<namespace>/<environment>, * as wildcard, {username} and {group}) to conda-store's roles."""

from __future__ import annotations

import re

from ansible_collections.nebari.platform.plugins.plugin_utils.preflight.problems import describe

VARIABLES = ("nebari_conda_store_role_bindings",)
CONDA_STORE_ROLES = ("viewer", "developer", "admin")
# conda-store's ARN_ALLOWED with the placeholders the rules may use in place of a name
_NAME = r"(?:[A-Za-z0-9+_@$&?^~.=*-]|\{username\}|\{group\})+"
PATTERN = re.compile(r"^%s/%s$" % (_NAME, _NAME))


def check(inv, problems):
    name = "nebari_conda_store_role_bindings"
    rules = inv.get(name, {})
    if rules is None:
        return
    if not problems.expect_type(name, rules, dict, 'a mapping of roles such as {all_users: {"{username}/*": [admin]}}'):
        return
    for role, bindings in rules.items():
        entry = ".%s" % role
        if not problems.expect_type(name, bindings, dict, 'a mapping of patterns such as {"{group}/*": [developer]}',
                                    entry):
            continue
        for pattern, granted in bindings.items():
            where = '%s["%s"]' % (entry, pattern)
            if not isinstance(pattern, str) or not PATTERN.match(pattern):
                problems.add(name, "must be <namespace>/<environment> of conda-store's name characters, * and the "
                                   "placeholders {username} and {group}, got %s" % describe(pattern), where)
            if not isinstance(granted, list) or not granted:
                problems.add(name, "must be a list of conda-store roles (%s), got %s"
                             % (", ".join(CONDA_STORE_ROLES), describe(granted)), where)
                continue
            for role_name in granted:
                if role_name not in CONDA_STORE_ROLES:
                    problems.add(name, "%r is not a conda-store role (%s)"
                                 % (role_name, ", ".join(CONDA_STORE_ROLES)), where)
