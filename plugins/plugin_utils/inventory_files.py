# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An inventory directory from variables, hosts and secrets: which variable goes in which group_vars file (one file
per layer, as in the sample inventories), the hosts file, the vault file's content, .gitignore and README."""

from __future__ import annotations

import os
import re

import yaml

# group_vars/all/<file>: the variables it holds (by name or prefix), in the order they are written. A variable no
# file names goes to nebari.yml.
LAYOUT = (
    ("nebari.yml", "Where Nebari runs: provider, domain, TLS, namespace, how the collection reaches the cluster.",
     ("nebari_cluster_provider", "nebari_domain", "nebari_namespace", "nebari_tls", "nebari_kubeconfig",
      "nebari_existing_", "nebari_eks", "nebari_gke", "nebari_aks", "nebari_metallb_addresses")),
    ("k3s.yml", "The k3s cluster (provider k3s): version, token, API endpoint.", ("k3s_",)),
    ("nodes.yml", "Node groups: the labels and taints of each, and which have NVIDIA GPUs.",
     ("nebari_node_groups", "nebari_gpu_")),
    ("stack.yml", "The Helm releases: profiles users pick, volumes, component settings, your own releases.",
     ("nebari_profiles", "nebari_storage", "nebari_components", "nebari_extra_releases")),
    ("users.yml", "Users and groups, reconciled into Keycloak (docs/users.md).",
     ("keycloak_realm_", "nebari_groups", "nebari_users")),
    ("environments.yml", "Shared conda environments, reconciled into conda-store (docs/environments.md).",
     ("nebari_environments",)),
    ("secrets.yml", "References to the secrets of vault.yml (never a secret itself).",
     ("nebari_keycloak_admin_", "nebari_conda_store_token", "nebari_keycloak_client_secrets")),
)
VAULT = "group_vars/all/vault.yml"
# The release catalog, whose entries name the Keycloak client each service logs in with (oidc_client)
CATALOG = os.path.join(os.path.dirname(__file__), "..", "..", "roles", "nebari", "vars", "main.yml")
GITIGNORE = """# Written by the cluster layer (kubeconfig, summary) and by tools: never commit them.
artifacts/
*.kubeconfig
kubeconfig
.vault-pass*
*.retry
"""


JINJA = re.compile(r"{{|{%|{#")


class Template(str):
    """A Jinja2 expression written on purpose (a reference to a vault_* secret): Ansible templates it."""


class Unsafe(str):
    """A value taken as it is (from a Classic file): written with !unsafe, never templated by Ansible."""


def reference(name):
    """The reference to variable name, such as a vault_* secret."""
    return Template("{{ %s }}" % name)


def untemplated(data):
    """data with each string that Ansible would template, other than a Template, made Unsafe (Helm's
    {{ .Release.Name }} in a chart's values is for Helm, not for Ansible)."""
    if isinstance(data, dict):
        return dict((k, untemplated(v)) for k, v in data.items())
    if isinstance(data, (list, tuple)):
        return [untemplated(v) for v in data]
    if isinstance(data, str) and not isinstance(data, Template) and JINJA.search(data):
        return Unsafe(data)
    return data


class _Loader(yaml.SafeLoader):
    """Reads back what the writer writes: !unsafe strings as Unsafe."""


_Loader.add_constructor("!unsafe", lambda loader, node: Unsafe(loader.construct_scalar(node)))


def load(text):
    return yaml.load(text, Loader=_Loader)


class _Dumper(yaml.SafeDumper):
    """Block style, lists indented under their key, long strings kept on one line."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


_Dumper.add_representer(Unsafe, lambda dumper, value: dumper.represent_scalar("!unsafe", str(value), style="'"))


def plain(data):
    """data with Ansible's own str, dict and list subclasses (tagged, unsafe) made plain, so YAML can write it."""
    if isinstance(data, dict):
        return dict((plain(k), plain(v)) for k, v in data.items())
    if isinstance(data, (list, tuple)):
        return [plain(v) for v in data]
    if isinstance(data, bool) or data is None:
        return data
    if isinstance(data, Unsafe):
        return Unsafe(data)
    for kind in (str, int, float):
        if isinstance(data, kind):
            return kind(data)
    return data


def dump(data):
    return yaml.dump(plain(data), Dumper=_Dumper, default_flow_style=False, sort_keys=False, width=120, allow_unicode=True)


def file_of(name):
    for filename, dummy, names in LAYOUT:
        if any(name == n or (n.endswith("_") and name.startswith(n)) for n in names):
            return filename
    return "nebari.yml"


def group_vars(variables, header):
    """{group_vars/all/<file>: text} for the variables; header: a comment line on top of every file."""
    files = {}
    for name, value in variables.items():
        files.setdefault(file_of(name), {})[name] = value
    result = {}
    for filename, description, dummy in LAYOUT:
        if filename in files:
            text = "---\n# %s\n# %s\n%s" % (description, header, dump(files[filename]))
            result["group_vars/all/" + filename] = text
    return result


def hosts_file(groups, header):
    """hosts.yml: the controller (localhost) and, for k3s, k3s_servers and k3s_agents with their node groups."""
    inventory = {"all": {"hosts": {"localhost": {"ansible_connection": "local",
                                                 "ansible_python_interpreter": reference("ansible_playbook_python")}}}}
    if groups.get("vars"):
        inventory["all"]["vars"] = groups["vars"]
    children = dict((name, {"hosts": hosts}) for name, hosts in groups.items() if name != "vars" and hosts)
    if children:
        inventory["all"]["children"] = children
    return "---\n# Preflight, Helm and the identity layer run on the controller (localhost).\n# %s\n%s" % (
        header, dump(inventory))


def vault_text(secrets):
    """The vault file's content; a secret that looks like a template is written with !unsafe."""
    secrets = untemplated(secrets)
    return "---\n# Secrets (vault_*), referenced from secrets.yml; this file stays encrypted with ansible-vault.\n" + \
        dump(dict(sorted(secrets.items())))


def oidc_clients():
    """The services' Keycloak clients: the catalog's oidc_client entries."""
    with open(CATALOG) as handle:
        catalog = yaml.safe_load(handle)["nebari_component_catalog"]
    return [entry["oidc_client"] for entry in catalog.values() if entry.get("oidc_client")]


def service_secrets(make):
    """The services' secrets of the inventory contract: (references for secrets.yml, {vault_* name: make(purpose)})
    for the conda-store token and each Keycloak client's secret; make returns a value, or None to generate one."""
    clients = oidc_clients()
    references = {"nebari_conda_store_token": reference("vault_conda_store_token"),
                  "nebari_keycloak_client_secrets": dict(
                      (client, reference("vault_%s_client_secret" % client.replace("-", "_"))) for client in clients)}
    values = {"vault_conda_store_token": make("conda-store-token")}
    values.update(("vault_%s_client_secret" % client.replace("-", "_"), make("client:" + client))
                  for client in clients)
    return references, values
