# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for nebari.platform.preflight: validates the inventory on the controller, changes nothing."""

from __future__ import annotations

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase
from ansible.parsing.vault import VaultHelper, VaultLib

from ansible_collections.nebari.platform.plugins.plugin_utils.preflight import runner
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
            try:
                values[name] = _template(self._templar, task_vars[name])
            except AnsibleError as exc:
                problems.add(name, "cannot be evaluated: %s" % _first_line(exc))

        hosts = {}
        hostvars = task_vars.get("hostvars", {})
        for host in sorted(task_vars.get("groups", {}).get("all", [])):
            for name in runner.host_variables():
                try:
                    if name in hostvars[host]:
                        hosts.setdefault(host, {})[name] = self._templar.template(hostvars[host][name])
                except AnsibleError as exc:
                    problems.add(name, "cannot be evaluated: %s" % _first_line(exc), " (host %s)" % host)

        groups = {name: list(members) for name, members in task_vars.get("groups", {}).items()}
        inventory = Inventory(values, raw, hosts, vaulted=_vaulted, groups=groups)
        runner.run(inventory, problems)
        problems[:] = [problem for problem in problems if problem.variable not in skip]

        result["changed"] = False
        result["problems"] = [problem.as_dict() for problem in problems]
        result["checked"] = sorted(values)
        if problems:
            result["failed"] = True
            result["msg"] = runner.report(problems)
        else:
            result["msg"] = "Preflight passed: %d inventory variables checked, no problems" % len(values)
        return result


def _template(templar, value):
    """A variable's value templated; a list entry by entry, leaving alone the entries that cannot hold a template.

    The result is the same as templating the whole value, but the templar copies every container and string it
    walks: with 10,000 entries in nebari_users that took over a second, for entries that are plain data."""
    if isinstance(value, list):
        return [templar.template(item) if _may_hold_template(item) else item for item in value]
    return templar.template(value)


def _may_hold_template(value):
    """False for plain data without a '{' (every Jinja delimiter starts with one); True for anything else (an
    inline !vault value, say), which the templar then handles."""
    if isinstance(value, str):
        return "{" in value
    if isinstance(value, dict):
        return any(_may_hold_template(key) or _may_hold_template(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_may_hold_template(item) for item in value)
    return not isinstance(value, (bool, int, float, type(None)))


def _vaulted(value):
    """True for an inline !vault value (what the ansible.builtin.vault_encrypted test checks)."""
    ciphertext = VaultHelper.get_ciphertext(value, with_tags=False)
    return bool(ciphertext) and VaultLib.is_encrypted(ciphertext)


def _first_line(exc):
    return str(getattr(exc, "message", exc)).strip().splitlines()[0]
