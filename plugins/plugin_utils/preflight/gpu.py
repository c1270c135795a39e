# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight checks of the GPU settings: how GPUs become schedulable (nebari_gpu_plugin) and the driver, toolkit
and package sources of role nvidia_gpu. Whether each GPU host has a GPU is checked on the hosts themselves
(playbooks/preflight.yml, role nvidia_gpu's detect.yml)."""

from __future__ import annotations

import os
import re

import yaml

from ansible_collections.nebari.platform.plugins.plugin_utils.preflight.problems import describe

PLUGINS = ("auto", "device-plugin", "gpu-operator", "none")
# the branches the role installs: one list, in the role's vars
ROLE_VARS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles", "nvidia_gpu", "vars", "main.yml")
TOOLKIT_VERSION = re.compile(r"^\d+\.\d+\.\d+(~rc\.\d+)?$")
REPOSITORY_KEYS = ("name", "uri", "suite", "components", "signed_by", "trusted")
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")

VARIABLES = (
    "nebari_gpu_plugin",
    "nebari_gpu_operator_driver",
    "nvidia_gpu_driver_branch",
    "nvidia_gpu_toolkit_version",
    "nvidia_gpu_repositories",
    "nvidia_gpu_package_dir",
    "nvidia_gpu_allow_reboot",
)


def supported_branches():
    with open(ROLE_VARS) as handle:
        return [str(branch) for branch in yaml.safe_load(handle)["nvidia_gpu_supported_branches"]]


def check(inv, problems):
    plugin = inv.get("nebari_gpu_plugin", "auto")
    if plugin not in PLUGINS:
        problems.add("nebari_gpu_plugin", "must be one of %s, got %s" % (", ".join(PLUGINS), describe(plugin)))
    for name in ("nebari_gpu_operator_driver", "nvidia_gpu_allow_reboot"):
        if inv.defined(name):
            problems.expect_type(name, inv.get(name), bool, "true or false")
    if inv.defined("nvidia_gpu_driver_branch"):
        branch, branches = str(inv.get("nvidia_gpu_driver_branch")), supported_branches()
        if branch not in branches:
            problems.add("nvidia_gpu_driver_branch", "%s is not a driver branch the role installs (%s)"
                         % (describe(inv.get("nvidia_gpu_driver_branch")), ", ".join(branches)))
    version = inv.get("nvidia_gpu_toolkit_version")
    if inv.defined("nvidia_gpu_toolkit_version") and not (isinstance(version, str) and TOOLKIT_VERSION.match(version)):
        problems.add("nvidia_gpu_toolkit_version", "must be a toolkit release such as 1.18.0, got %s"
                     % describe(version))
    _repositories(inv.get("nvidia_gpu_repositories", []), problems)
    package_dir = inv.get("nvidia_gpu_package_dir", "")
    if package_dir and not (isinstance(package_dir, str) and os.path.isdir(package_dir)):
        problems.add("nvidia_gpu_package_dir", "must be a directory on the controller, %s is not one"
                     % describe(package_dir))


def _repositories(repositories, problems):
    var = "nvidia_gpu_repositories"
    if not problems.expect_type(var, repositories or [], list, "a list of {name, uri, ...}"):
        return
    for i, repo in enumerate(repositories or []):
        entry = "[%d]" % i
        if not problems.expect_type(var, repo, dict, "a mapping {name, uri, suite, signed_by}", entry):
            continue
        problems.unknown_keys(var, repo, REPOSITORY_KEYS, entry)
        if not (isinstance(repo.get("name"), str) and NAME.match(repo["name"])):
            problems.add(var, "name must be a short file name (lower-case letters, digits, '.', '_', '-'), got %s"
                         % describe(repo.get("name")), entry)
        if not (isinstance(repo.get("uri"), str) and re.match(r"^(https?|file|ftp):", repo["uri"])):
            problems.add(var, "uri must be an http(s):, ftp: or file: URL, got %s" % describe(repo.get("uri")), entry)
        key = repo.get("signed_by")
        if "signed_by" in repo and not (isinstance(key, str) and re.match(r"^(https?|file)://", key)):
            problems.add(var, "signed_by must be the URL of the signing key, got %s" % describe(repo["signed_by"]),
                         entry)
