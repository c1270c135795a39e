# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight checks of the existing cloud cluster (providers eks, gke, aks): which cluster, where, and the CLI
the controller asks about it."""

from __future__ import annotations

import os
import re
import shutil

from ansible_collections.nebari.platform.plugins.plugin_utils.preflight.problems import describe

# Per provider: the settings' keys, required (True) or optional, each with the pattern the cloud accepts.
SETTINGS = {
    "eks": {
        "cluster": (True, re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$"), "an EKS cluster name"),
        "region": (True, re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d+$"), "an AWS region such as eu-west-1"),
        "profile": (False, re.compile(r"^[\w.@+-]*$"), "an AWS profile name"),
    },
    "gke": {
        "cluster": (True, re.compile(r"^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$"), "a GKE cluster name"),
        "project": (True, re.compile(r"^[a-z][-a-z0-9]{4,28}[a-z0-9]$"), "a Google Cloud project id"),
        "location": (True, re.compile(r"^[a-z]+-[a-z]+\d+(-[a-z])?$"),
                     "a region (europe-west1) or zone (europe-west1-b)"),
    },
    "aks": {
        "cluster": (True, re.compile(r"^[A-Za-z0-9][-_A-Za-z0-9]{0,62}$"), "an AKS cluster name"),
        "resource_group": (True, re.compile(r"^[-\w.()]{1,90}$"), "an Azure resource group name"),
        "subscription": (False, re.compile(r"^[^\s]*$"), "a subscription id or name"),
        "login": (False, re.compile(r"^(azurecli|msi|workloadidentity|spn|devicecode|interactive)?$"),
                  "a kubelogin login mode (azurecli, msi, workloadidentity, spn, devicecode, interactive)"),
    },
}
CLIS = {"eks": "aws", "gke": "gcloud", "aks": "az"}

VARIABLES = ("nebari_eks", "nebari_gke", "nebari_aks", "nebari_cloud_clis")


def check(inv, problems):
    provider = inv.get("nebari_cluster_provider")
    if provider not in SETTINGS:
        return
    variable = "nebari_" + provider
    settings = inv.get(variable, {})
    example = ", ".join("%s: ..." % key for key, spec in SETTINGS[provider].items() if spec[0])
    if not problems.expect_type(variable, settings, dict, "a mapping such as {%s}" % example):
        return
    problems.unknown_keys(variable, settings, SETTINGS[provider])
    for key, (required, pattern, what) in SETTINGS[provider].items():
        value = settings.get(key)
        if value in (None, ""):
            if required:
                problems.add(variable, "is required with provider %s: %s" % (provider, what), "." + key)
        elif not isinstance(value, str) or not pattern.match(value):
            problems.add(variable, "must be %s, got %s" % (what, describe(value)), "." + key)
    _cli(inv, problems, provider)


def _cli(inv, problems, provider):
    clis = inv.get("nebari_cloud_clis", CLIS)
    cli = clis.get(provider, CLIS[provider]) if isinstance(clis, dict) else clis
    if not isinstance(cli, str) or not cli:
        problems.add("nebari_cloud_clis", "must be the name or path of the %s CLI, got %s"
                     % (CLIS[provider], describe(cli)), "." + provider)
    elif not shutil.which(os.path.expanduser(cli)):
        problems.add("nebari_cloud_clis", "%r not found on the controller: install the %s CLI or set its path "
                     "(provider %s describes the cluster with it)" % (cli, CLIS[provider], provider), "." + provider)
