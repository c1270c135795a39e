# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight checks of conda-store environments (nebari_environments) and of how the environments layer reaches
conda-store. The entry checks are the ones the conda_store modules run themselves."""

from __future__ import annotations

from ansible_collections.nebari.platform.plugins.module_utils.conda_store.spec import label, problems as entry_problems
from ansible_collections.nebari.platform.plugins.plugin_utils.preflight.problems import describe

VARIABLES = ("nebari_environments", "nebari_conda_store_url", "nebari_conda_store_token",
             "nebari_conda_store_validate_certs")


def check(inv, problems):
    environments = inv.get("nebari_environments", [])
    if not problems.expect_type("nebari_environments", environments, list,
                                "a list of {namespace, name, channels, dependencies, ...}"):
        return
    seen = {}
    for i, env in enumerate(environments):
        entry = "[%d] (%s)" % (i, label(env))
        for message in entry_problems(env):
            problems.add("nebari_environments", message, entry)
        key = label(env)
        if isinstance(env, dict) and key in seen:
            problems.add("nebari_environments", "duplicate of nebari_environments%s" % seen[key], entry)
        seen.setdefault(key, "[%d]" % i)
    if not environments:
        return
    url = inv.get("nebari_conda_store_url")
    if not (isinstance(url, str) and url.startswith(("http://", "https://")) and len(url) > 8):
        problems.add("nebari_conda_store_url", "must be conda-store's URL with the prefix it is served under, such as "
                     "https://nebari.example.com/conda-store, got %s" % describe(url))
    if not inv.get("nebari_conda_store_token"):
        problems.add("nebari_conda_store_token", 'is required by the environments layer: set it to '
                     '"{{ vault_conda_store_token }}" and define that in an ansible-vault file')
    problems.expect_type("nebari_conda_store_validate_certs", inv.get("nebari_conda_store_validate_certs", True), bool,
                         "true or false")
