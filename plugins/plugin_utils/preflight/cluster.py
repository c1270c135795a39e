# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight checks of the cluster-wide contract: provider, domain, namespace, TLS, kubeconfig."""

from __future__ import annotations

import os

from ansible_collections.nebari.platform.plugins.plugin_utils.preflight.problems import (
    DNS_LABEL,
    DNS_SUBDOMAIN,
    EMAIL,
    describe,
)

# Every provider of the inventory contract.
PROVIDERS = ("k3s", "eks", "gke", "aks", "existing")
TLS_MODES = {
    "selfsigned": (),
    "letsencrypt": ("acme_email", "acme_server"),
    "existing": ("secret_name",),
}

VARIABLES = (
    "nebari_cluster_provider",
    "nebari_domain",
    "nebari_namespace",
    "nebari_tls",
    "nebari_kubeconfig",
    "nebari_existing_kubeconfig",
    "nebari_existing_context",
)


def check(inv, problems):
    _provider(inv, problems)
    _domain(inv, problems)
    _namespace(inv, problems)
    _tls(inv, problems)
    _kubeconfig(inv, problems)


def _provider(inv, problems):
    provider = inv.get("nebari_cluster_provider")
    if not inv.defined("nebari_cluster_provider"):
        problems.add("nebari_cluster_provider", "is required (one of: %s)" % ", ".join(PROVIDERS))
    elif provider not in PROVIDERS:
        problems.add("nebari_cluster_provider", "unknown provider %s (one of: %s)" % (describe(provider), ", ".join(PROVIDERS)))


def _domain(inv, problems):
    domain = inv.get("nebari_domain")
    if domain in (None, ""):
        problems.add("nebari_domain", "is required: the DNS name users reach Nebari at, e.g. nebari.example.com")
    elif not isinstance(domain, str) or not DNS_SUBDOMAIN.match(domain):
        problems.add("nebari_domain", "must be a lower-case DNS name such as nebari.example.com, got %s" % describe(domain))


def _namespace(inv, problems):
    namespace = inv.get("nebari_namespace", "dev")
    if not isinstance(namespace, str) or not DNS_LABEL.match(namespace):
        problems.add("nebari_namespace", "must be a Kubernetes namespace name (lower-case letters, digits and '-', "
                     "at most 63 characters), got %s" % describe(namespace))


def _tls(inv, problems):
    tls = inv.get("nebari_tls", {"mode": "selfsigned"})
    if not problems.expect_type("nebari_tls", tls, dict, "a mapping such as {mode: selfsigned}"):
        return
    mode = tls.get("mode")
    if mode not in TLS_MODES:
        problems.add("nebari_tls", "mode must be one of %s, got %s" % (", ".join(TLS_MODES), describe(mode)), ".mode")
        return
    problems.unknown_keys("nebari_tls", tls, ("mode",) + TLS_MODES[mode])
    if mode == "letsencrypt":
        email = tls.get("acme_email")
        if not isinstance(email, str) or not EMAIL.match(email):
            problems.add("nebari_tls", "mode letsencrypt needs a valid acme_email, got %s" % describe(email), ".acme_email")
    if mode == "existing" and not (isinstance(tls.get("secret_name"), str) and DNS_SUBDOMAIN.match(tls["secret_name"])):
        problems.add("nebari_tls", "mode existing needs secret_name, the name of a TLS secret in the Nebari namespace",
                     ".secret_name")


def _kubeconfig(inv, problems):
    for name in ("nebari_kubeconfig",):
        value = inv.get(name)
        if not isinstance(value, str) or not value:
            problems.add(name, "must be the path of the kubeconfig file the cluster layer writes, got %s" % describe(value))
    if inv.get("nebari_cluster_provider") == "existing":
        path = inv.get("nebari_existing_kubeconfig")
        if not isinstance(path, str) or not path:
            problems.add("nebari_existing_kubeconfig", "is required with provider existing: the path of the cluster's "
                         "kubeconfig on the controller")
        elif not os.path.isfile(os.path.expanduser(path)):
            problems.add("nebari_existing_kubeconfig", "no such file on the controller: %s" % path)
        context = inv.get("nebari_existing_context")
        if context is not None and not isinstance(context, str):
            problems.add("nebari_existing_context", "must be a context name, got %s" % describe(context))
