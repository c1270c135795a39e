"""Kubeconfigs and node pools of existing cloud clusters, from recorded EKS, GKE and AKS API responses
(tests/unit/cloud_responses/)."""

import json
import os

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.nebari.platform.plugins.filter.cloud import cloud_cluster, cloud_kubeconfig, cloud_node_pools

RESPONSES = os.path.join(os.path.dirname(__file__), "cloud_responses")


def recorded(name):
    with open(os.path.join(RESPONSES, name)) as f:
        return yaml.safe_load(f) if name.endswith(".yaml") else json.load(f)


def only_user(config):
    assert config["current-context"] == config["contexts"][0]["name"] == config["clusters"][0]["name"]
    return config["clusters"][0]["cluster"], config["users"][0]["user"]


def test_eks_kubeconfig_uses_aws_eks_get_token_in_the_clusters_region():
    config = cloud_kubeconfig(recorded("eks-describe-cluster.json")["cluster"], "eks", profile="nebari")
    cluster, user = only_user(config)
    assert cluster == {"server": "https://4E1A6C2B9F0D8E7A5C3B1D9F0E2A4C6B.gr7.eu-west-1.eks.amazonaws.com",
                       "certificate-authority-data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUVLSDEK"}
    assert user["exec"]["command"] == "aws"
    assert user["exec"]["args"] == ["eks", "get-token", "--cluster-name", "nebari-prod", "--output", "json",
                                    "--region", "eu-west-1"]
    assert user["exec"]["env"] == [{"name": "AWS_PROFILE", "value": "nebari"}]
    assert "token" not in json.dumps(user).replace("get-token", "")


def test_eks_cluster_not_active_is_refused():
    cluster = dict(recorded("eks-describe-cluster.json")["cluster"], status="CREATING")
    with pytest.raises(AnsibleFilterError, match="eks: cluster nebari-prod is CREATING, not ACTIVE"):
        cloud_kubeconfig(cluster, "eks")


def test_gke_kubeconfig_uses_the_auth_plugin():
    cluster, user = only_user(cloud_kubeconfig(recorded("gke-cluster.json"), "gke"))
    assert cluster["server"] == "https://34.118.210.27"
    assert cluster["certificate-authority-data"].startswith("LS0tLS1CRUdJTi")
    assert user["exec"]["command"] == "gke-gcloud-auth-plugin" and user["exec"]["provideClusterInfo"] is True


def test_aks_entra_id_kubeconfig_logs_in_without_a_device_code():
    cluster, user = only_user(cloud_kubeconfig(recorded("aks-user-credentials-kubeconfig.yaml"), "aks"))
    assert cluster["server"] == "https://nebari-prod-a1b2c3d4.hcp.eastus.azmk8s.io:443"
    assert user["exec"]["command"] == "kubelogin"
    assert user["exec"]["args"] == ["get-token", "--login", "azurecli", "--server-id",
                                    "6dae42f8-4368-4678-94ff-3960e28e3630"]


def test_a_description_without_endpoint_names_the_field():
    cluster = recorded("gke-cluster.json")
    del cluster["endpoint"]
    with pytest.raises(AnsibleFilterError, match="gke: the cluster description has no endpoint"):
        cloud_kubeconfig(cluster, "gke")
    with pytest.raises(AnsibleFilterError, match="provider must be one of eks, gke, aks"):
        cloud_kubeconfig(cluster, "openstack")


def test_node_pools_of_each_provider():
    assert cloud_node_pools(recorded("gke-cluster.json"), "gke") == [
        {"name": "general"}, {"name": "user"}, {"name": "gpu"}]
    assert [p["name"] for p in cloud_node_pools(recorded("aks-managed-cluster.json"), "aks")] == [
        "general", "user", "worker"]
    assert [p["name"] for p in cloud_node_pools(recorded("eks-list-nodegroups.json"), "eks")] == [
        "general", "user", "worker", "gpu"]


def test_cloud_cluster_eks_from_the_aws_cli_outputs():
    outputs = {"cluster": recorded("eks-describe-cluster.json"), "pools": recorded("eks-list-nodegroups.json")}
    result = cloud_cluster(outputs, "eks", {"cluster": "nebari-prod", "region": "eu-west-1", "profile": ""})
    assert result["version"] == recorded("eks-describe-cluster.json")["cluster"]["version"]
    assert result["pools"] == cloud_node_pools(recorded("eks-list-nodegroups.json"), "eks")
    assert "env" not in result["kubeconfig"]["users"][0]["user"]["exec"]   # empty profile: the caller's AWS setup


def test_cloud_cluster_gke_and_aks():
    gke = cloud_cluster({"cluster": recorded("gke-cluster.json")}, "gke", {})
    assert gke["version"] == recorded("gke-cluster.json")["currentMasterVersion"]
    assert [pool["name"] for pool in gke["pools"]] == [p["name"] for p in recorded("gke-cluster.json")["nodePools"]]
    aks = cloud_cluster({"cluster": recorded("aks-managed-cluster.json"),
                         "credentials": recorded("aks-user-credentials-kubeconfig.yaml")}, "aks", {"login": "msi"})
    assert aks["version"]
    assert aks["kubeconfig"]["users"][0]["user"]["exec"]["args"][2] == "msi"
    assert aks["pools"] == cloud_node_pools(recorded("aks-managed-cluster.json"), "aks")


@pytest.mark.parametrize("outputs, message", [
    ({}, "eks printed no cluster description"),
    ({"cluster": "not json"}, "eks printed no cluster description"),
])
def test_cloud_cluster_without_a_description_is_refused(outputs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        cloud_cluster(outputs, "eks")
