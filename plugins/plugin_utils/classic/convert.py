# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Nebari Classic nebari-config.yaml as the inventory contract of nebari.platform.

convert(config) returns a Conversion: the inventory variables, the secrets (vault_* values, kept out of the plain
variables), and every key of the input that has no counterpart, each with the reason. Every key of the input is
either mapped or reported (reasons.py): the walk at the end finds any key no rule consumed. Bad input raises
ClassicError naming the key, before anything is written. docs/classic.md holds the table of keys and what each
becomes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import string

from ansible_collections.nebari.platform.plugins.plugin_utils.classic import defaults, profiles
from ansible_collections.nebari.platform.plugins.plugin_utils.classic.errors import ClassicError
from ansible_collections.nebari.platform.plugins.plugin_utils.classic.reasons import CLUSTER, REASONS

# Classic's jupyterlab.idle_culler keys, which nebari_idle_culler takes as they are
IDLE_CULLER_KEYS = ("terminal_cull_inactive_timeout", "terminal_cull_interval", "kernel_cull_idle_timeout",
                    "kernel_cull_interval", "kernel_cull_connected", "kernel_cull_busy",
                    "server_shutdown_no_activity_timeout")
from ansible_collections.nebari.platform.plugins.plugin_utils.inventory_files import reference, service_secrets
from ansible_collections.nebari.platform.plugins.plugin_utils.preflight.users import BUILTIN_GROUPS

# Classic releases the importer knows: from 2024.1.1 (conda-store and profile schema of today) to the final 2026.3.1.
OLDEST = (2024, 1, 1)
NEWEST = "2026.3.1"
# project_name and namespace as Classic accepts them (schema.namestr_regex; project_name_convention: 16 at most)
NAME = re.compile(r"^[A-Za-z][A-Za-z\-_]*[A-Za-z]$")
MAX_PROJECT_NAME = 16
AUTHENTICATION = ("password", "GitHub", "Auth0")  # Classic's AuthenticationEnum
PROVIDERS = {"local": "existing", "existing": "existing", "aws": "eks", "gcp": "gke", "azure": "aks"}
SECTIONS = {"local": "local", "existing": "existing", "aws": "amazon_web_services", "gcp": "google_cloud_platform",
            "azure": "azure"}
# the node label each cloud gives a node of pool <name>: Classic's profiles select cloud node groups with it
POOL_LABELS = {"aws": ("eks.amazonaws.com/nodegroup", "dedicated"), "gcp": ("cloud.google.com/gke-nodepool",),
               "azure": ("azure-node-pool",)}
GPU_INSTANCES = {"azure": re.compile(r"^Standard_N"), "gcp": re.compile(r"^(a2|a3|a4|g2|g4)-")}
TLS = {"self-signed": "selfsigned", "lets-encrypt": "letsencrypt", "existing": "existing"}
SAFE = set(string.ascii_letters + string.digits) - {"a"}
NODE_GROUP = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
SECRET_KEY = re.compile(r"(password|passwd|secret|token|private_?key|access_?key|api_?key|credential)", re.I)
# a number under a secret-looking key that is a setting, not a secret (token_ttl, password_min_length)
NOT_SECRET_NUMBER = re.compile(r"(ttl|expir|length|size|timeout|seconds|minutes|hours|days|age|port|count|max|min|"
                               r"lifetime|limit|interval|retries|version)", re.I)
# a URL with a password in it: s3://KEY:SECRET@region (Loki's storage, the docs' monitoring page)
URL_CREDENTIALS = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@\s:]+:[^/@\s]+@", re.I)
MISSING = object()


class Conversion:
    """The result: variables (plain), secrets (vault_* name -> value, None: to generate) and unmapped keys."""

    def __init__(self):
        self.variables = {}
        self.secrets = {}
        self.unmapped = []  # [{"key": dotted path, "reason": ...}]
        self.notes = []


def convert(config, users=None, user_groups=(), user_notes=()):
    """nebari-config.yaml (parsed) -> Conversion. users: nebari_users from an export, if any."""
    return _Converter(config).run(users, user_groups, user_notes)


class _Converter:
    def __init__(self, config):
        if not isinstance(config, dict):
            raise ClassicError("", "nebari-config.yaml must be a YAML mapping of Nebari Classic's keys, got %s"
                               % type(config).__name__)
        self.config = config
        self.out = Conversion()
        self.consumed = set()

    # --- bookkeeping --------------------------------------------------------------------------------------------
    def get(self, key, default=None):
        """The value at a dotted key, marked as consumed."""
        self.consumed.add(key)
        return self.peek(key, default)

    def peek(self, key, default=None):
        """The value at a dotted key; its keys are still to be consumed one by one."""
        value = self.config
        for part in key.split("."):
            if not isinstance(value, dict) or part not in value:
                return default
            value = value[part]
        return value

    def skip(self, key, reason):
        if self._present(key) and key not in self.consumed:
            self.out.unmapped.append({"key": key, "reason": reason})
            self.consumed.add(key)
            self._keep_secrets(key, self.get(key))

    def report(self, key, reason):
        """A key (inside a list, which skip cannot reach) with no counterpart."""
        self.out.unmapped.append({"key": key, "reason": reason})

    def _present(self, key):
        return self.peek(key, MISSING) is not MISSING

    def _keep_secrets(self, key, value):
        """Secrets inside an unmapped key (in lists too) go to the vault file, named after their key."""
        self.vaulted(value, "classic_" + key, key.rsplit(".", 1)[-1], note=False)

    def vaulted(self, value, path, key="", note=True):
        """value with every secret (is_secret) moved into the vault file and replaced by its reference; in a
        Kubernetes env list, {name: API_TOKEN, value: ...} is a secret named by its name."""
        if isinstance(value, dict):
            if set(value) == {"name", "value"} and isinstance(value["name"], str):
                return dict(value, value=self.vaulted(value["value"], "%s_%s" % (path, value["name"]),
                                                      value["name"], note))
            return dict((k, self.vaulted(v, "%s_%s" % (path, k), str(k), note)) for k, v in value.items())
        if isinstance(value, list):
            return [self.vaulted(v, "%s_%d" % (path, i), key, note) for i, v in enumerate(value)]
        if is_secret(key, value):
            var = vault_name(path)
            self.out.secrets[var] = value
            if note:
                self.out.notes.append("%s: a secret, moved to the vault file as %s" % (path, var))
            return reference(var)
        return value

    # --- the walk -------------------------------------------------------------------------------------------------
    def run(self, users, user_groups, user_notes):
        self.version()
        provider = self.provider()
        v = self.out.variables
        v["nebari_cluster_provider"] = PROVIDERS[provider]
        project = self.get("project_name")
        if not (isinstance(project, str) and project):
            raise ClassicError("project_name", "is required (Classic names the cluster <project_name>-<namespace>)")
        namespace = self.get("namespace", "dev")
        _name(project, "project_name", MAX_PROJECT_NAME)
        _name(namespace, "namespace")
        v["nebari_namespace"] = namespace
        domain = self.get("domain")
        if not (isinstance(domain, str) and domain):
            raise ClassicError("domain", "is not set: Classic then used the load balancer's address, the collection "
                               "needs the DNS name users reach Nebari at; add domain to the file")
        v["nebari_domain"] = domain
        v["nebari_tls"] = self.tls()
        node_groups = self.cluster(provider, project, namespace)
        v["nebari_node_groups"] = node_groups
        pool_label = POOL_LABELS.get(provider, ())
        v["nebari_profiles"] = {
            "jupyterlab": profiles.jupyterlab(self.get("profiles.jupyterlab", defaults.profiles("jupyterlab")),
                                              node_groups, "profiles.jupyterlab", self.report, pool_label),
            "dask_worker": profiles.dask_worker(self.get("profiles.dask_worker", defaults.profiles("dask_worker")),
                                                node_groups, "profiles.dask_worker", pool_label),
        }
        for kind, field in (("jupyterlab", "kubespawner_override"), ("dask_worker", "options")):
            for profile in v["nebari_profiles"][kind]:  # a profile's environment may hold tokens
                if field in profile:
                    profile[field] = self.vaulted(profile[field], "%s_%s" % (
                        "profile" if kind == "jupyterlab" else "worker", profile["name"]))
        if provider in ("local", "existing") and any(g.get("gpu") for g in node_groups.values()):
            v["nebari_gpu_plugin"] = "none"
            gpu_groups = ", ".join(n for n, g in node_groups.items() if g.get("gpu"))
            self.out.notes.append("GPU profiles select node group(s) %s; Classic installed nothing for GPUs on %s "
                                  "clusters, so nebari_gpu_plugin is none (set device-plugin or gpu-operator to have "
                                  "the collection install one)" % (gpu_groups, provider))
        self.storage()
        self.idle_culler()
        self.components()
        self.environments()
        self.identity(users, user_groups, profiles.access_groups(v["nebari_profiles"]["jupyterlab"]))
        self.out.notes.extend(user_notes)
        for key, reason in REASONS.items():
            self.skip(key, reason)
        self.unknown(self.config, "")
        return self.out

    def version(self):
        """Check nebari_version; without one, the newest release the importer knows, as Classic filled in its own."""
        version = self.get("nebari_version")
        if version is None and "qhub_version" not in self.config:
            version = NEWEST
            self.out.notes.append("nebari_version is not set: taken as %s, the newest Classic release the importer "
                                  "knows (Classic filled in the version of the nebari that read the file)" % NEWEST)
        self.nebari_version = str(version)
        if "qhub_version" in self.config:
            raise ClassicError("qhub_version", "this is a QHub configuration, older than the importer knows: run "
                               "`nebari upgrade -c nebari-config.yaml` with Nebari Classic 2024.1.1 or later first")
        parts = re.match(r"^(\d+)\.(\d+)\.(\d+)", str(version or ""))
        if not parts:
            raise ClassicError("nebari_version", "must be the Nebari Classic release that wrote the file, such as "
                               "2025.6.1, got %r" % (version,))
        if tuple(int(p) for p in parts.groups()) < OLDEST:
            raise ClassicError("nebari_version", "%s is older than the importer knows (%s and later): run `nebari "
                               "upgrade -c nebari-config.yaml` with a newer Nebari Classic first"
                               % (version, ".".join(map(str, OLDEST))))

    def provider(self):
        """provider, or as Classic infers it without one: from the one provider section set (none: local)."""
        present = [name for name, section in SECTIONS.items() if self.config.get(section)]
        provider = self.get("provider")
        if provider is None:
            if len(present) > 1:
                raise ClassicError("provider", "is not set and several providers' sections are (%s): Classic refuses "
                                   "this (Multiple providers set); set provider"
                                   % ", ".join(SECTIONS[p] for p in present))
            provider = present[0] if present else "local"
            self.out.notes.append("provider is not set: %s, as Classic infers it from the section%s" % (
                provider, " %s" % SECTIONS[provider] if present else "s (none set: local)"))
        if provider not in PROVIDERS:
            raise ClassicError("provider", "%r is not a provider of Nebari Classic the importer knows (%s)"
                               % (provider, ", ".join(PROVIDERS)))
        for name, section in SECTIONS.items():
            if name != provider and section in self.config:
                if not self.config[section]:
                    self.get(section)  # `nebari init --explicit` writes the other providers' sections as null
                else:
                    self.skip(section, "the section of provider %s; the file's provider is %s" % (name, provider))
        return provider

    def tls(self):
        certificate = self.peek("certificate") or {"type": "self-signed"}
        kind = certificate.get("type", "self-signed") if isinstance(certificate, dict) else certificate
        if kind == "disabled":
            self.skip("certificate.type", "the collection always serves HTTPS: the inventory uses a self-signed "
                      "certificate (nebari_tls mode selfsigned)")
            return {"mode": "selfsigned"}
        if kind not in TLS:
            raise ClassicError("certificate.type", "%r has no counterpart (the collection serves HTTPS with one of "
                               "%s)" % (kind, ", ".join(TLS)))
        tls = {"mode": TLS[kind]}
        if kind == "lets-encrypt":
            if not certificate.get("acme_email"):
                raise ClassicError("certificate.acme_email", "is required with type lets-encrypt")
            tls["acme_email"] = certificate["acme_email"]
            if certificate.get("acme_server"):
                tls["acme_server"] = certificate["acme_server"]
            self.get("certificate.acme_server")
        if kind == "existing":
            if not certificate.get("secret_name"):
                raise ClassicError("certificate.secret_name", "is required with type existing")
            tls["secret_name"] = certificate["secret_name"]
        for key in ("type", "acme_email", "secret_name", "acme_server"):  # acme_server: set even when self-signed
            self.get("certificate." + key)
        if certificate.get("acme_challenge_type", "tls") == "tls":
            self.get("certificate.acme_challenge_type")
        self.skip("certificate.acme_challenge_type", "the collection's Let's Encrypt uses the tls challenge; a DNS "
                  "challenge needs your own issuer and a certificate of type existing")
        return tls

    def cluster(self, provider, project, namespace):
        """The provider's section -> how the collection reaches the cluster; its node groups -> nebari_node_groups."""
        cluster = "%s-%s" % (_escaped(project, provider), namespace)
        section = SECTIONS[provider]
        settings = self.peek(section) or {}
        v = self.out.variables
        if provider in ("local", "existing"):
            v["nebari_existing_kubeconfig"] = "~/.kube/config"
            if settings.get("kube_context"):
                v["nebari_existing_context"] = settings["kube_context"]
            self.get(section + ".kube_context")
            self.skip(section + ".kubeconfig_filename", "the kubeconfig is nebari_existing_kubeconfig")
            if provider == "local":
                self.out.notes.append("provider local: Classic ran on a kind cluster it created; the collection "
                                      "connects to it as provider existing (or deploy k3s: see playbooks/init.yml)")
            selectors = self.get(section + ".node_selectors") or dict(
                (name, {"key": "kubernetes.io/os", "value": "linux"}) for name in ("general", "user", "worker"))
            groups = {}
            for name, selector in selectors.items():
                where = "%s.node_selectors.%s" % (section, name)
                _group_name(name, where)
                if not (isinstance(selector, dict) and selector.get("key") and "value" in selector):
                    raise ClassicError(where, "must be {key: <label>, value: <value>}")
                groups[name] = {"labels": {selector["key"]: str(selector["value"])}}
            return groups
        if provider == "aws":
            v["nebari_eks"] = {"cluster": cluster, "region": settings.get("region")}
            self.get(section + ".region")
        elif provider == "gcp":
            v["nebari_gke"] = {"cluster": cluster, "project": settings.get("project"),
                               "location": settings.get("region")}
            for key in ("project", "region"):
                self.get("%s.%s" % (section, key))
        else:
            # Classic escapes the project name in the AKS cluster's name, not in the resource group's
            # (utils.construct_azure_resource_group_name: <project_name>-<namespace>)
            v["nebari_aks"] = {"cluster": cluster, "resource_group": settings.get("resource_group_name")
                               or "%s-%s" % (project, namespace)}
            self.get(section + ".resource_group_name")
        for key in settings:
            if key != "node_groups":
                self.skip("%s.%s" % (section, key), CLUSTER)
        groups = {}
        classic_groups = settings.get("node_groups") or dict((n, {}) for n in ("general", "user", "worker"))
        self.get(section + ".node_groups")
        for name, group in classic_groups.items():
            where = "%s.node_groups.%s" % (section, name)
            _group_name(name, where)
            group = group or {}
            entry = {"labels": {"nebari.dev/node-group": name}}
            taints = group.get("taints")
            if taints is None and name != "general":
                taints = ["dedicated=nebari:NoSchedule"]  # Classic's default taint of every other group
            if taints:
                entry["taints"] = [_taint(t, "%s.taints" % where) for t in taints]
            if group.get("gpu") or group.get("guest_accelerators") or _gpu_instance(provider, group.get("instance")):
                entry["gpu"] = True
            if group.get("labels"):
                entry["labels"].update(dict((k, str(x)) for k, x in group["labels"].items()))
            for key in group:
                if key not in ("taints", "gpu", "labels"):
                    self.skip("%s.%s" % (where, key), CLUSTER)
            groups[name] = entry
        return groups

    def storage(self):
        storage = {}
        size = self.get("storage.conda_store")
        if size:
            storage["conda_store"] = str(size)
        if storage:
            self.out.variables["nebari_storage"] = storage

    def idle_culler(self):
        """jupyterlab.idle_culler: nebari_idle_culler has Classic's keys, in Classic's unit (minutes)."""
        culler = self.peek("jupyterlab.idle_culler")
        if not isinstance(culler, dict) or not culler:
            return
        kept = {}
        for key, value in culler.items():
            if key in IDLE_CULLER_KEYS:
                kept[key] = self.get("jupyterlab.idle_culler.%s" % key)
        if kept:
            self.out.variables["nebari_idle_culler"] = kept

    def components(self):
        components = {}

        def component(name, enabled=None, values=None):
            entry = components.setdefault(name, {})
            if enabled is not None:
                entry["enabled"] = bool(enabled)
            if values:
                entry["values"] = _merge(entry.get("values", {}), self.vaulted(values, name.replace("-", "_")))

        images = self.peek("default_images") or {}
        places = {"jupyterlab": ("jupyterhub", ("singleuser", "image")), "jupyterhub": ("jupyterhub", ("hub", "image")),
                  "dask_worker": ("dask-gateway", ("gateway", "backend", "image"))}
        for key, image in images.items():
            if key not in places:
                continue
            self.get("default_images." + key)
            name, path = places[key]
            values = _image(image, "default_images." + key)
            for part in reversed(path):
                values = {part: values}
            component(name, values=values)
        argo = self.peek("argo_workflows") or {}
        component("argo-workflows", argo.get("enabled"), argo.get("overrides"))
        for key in ("enabled", "overrides"):
            self.get("argo_workflows." + key)
        monitoring = self.peek("monitoring") or {}
        for name in ("kube-prometheus-stack", "loki", "promtail"):
            component(name, monitoring.get("enabled"))
        self.get("monitoring.enabled")
        for name in ("loki", "promtail"):
            component(name, values=self.get("monitoring.overrides." + name))
        component("jupyterhub", values=self.get("jupyterhub.overrides"))
        component("keycloak", values=self.get("security.keycloak.overrides"))
        components = dict((k, e) for k, e in components.items() if e)
        if components:
            self.out.variables["nebari_components"] = components
        releases = []
        extensions = self.get("helm_extensions", []) or []
        for i, ext in enumerate(extensions):
            where = "helm_extensions[%d]" % i
            if not (isinstance(ext, dict) and ext.get("name") and ext.get("chart") and ext.get("repository")):
                raise ClassicError(where, "must have name, repository, chart and version")
            release = {"name": ext["name"], "namespace": self.out.variables["nebari_namespace"],
                       "chart": {"repo": ext["repository"], "name": ext["chart"], "version": str(ext.get("version"))}}
            if ext.get("overrides"):
                release["values"] = self.vaulted(ext["overrides"], ext["name"].replace("-", "_"))
            unknown = sorted(set(ext) - {"name", "repository", "chart", "version", "overrides"})
            for key in unknown:
                self.out.unmapped.append({"key": "%s.%s" % (where, key), "reason": "not a key of helm_extensions"})
            releases.append(release)
        if releases:
            self.out.variables["nebari_extra_releases"] = releases

    def environments(self):
        namespace = self.get("conda_store.default_namespace") or "nebari-git"
        environments = self.get("environments", defaults.environments(self.nebari_version)) or {}
        if not isinstance(environments, dict):
            raise ClassicError("environments", "must be a mapping of environment files, such as "
                               "environment-dask.yaml: {name, channels, dependencies}")
        result = []
        for filename, spec in environments.items():
            where = "environments.%s" % filename
            if not (isinstance(spec, dict) and spec.get("name")):
                raise ClassicError(where, "must be an environment with name, channels and dependencies")
            entry = {"namespace": namespace}
            for key in ("name", "description", "channels", "dependencies", "variables"):
                if key in spec:
                    entry[key] = spec[key]
            for key in sorted(set(spec) - set(entry)):
                self.out.unmapped.append({"key": "%s.%s" % (where, key), "reason": "conda-store environments have "
                                          "name, channels, dependencies, variables and description"})
            result.append(entry)
        self.out.variables["nebari_environments"] = result

    def identity(self, users, user_groups, profile_groups=()):
        v, secrets = self.out.variables, self.out.secrets
        password = self.get("security.keycloak.initial_root_password")
        v["nebari_keycloak_admin_username"] = "root"
        v["nebari_keycloak_admin_password"] = reference("vault_keycloak_admin_password")
        secrets["vault_keycloak_admin_password"] = password or None
        if not password:
            self.out.notes.append("security.keycloak.initial_root_password is not in the file: put Keycloak's root "
                                  "password in the vault file as vault_keycloak_admin_password")
        references, values = service_secrets(lambda purpose: derive(password, purpose))
        v.update(references)
        secrets.update(values)
        auth = self.peek("security.authentication.type", "password")
        if auth not in AUTHENTICATION:
            raise ClassicError("security.authentication.type", "%r is not a sign-in of Nebari Classic (%s)"
                               % (auth, ", ".join(AUTHENTICATION)))
        self.get("security.authentication.type")
        if auth != "password":
            v["nebari_identity_providers"] = [self.identity_provider(auth)]
        display = self.get("security.keycloak.realm_display_name")
        if display:
            v["keycloak_realm_display_name"] = display
        shared = self.get("security.shared_users_group", True)
        v["keycloak_realm_default_groups"] = ["analyst", "users"] if shared else ["analyst"]
        if users is not None:
            v["nebari_groups"] = [{"name": g} for g in user_groups]
            v["nebari_users"] = users
            if user_groups:
                self.out.notes.append("custom groups %s: created without roles, as Classic created them; give them "
                                      "roles in nebari_groups" % ", ".join(user_groups))
        # the groups profiles are offered to (access: yaml) exist in Classic's Keycloak: the inventory names them
        known = set(BUILTIN_GROUPS) | set(user_groups if users is not None else ())
        missing = [g for g in profile_groups if g not in known]
        if missing:
            v.setdefault("nebari_groups", []).extend({"name": g} for g in missing)
            self.out.notes.append("groups %s: named by profiles' groups (access: yaml), in nebari_groups without "
                                  "roles (Keycloak keeps what they have); give them roles there, or their members "
                                  "log in to JupyterHub only through another group" % ", ".join(missing))

    def identity_provider(self, auth):
        """Classic's GitHub or Auth0 sign-in as an entry of nebari_identity_providers, its secret in the vault."""
        where = "security.authentication.config"
        config = self.peek(where, {})
        if not isinstance(config, dict):
            raise ClassicError(where, "must be a mapping of client_id, client_secret%s"
                               % (" and auth0_subdomain" if auth == "Auth0" else ""))
        alias = auth.lower()
        secret = "vault_%s_client_secret" % alias
        entry = {"alias": alias, "display_name": auth, "client_id": self.get(where + ".client_id"),
                 "client_secret": reference(secret)}
        self.out.secrets[secret] = self.get(where + ".client_secret") or None
        if auth == "GitHub":
            entry["type"] = "github"
        else:
            subdomain = self.get(where + ".auth0_subdomain")
            if not (isinstance(subdomain, str) and subdomain):
                raise ClassicError(where + ".auth0_subdomain", "Auth0 sign-in needs the tenant's subdomain")
            base = "https://%s.auth0.com" % subdomain
            entry.update(type="oidc", authorization_url=base + "/authorize", token_url=base + "/oauth/token",
                         userinfo_url=base + "/userinfo", jwks_url=base + "/.well-known/jwks.json",
                         issuer=base + "/")
        if not entry["client_id"] or not self.out.secrets[secret]:
            self.out.notes.append("%s: client_id or client_secret is not in the file (Classic read them from the "
                                  "environment): set client_id in nebari_identity_providers and %s in the vault "
                                  "file" % (where, secret))
        self.out.notes.append("sign-in with %s: users log in through it, as in Classic; add the redirect URI "
                              "https://<nebari_domain>/auth/realms/<realm>/broker/%s/endpoint to its OAuth app"
                              % (auth, alias))
        return entry

    def unknown(self, value, prefix):
        """Report every key no rule consumed (or only its highest unconsumed ancestor)."""
        for key, child in value.items():
            path = "%s.%s" % (prefix, key) if prefix else str(key)
            if path in self.consumed:
                continue
            if any(c.startswith(path + ".") or c.startswith(path + "[") for c in self.consumed) and \
                    isinstance(child, dict):
                self.unknown(child, path)
            else:
                self.out.unmapped.append({"key": path, "reason": "not a key the importer knows"})
                self._keep_secrets(path, child)


def vault_name(path):
    """The vault variable a secret found at path is kept in: vault_<path in lower case, _ between the words>."""
    return "vault_" + re.sub(r"[^a-z0-9]+", "_", path.lower()).strip("_")


def is_secret(key, value):
    """A value to keep in the vault: a string or a number under a secret-looking key, or a URL with a password."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, str):
        return bool(value) and "{{" not in value and (is_secret_key(key) or bool(URL_CREDENTIALS.match(value)))
    return isinstance(value, (int, float)) and is_secret_key(key) and not NOT_SECRET_NUMBER.search(key)


def is_secret_key(key):
    """A key whose string value is a secret: client_secret, password, token; not secretName or existingSecret."""
    return bool(SECRET_KEY.search(key)) and not re.search(r"(name|ref|file|path|url|enabled|existing)", key, re.I)


def derive(password, purpose):
    """A secret derived from Classic's root password (HMAC-SHA256): the same on every run, as the inventory plugin
    and the writer need; None (generate one) without the password."""
    if not password:
        return None
    return hmac.new(str(password).encode(), purpose.encode(), hashlib.sha256).hexdigest()[:40]


def _escaped(project, provider):
    """The project name as Classic put it in cloud resource names (schema.Main.escaped_project_name)."""
    if provider == "azure" and "-" in project:
        # utils.escape_string with escape_char "a": "a" itself and all but ASCII letters and digits become a<HEX>
        return "".join(c if c in SAFE else "".join("a%X" % b for b in c.encode("utf8")) for c in project)
    if provider == "aws" and project.startswith("aws"):
        return "a" + project
    return project


def _gpu_instance(provider, instance):
    """A machine type that carries NVIDIA GPUs of its own: Azure's N series, GCP's accelerator-optimized a2 (A100),
    a3 (H100, H200), a4 (B200) and g2 (L4), g4 (RTX PRO 6000), which need no guest_accelerators."""
    return bool(GPU_INSTANCES.get(provider) and GPU_INSTANCES[provider].match(str(instance or "")))


def _name(name, key, longest=None):
    if not (isinstance(name, str) and NAME.match(name)):
        raise ClassicError(key, "%r is not a name Classic accepts: letters, '-' and '_', beginning and ending with a "
                           "letter" % (name,))
    if longest and len(name) > longest:
        raise ClassicError(key, "%r is longer than the %d characters Classic accepts" % (name, longest))


def _group_name(name, where):
    if not (isinstance(name, str) and NODE_GROUP.match(name)):
        raise ClassicError(where, "node group name %r must be a DNS label (lower-case letters, digits, '-') to be a "
                           "node group of the collection" % (name,))


def _taint(taint, where):
    if isinstance(taint, dict):
        return dict((k, str(taint[k])) for k in ("key", "value", "effect") if taint.get(k) is not None)
    match = re.match(r"^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$", str(taint))
    if not match:
        raise ClassicError(where, "taint %r must be key=value:Effect" % (taint,))
    entry = {"key": match.group(1), "effect": match.group(3)}
    if match.group(2) is not None:
        entry["value"] = match.group(2)
    return entry


def _image(image, where):
    if isinstance(image, str) and ":" in image.rsplit("/", 1)[-1]:
        name, tag = image.rsplit(":", 1)
        return {"name": name, "tag": tag}
    if isinstance(image, str) and image:
        return {"name": image}
    raise ClassicError(where, "must be an image reference such as quay.io/nebari/nebari-jupyterlab:2025.6.1")


def _merge(base, extra):
    result = dict(base)
    for key, value in extra.items():
        result[key] = _merge(result[key], value) if isinstance(value, dict) and isinstance(result.get(key), dict) \
            else value
    return result
