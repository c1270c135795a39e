# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the cloud cluster path: a kubeconfig for an existing EKS, GKE or AKS cluster, built from the cloud's
description of the cluster, that gets its credentials from the cloud's exec-credential plugin (no long-lived
secret in the file), and the cluster's node pools."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

EXEC_API = "client.authentication.k8s.io/v1beta1"
# The AKS AAD server application, the audience of every AKS Entra ID token (what `kubelogin convert-kubeconfig` sets)
AKS_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
PROVIDERS = ("eks", "gke", "aks")


def _require(mapping, path, what):
    value = mapping
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    if not value:
        raise AnsibleFilterError("%s: the cluster description has no %s" % (what, path))
    return value


def _config(name, server, ca_data, user):
    return {
        "apiVersion": "v1", "kind": "Config", "preferences": {}, "current-context": name,
        "clusters": [{"name": name, "cluster": {"server": server, "certificate-authority-data": ca_data}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "users": [{"name": name, "user": user}],
    }


def _eks(cluster, region=None, profile=None, **dummy):
    name = _require(cluster, "name", "eks")
    if cluster.get("status") not in (None, "ACTIVE", "UPDATING"):
        raise AnsibleFilterError("eks: cluster %s is %s, not ACTIVE" % (name, cluster["status"]))
    region = region or (cluster.get("arn") or "::::").split(":")[3]
    args = ["eks", "get-token", "--cluster-name", name, "--output", "json"] + (["--region", region] if region else [])
    env = [{"name": "AWS_PROFILE", "value": profile}] if profile else None
    user = {"exec": dict({"apiVersion": EXEC_API, "command": "aws", "args": args, "interactiveMode": "Never"},
                         **({"env": env} if env else {}))}
    return _config(name, _require(cluster, "endpoint", "eks"), _require(cluster, "certificateAuthority.data", "eks"),
                   user)


def _gke(cluster, **dummy):
    name = _require(cluster, "name", "gke")
    endpoint = _require(cluster, "endpoint", "gke")
    user = {"exec": {"apiVersion": EXEC_API, "command": "gke-gcloud-auth-plugin", "provideClusterInfo": True,
                     "interactiveMode": "IfAvailable",
                     "installHint": "Install gke-gcloud-auth-plugin: gcloud components install gke-gcloud-auth-plugin"}}
    server = endpoint if endpoint.startswith("https://") else "https://" + endpoint
    return _config(name, server, _require(cluster, "masterAuth.clusterCaCertificate", "gke"), user)


def _aks(credentials, login="azurecli", **dummy):
    """credentials: the kubeconfig of listClusterUserCredential (parsed). Entra ID clusters get kubelogin with a
    non-interactive login; clusters with local accounts keep their client certificate."""
    contexts = credentials.get("contexts") or []
    if not contexts or not credentials.get("clusters") or not credentials.get("users"):
        raise AnsibleFilterError("aks: the user credentials hold no context, cluster or user")
    name = credentials.get("current-context") or contexts[0]["name"]
    cluster = credentials["clusters"][0]["cluster"]
    user = dict(credentials["users"][0]["user"])
    if "exec" in user or "auth-provider" in user:
        user = {"exec": {"apiVersion": EXEC_API, "command": "kubelogin", "interactiveMode": "IfAvailable",
                         "args": ["get-token", "--login", login, "--server-id", AKS_SERVER_ID],
                         "installHint": "Install kubelogin: az aks install-cli"}}
    return _config(name, cluster["server"], cluster["certificate-authority-data"], user)


def cloud_kubeconfig(description, provider, **options):
    """The cloud's description of an existing cluster -> a kubeconfig with one context named after the cluster.

    eks: DescribeCluster's `cluster` (options region, profile); gke: the clusters.get resource; aks: the parsed
    kubeconfig of listClusterUserCredential (option login: azurecli, msi, workloadidentity, spn)."""
    builders = {"eks": _eks, "gke": _gke, "aks": _aks}
    if provider not in builders:
        raise AnsibleFilterError("cloud_kubeconfig: provider must be one of eks, gke, aks, got %r" % (provider,))
    if not isinstance(description, dict):
        raise AnsibleFilterError("cloud_kubeconfig: %s cluster description must be a mapping" % provider)
    return builders[provider](description, **options)


def cloud_node_pools(description, provider):
    """Node pools of a GKE cluster resource or an AKS managed cluster (EKS lists them in a separate call:
    pass ListNodegroups' `nodegroups`): [{name}]. The node label that carries a pool's name on its nodes is the
    inventory's nebari_cloud_pool_labels (roles/nebari/vars/main.yml)."""
    if provider == "gke":
        names = [pool.get("name") for pool in description.get("nodePools") or []]
    elif provider == "aks":
        profiles = (description.get("properties") or description).get("agentPoolProfiles") or []
        names = [pool.get("name") for pool in profiles]
    elif provider == "eks":
        names = list(description) if isinstance(description, list) else list(description.get("nodegroups") or [])
    else:
        raise AnsibleFilterError("cloud_node_pools: provider must be one of eks, gke, aks, got %r" % (provider,))
    return [{"name": name} for name in names if name]


def _version(cluster, provider):
    keys = {"eks": ("version",), "gke": ("currentMasterVersion",),
            "aks": ("currentKubernetesVersion", "kubernetesVersion")}[provider]
    for source in (cluster, cluster.get("properties") or {}):
        for key in keys:
            if source.get(key):
                return str(source[key])
    return ""


def cloud_cluster(outputs, provider, settings=None):
    """What the cloud CLI printed about an existing cluster -> {kubeconfig, version, pools}.

    outputs: eks {cluster: aws eks describe-cluster, pools: aws eks list-nodegroups}; gke {cluster: gcloud
    container clusters describe}; aks {cluster: az aks show, credentials: az aks get-credentials --file -}.
    settings: the inventory's nebari_eks / nebari_gke / nebari_aks (region, profile, login)."""
    settings = settings or {}
    if provider not in PROVIDERS:
        raise AnsibleFilterError("cloud_cluster: provider must be one of eks, gke, aks, got %r" % (provider,))
    if not isinstance(outputs, dict) or not isinstance(outputs.get("cluster"), dict):
        raise AnsibleFilterError("cloud_cluster: %s printed no cluster description" % provider)
    cluster = outputs["cluster"]
    if provider == "eks":
        cluster = cluster.get("cluster") or cluster
        kubeconfig = cloud_kubeconfig(cluster, "eks", region=settings.get("region") or None,
                                      profile=settings.get("profile") or None)
        pools = cloud_node_pools(outputs.get("pools") or {}, "eks")
    elif provider == "gke":
        kubeconfig = cloud_kubeconfig(cluster, "gke")
        pools = cloud_node_pools(cluster, "gke")
    else:
        kubeconfig = cloud_kubeconfig(outputs.get("credentials") or {}, "aks", login=settings.get("login") or "azurecli")
        pools = cloud_node_pools(cluster, "aks")
    return {"kubeconfig": kubeconfig, "version": _version(cluster, provider), "pools": pools}


class FilterModule:
    def filters(self):
        return {"cloud_kubeconfig": cloud_kubeconfig, "cloud_node_pools": cloud_node_pools,
                "cloud_cluster": cloud_cluster}
