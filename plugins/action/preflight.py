# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for nebari.platform.preflight: validates the inventory on the controller, changes nothing."""

from __future__ import annotations

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase
from ansible.parsing.vault import VaultHelper, VaultLib

from ansible_collections.nebari.platform.plugins.plugin_utils.preflight import runner, templating
from ansible_collections.nebari.platform.plugins.plugin_utils.preflight.problems import Inventory, Problems


class ActionModule(ActionBase):
    """Template the contract variables one by one, run every check, fail once with every problem."""

    _supports_check_mode = True
    _requires_connection = False
    _VALID_ARGS = frozenset(("skip_variables",))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        dummy, args = self.validate_argument_spec(
            argument_spec={"skip_variables": {"type": "list", "elements": "str", "default": []}})
        skip = set(args["skip_variables"])

        problems = Problems()
        values, raw = {}, {}
        for name in runner.variables():
            if name in skip or name not in task_vars:
                continue
            raw[name] = task_vars[name]
            value, error = templating.evaluate(self._templar, task_vars, name)
            if error:
                problems.add(name, error)
            else:
                values[name] = value

        hosts = {}
        hostvars = task_vars.get("hostvars", {})
        for host in sorted(task_vars.get("groups", {}).get("all", [])):
            for name in runner.host_variables():
                try:
                    if name not in hostvars[host]:
                        continue
                    value, error = templating.evaluate(self._templar, hostvars[host], name)
                except AnsibleError as exc:
                    value, error = None, "cannot be evaluated: %s" % templating.first_line(exc)
                if error:
                    problems.add(name, error, " (host %s)" % host)
                else:
                    hosts.setdefault(host, {})[name] = value

        groups = {name: list(members) for name, members in task_vars.get("groups", {}).items()}
        names = [name for name in task_vars if isinstance(name, str) and name not in skip]
        inventory = Inventory(values, raw, hosts, vaulted=_vaulted, groups=groups, names=names)
        runner.run(inventory, problems)
        problems[:] = [problem for problem in problems if problem.variable not in skip]
        if problems.warnings:
            result["warnings"] = [str(warning) for warning in problems.warnings]

        result["changed"] = False
        result["problems"] = [problem.as_dict() for problem in problems]
        result["checked"] = sorted(values)
        if problems:
            result["failed"] = True
            result["msg"] = runner.report(problems)
        else:
            result["msg"] = "Preflight passed: %d inventory variables checked, no problems" % len(values)
        return result


def _vaulted(value):
    """True for an inline !vault value (what the ansible.builtin.vault_encrypted test checks)."""
    ciphertext = VaultHelper.get_ciphertext(value, with_tags=False)
    return bool(ciphertext) and VaultLib.is_encrypted(ciphertext)
