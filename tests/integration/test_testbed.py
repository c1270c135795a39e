"""The test bed itself: nodes from the sandbox inventory, scheduling by node group and GPU, Keycloak, conda-store."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest


def wait_for(predicate, timeout=60, interval=0.5):
    end = time.time() + timeout
    while time.time() < end:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def test_nodes_come_from_the_sandbox_inventory(k8s):
    nodes = {node.metadata.name: node for node in k8s.list_node().items}
    assert set(nodes) >= {"sandbox-general-0", "sandbox-general-1", "sandbox-user-0", "sandbox-worker-0", "sandbox-gpu-0"}
    gpu = nodes["sandbox-gpu-0"]
    assert gpu.metadata.labels["nebari.dev/node-group"] == "gpu"
    assert gpu.status.allocatable["nvidia.com/gpu"] == "2"
    assert [(t.key, t.value, t.effect) for t in gpu.spec.taints] == [("nvidia.com/gpu", "true", "NoSchedule")]
    assert nodes["sandbox-user-0"].metadata.labels["nebari.dev/node-group"] == "user"
    assert "nvidia.com/gpu" not in nodes["sandbox-user-0"].status.allocatable
    for node in nodes.values():
        ready = [c.status for c in node.status.conditions if c.type == "Ready"]
        assert ready == ["True"], node.metadata.name


def _pod(name, gpus=0, tolerate=False, node_group=None):
    spec = {"containers": [{"name": "c", "image": "registry.invalid/x"}]}
    if gpus:
        spec["containers"][0]["resources"] = {"limits": {"nvidia.com/gpu": str(gpus)}}
    if tolerate:
        spec["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    if node_group:
        spec["nodeSelector"] = {"nebari.dev/node-group": node_group}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def test_pods_are_scheduled_by_node_group_and_gpu(k8s, namespace):
    k8s.create_namespace({"metadata": {"name": namespace}})
    for pod in (_pod("gpu", gpus=1, tolerate=True), _pod("gpu-untolerated", gpus=1), _pod("user", node_group="user")):
        k8s.create_namespaced_pod(namespace, pod)

    def phase(name):
        pod = k8s.read_namespaced_pod(name, namespace)
        return pod.status.phase, pod.spec.node_name

    assert wait_for(lambda: phase("gpu") == ("Running", "sandbox-gpu-0"))
    assert wait_for(lambda: phase("user") == ("Running", "sandbox-user-0"))
    assert phase("gpu-untolerated") == ("Pending", None)


def test_keycloak_gives_the_bootstrap_admin_a_token(testbed):
    body = urllib.parse.urlencode({"grant_type": "password", "client_id": "admin-cli", "username": "admin",
                                   "password": testbed["keycloak_password"]}).encode()
    url = testbed["keycloak_url"] + "/realms/master/protocol/openid-connect/token"
    with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=30) as response:
        token = json.load(response)
    assert token["token_type"].lower() == "bearer" and token["access_token"]


def test_conda_store_answers_with_the_admin_token_only(testbed):
    url = testbed["conda_store_url"] + "/api/v1/permission/"
    request = urllib.request.Request(url, headers={"Authorization": "Bearer " + testbed["conda_store_token"]})
    with urllib.request.urlopen(request, timeout=30) as response:
        permissions = json.load(response)["data"]
    assert permissions["authenticated"] is True
    assert "admin" in permissions["entity_roles"]["*/*"]
    request = urllib.request.Request(testbed["conda_store_url"] + "/api/v1/namespace/it-forbidden/", method="POST")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=30)
    assert error.value.code in (401, 403)
