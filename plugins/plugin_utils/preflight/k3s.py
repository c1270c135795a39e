# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight checks of the k3s cluster (provider k3s): the server and agent groups, the version, the API
endpoint, the token and the airgap directory."""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re

from ansible_collections.nebari.platform.plugins.plugin_utils.preflight.problems import DNS_SUBDOMAIN, describe

# k3s' own release tags: v<kubernetes version>+k3s<n> (release candidates: -rc<m>+k3s<n>).
K3S_VERSION = re.compile(r"^v1\.\d+\.\d+(-rc\d+)?\+k3s\d+$")
ARCHES = {"amd64": "k3s", "arm64": "k3s-arm64", "arm": "k3s-armhf"}

VARIABLES = (
    "k3s_version",
    "k3s_token",
    "k3s_api_endpoint",
    "k3s_api_port",
    "k3s_airgap_dir",
    "k3s_tls_san",
    "k3s_disable",
    "k3s_server_config",
    "k3s_agent_config",
    "k3s_kube_vip",
    "k3s_kube_vip_version",
    "k3s_kube_vip_interface",
)
HOST_VARIABLES = ("ansible_host",)
# Keys the role writes itself: setting them through k3s_server_config / k3s_agent_config would fight the role.
OWN_KEYS = ("token", "token-file", "cluster-init", "server", "data-dir", "node-name", "node-label", "node-taint")


def check(inv, problems):
    if inv.get("nebari_cluster_provider") != "k3s":
        return
    servers = inv.groups.get("k3s_servers") or []
    agents = inv.groups.get("k3s_agents") or []
    if not servers:
        problems.add("k3s_servers", "provider k3s needs at least one host in inventory group k3s_servers (the first "
                     "one starts the cluster)")
    elif len(servers) > 1 and len(servers) % 2 == 0:
        problems.add("k3s_servers", "%d servers: embedded etcd needs an odd number (1, 3, 5) to keep a quorum when "
                     "one fails; hosts: %s" % (len(servers), ", ".join(servers)))
    both = sorted(set(servers) & set(agents))
    if both:
        problems.add("k3s_agents", "hosts in both k3s_servers and k3s_agents: %s (a server already runs "
                     "workloads)" % ", ".join(both))
    version = inv.get("k3s_version", "v1.34.2+k3s1")
    if not isinstance(version, str) or not K3S_VERSION.match(version):
        problems.add("k3s_version", "must be a k3s release tag such as v1.34.2+k3s1, got %s" % describe(version))
    if not inv.defined("k3s_token") or inv.get("k3s_token") in (None, ""):
        problems.add("k3s_token", 'is required with provider k3s: the cluster token, k3s_token: "{{ vault_k3s_token }}"')
    _endpoint(inv, problems, servers)
    _kube_vip(inv, problems, servers)
    _config(inv, problems)
    _airgap(inv, problems, version)


def is_address(value):
    """An IP address or a DNS name (no scheme, no port, no path)."""
    if not isinstance(value, str) or not value:
        return False
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return bool(DNS_SUBDOMAIN.match(value)) and not re.match(r"^[0-9.]+$", value)


def _kube_vip(inv, problems, servers):
    enabled = inv.get("k3s_kube_vip", False)
    if not isinstance(enabled, bool):
        problems.add("k3s_kube_vip", "must be true or false, got %s" % describe(enabled))
    if enabled is not True:
        return
    endpoint = inv.get("k3s_api_endpoint", "")
    try:
        ipaddress.IPv4Address(endpoint)
    except ValueError:
        problems.add("k3s_api_endpoint", "kube-vip (k3s_kube_vip) announces an IPv4 address: set an unused one on the "
                     "servers' network, got %s" % describe(endpoint))
    else:
        taken = [name for name in servers if inv.hosts.get(name, {}).get("ansible_host", name) == endpoint]
        if taken:
            problems.add("k3s_api_endpoint", "%s is the address of server %s: kube-vip needs an address no host has"
                         % (endpoint, taken[0]))
    version = inv.get("k3s_kube_vip_version", "v1.1.2")
    if not isinstance(version, str) or not re.match(r"^v\d+\.\d+\.\d+$", version):
        problems.add("k3s_kube_vip_version", "must be a kube-vip release tag such as v1.1.2, got %s" % describe(version))
    interface = inv.get("k3s_kube_vip_interface", "")
    if interface not in (None, "") and not (isinstance(interface, str) and re.match(r"^[\w.:@-]{1,15}$", interface)):
        problems.add("k3s_kube_vip_interface", "must be a network interface name such as ens192, got %s"
                     % describe(interface))


def _endpoint(inv, problems, servers):
    endpoint = inv.get("k3s_api_endpoint", "")
    if endpoint not in (None, "") and not is_address(endpoint):
        problems.add("k3s_api_endpoint", "must be an IP address or a DNS name (no https://, no port: the port is "
                     "k3s_api_port), got %s" % describe(endpoint))
    elif endpoint in (None, "") and servers:
        address = inv.hosts.get(servers[0], {}).get("ansible_host", servers[0])
        if not is_address(address):
            problems.add("k3s_api_endpoint", "is empty, so the first server's address is used, but %s's "
                         "ansible_host %s is not an address" % (servers[0], describe(address)))
    port = inv.get("k3s_api_port", 6443)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        problems.add("k3s_api_port", "must be a TCP port number, got %s" % describe(port))
    sans = inv.get("k3s_tls_san", [])
    if problems.expect_type("k3s_tls_san", sans, list, "a list of addresses and DNS names"):
        for i, san in enumerate(sans):
            if not is_address(san):
                problems.add("k3s_tls_san", "must be an IP address or a DNS name, got %s" % describe(san), "[%d]" % i)


def _config(inv, problems):
    disable = inv.get("k3s_disable", [])
    if problems.expect_type("k3s_disable", disable, list, "a list of bundled components such as [traefik, servicelb]"):
        for i, item in enumerate(disable):
            if not isinstance(item, str) or not item:
                problems.add("k3s_disable", "must be a component name, got %s" % describe(item), "[%d]" % i)
    for name in ("k3s_server_config", "k3s_agent_config"):
        config = inv.get(name, {})
        if not problems.expect_type(name, config, dict, "a mapping of k3s flag names to values"):
            continue
        for key in config:
            if key in OWN_KEYS:
                problems.add(name, "%r is set by the role from the inventory; use %s instead" % (
                    key, "k3s_token" if key.startswith("token") else "the inventory groups and node groups"),
                    ".%s" % key)
            elif not isinstance(key, str) or not re.match(r"^[a-z0-9][a-z0-9-]*\+?$", key):
                problems.add(name, "%r is not a k3s flag name (lower-case words joined by '-', no leading --)"
                             % (key,), ".%s" % key)


def _airgap(inv, problems, version):
    directory = inv.get("k3s_airgap_dir", "")
    if directory in (None, ""):
        return
    if not isinstance(directory, str) or not os.path.isdir(os.path.expanduser(directory)):
        problems.add("k3s_airgap_dir", "no such directory on the controller: %s" % describe(directory))
        return
    directory = os.path.expanduser(directory)
    arches = [arch for arch, binary in ARCHES.items() if os.path.isfile(os.path.join(directory, binary))]
    if not arches:
        problems.add("k3s_airgap_dir", "%s holds no k3s binary (k3s for amd64, k3s-arm64 or k3s-armhf, from the "
                     "k3s %s release page)" % (directory, version))
    for arch in arches:
        _airgap_arch(directory, arch, version, problems)


def _airgap_arch(directory, arch, version, problems):
    binary = ARCHES[arch]
    wanted = ("k3s-airgap-images-%s.tar.zst" % arch, "sha256sum-%s.txt" % arch)
    missing = [name for name in wanted if not os.path.isfile(os.path.join(directory, name))]
    if missing:
        problems.add("k3s_airgap_dir", "%s lacks %s beside %s (download them from the k3s %s release page)"
                     % (directory, ", ".join(missing), binary, version))
        return
    sums = {}
    with open(os.path.join(directory, "sha256sum-%s.txt" % arch)) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                sums[parts[1].lstrip("*")] = parts[0]
    digest = hashlib.sha256()
    with open(os.path.join(directory, binary), "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    if sums.get(binary) != digest.hexdigest():
        problems.add("k3s_airgap_dir", "%s/%s does not match its sha256 in sha256sum-%s.txt (%s): a corrupt or "
                     "wrong download" % (directory, binary, arch, "listed" if binary in sums else "not listed"))
