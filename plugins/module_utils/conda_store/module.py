# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The part conda_store_environments and conda_store_environment share: options, input checks, the run."""

from __future__ import annotations

from ansible_collections.nebari.platform.plugins.module_utils.conda_store.reconcile import reconcile
from ansible_collections.nebari.platform.plugins.module_utils.conda_store.spec import label, problems


def environment_options():
    return dict(
        rebuild_failed=dict(type="bool", default=False),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=1800),
        stale_build_timeout=dict(type="int", default=3600),
    )


def input_problems(environments):
    """Every problem of the list, before any request: bad entries and duplicates."""
    found, seen = [], {}
    for i, env in enumerate(environments):
        where = "environments[%d] (%s)" % (i, label(env))
        found.extend("%s: %s" % (where, message) for message in problems(env))
        key = label(env)
        if key in seen:
            found.append("%s: duplicate of environments[%d]" % (where, seen[key]))
        seen.setdefault(key, i)
    return found


def run(module, client, environments):
    """Check the list, reconcile it, hand warnings to Ansible; returns the module result."""
    # the argument spec fills every option: drop the defaults of absent ones the checks would not expect
    environments = [dict((k, v) for k, v in env.items() if v is not None) for env in environments]
    bad = input_problems(environments)
    if bad:
        module.fail_json(msg="%d problems in the environments, nothing was changed:\n%s" % (len(bad), "\n".join(bad)),
                         problems=bad)
    params = module.params
    if params["stale_build_timeout"] < 0:
        module.fail_json(msg="stale_build_timeout must be 0 (never) or a number of seconds, not %s"
                         % params["stale_build_timeout"])
    result = reconcile(client, environments, rebuild_failed=params["rebuild_failed"], wait_builds=params["wait"],
                       wait_timeout=params["wait_timeout"], workers=params.get("workers") or 4,
                       check_mode=module.check_mode, diff=module._diff, stale_after=params["stale_build_timeout"])
    for warning in result.pop("warnings", []):
        module.warn(warning)
    return result
