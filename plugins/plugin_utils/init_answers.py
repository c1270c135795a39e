# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The answers of the guided init (playbooks/init.yml) as inventory variables, hosts and secrets to generate.

Answers come from an answers file or extra vars (init_answers) and from the prompts; every one is checked here,
and every problem is listed at once, before anything is written.
"""

from __future__ import annotations

import re

from ansible_collections.nebari.platform.plugins.plugin_utils.inventory_files import service_secrets

PROVIDERS = ("k3s", "eks", "gke", "aks", "existing")
TLS = ("selfsigned", "letsencrypt", "existing")
REQUIRED = {
    "k3s": ("servers", "metallb_addresses"),
    "eks": ("cluster", "region"),
    "gke": ("cluster", "project", "location"),
    "aks": ("cluster", "resource_group"),
    "existing": ("kubeconfig",),
}
KNOWN = ("provider", "domain", "namespace", "tls", "acme_email", "tls_secret", "servers", "agents", "ssh_user",
         "api_endpoint", "metallb_addresses", "cluster", "region", "profile", "project", "location",
         "resource_group", "subscription", "kubeconfig", "context", "gpu_pools", "admin_username", "admin_email")
DEFAULTS = {"namespace": "dev", "tls": "selfsigned", "ssh_user": "nebari-admin"}
STANDARD_GROUPS = ("general", "user", "worker")
GROUP = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


class AnswerError(ValueError):
    """Every problem with the answers, one per line."""


def _words(value):
    """A list, or a string of items separated by commas or blanks."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [w for w in re.split(r"[,\s]+", str(value)) if w]


def _agents(value, problems):
    """agents: {group: [addresses]} or "user=10.0.0.21,worker=10.0.0.31 10.0.0.32" -> [(group, address)]."""
    pairs = []
    if isinstance(value, dict):
        for group, addresses in value.items():
            pairs.extend((str(group), a) for a in _words(addresses))
        return pairs
    group = None
    for word in _words(value):
        if "=" in word:
            group, word = word.split("=", 1)
        if not group:
            problems.append("agents: %r names no node group: write group=address, such as worker=10.0.0.31" % word)
            continue
        if word:
            pairs.append((group, word))
    return pairs


def build(answers):
    """answers -> (variables, host groups, secrets to generate as {name: None}, notes); AnswerError if bad."""
    problems = []
    answers = dict((k, v) for k, v in (answers or {}).items() if v not in (None, ""))
    for key in sorted(set(answers) - set(KNOWN)):
        problems.append("%s: not a question of the init (known: %s)" % (key, ", ".join(KNOWN)))
    a = dict(DEFAULTS, **answers)
    provider = a.get("provider")
    if provider not in PROVIDERS:
        problems.append("provider: must be one of %s, got %r" % (", ".join(PROVIDERS), provider))
        raise AnswerError("\n".join(problems))
    for key in ("domain",) + REQUIRED[provider]:
        if key not in a:
            problems.append("%s: required with provider %s" % (key, provider))
    if a["tls"] not in TLS:
        problems.append("tls: must be one of %s, got %r" % (", ".join(TLS), a["tls"]))
    if a["tls"] == "letsencrypt" and "acme_email" not in a:
        problems.append("acme_email: required with tls letsencrypt (Let's Encrypt's notices go there)")
    if a["tls"] == "existing" and "tls_secret" not in a:
        problems.append("tls_secret: required with tls existing (the TLS secret in the Nebari namespace)")
    if bool(a.get("admin_username")) != bool(a.get("admin_email")):
        problems.append("admin_username and admin_email: give both for the first admin user, or neither")

    v = {"nebari_cluster_provider": provider, "nebari_domain": a.get("domain"), "nebari_namespace": a["namespace"],
         "nebari_tls": {"mode": a["tls"]}}
    if a["tls"] == "letsencrypt":
        v["nebari_tls"]["acme_email"] = a.get("acme_email")
    elif a["tls"] == "existing":
        v["nebari_tls"]["secret_name"] = a.get("tls_secret")
    groups, secrets, notes = {}, {}, []
    gpu_groups = []
    if provider == "k3s":
        servers = _words(a.get("servers"))
        agents = _agents(a.get("agents"), problems)
        for group, address in agents:
            if not GROUP.match(group):
                problems.append("agents: node group %r must be a DNS label (lower-case letters, digits, '-')" % group)
        groups["vars"] = {"ansible_user": a["ssh_user"], "ansible_become": True}
        groups["k3s_servers"] = dict(("nebari-server-%d" % i, {"ansible_host": address,
                                                               "nebari_node_group": "general"})
                                     for i, address in enumerate(servers))
        counts, agent_hosts = {}, {}
        for group, address in agents:
            n = counts[group] = counts.get(group, -1) + 1
            agent_hosts["nebari-%s-%d" % (group, n)] = {"ansible_host": address, "nebari_node_group": group}
        groups["k3s_agents"] = agent_hosts
        gpu_groups = [g for g in counts if g == "gpu" or g.startswith("gpu-")]
        node_groups = list(STANDARD_GROUPS) + [g for g in counts if g not in STANDARD_GROUPS]
        v["nebari_metallb_addresses"] = _words(a.get("metallb_addresses"))
        v["k3s_token"] = "{{ vault_k3s_token }}"
        secrets["vault_k3s_token"] = None
        if a.get("api_endpoint"):
            v["k3s_api_endpoint"] = a["api_endpoint"]
        if len(servers) == 2:
            problems.append("servers: give 1 server, or 3 or more for HA (etcd needs a majority: 2 servers stop "
                            "when either fails)")
    else:
        gpu_groups = _words(a.get("gpu_pools"))
        for group in gpu_groups:
            if not GROUP.match(group):
                problems.append("gpu_pools: %r must be a DNS label (lower-case letters, digits, '-')" % group)
        node_groups = list(STANDARD_GROUPS) + [g for g in gpu_groups if g not in STANDARD_GROUPS]
        if provider == "eks":
            v["nebari_eks"] = dict((k, a[k]) for k in ("cluster", "region", "profile") if k in a)
        elif provider == "gke":
            v["nebari_gke"] = dict((k, a[k]) for k in ("cluster", "project", "location") if k in a)
        elif provider == "aks":
            v["nebari_aks"] = dict((k, a[k]) for k in ("cluster", "resource_group", "subscription") if k in a)
        else:
            v["nebari_existing_kubeconfig"] = a.get("kubeconfig")
            if a.get("context"):
                v["nebari_existing_context"] = a["context"]
    v["nebari_node_groups"] = dict((name, _node_group(name, name in gpu_groups)) for name in node_groups)
    if gpu_groups:
        notes.append("GPU node group(s) %s: see docs/gpu.md for drivers and GPU profiles" % ", ".join(gpu_groups))
    if a.get("admin_username"):
        v["nebari_users"] = [{"username": a["admin_username"], "email": a.get("admin_email"), "groups": ["admin"]}]
    v["nebari_keycloak_admin_username"] = "admin"
    v["nebari_keycloak_admin_password"] = "{{ vault_keycloak_admin_password }}"
    references, values = service_secrets(lambda purpose: None)  # None: generated by the writer
    v.update(references)
    secrets.update(values, vault_keycloak_admin_password=None)
    if problems:
        raise AnswerError("\n".join(problems))
    return v, groups, secrets, notes


def _node_group(name, gpu):
    group = {"labels": {"nebari.dev/node-group": name}}
    if gpu:
        group["gpu"] = True
        group["taints"] = [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]
    return group
