"""Filters of the node layer: node_assignments and node_label_patches."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.nebari.platform.plugins.filter.nodes import (
    node_assignments,
    node_group_flags,
    node_label_patches,
)

GROUPS = {
    "general": {"labels": {"nebari.dev/node-group": "general"}},
    "gpu": {"gpu": True, "labels": {"nebari.dev/node-group": "gpu", "accelerator": "nvidia"},
            "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]},
}


def node(name, labels=None, taints=None, annotations=None):
    return {"metadata": {"name": name, "labels": labels or {}, "annotations": annotations or {}},
            "spec": {"taints": taints} if taints else {}}


def test_assignments_come_from_hosts_and_cloud_pools():
    hostvars = {"a": {"nebari_node_group": "gpu", "nebari_node_name": "a.example.com"}, "b": {},
                "c": {"nebari_node_group": ["general", "gpu"]}}
    nodes = [node("pool-1", {"eks.amazonaws.com/nodegroup": "gpu"}), node("pool-2", {"x": "y"})]
    assert node_assignments(hostvars, ["a", "b", "c"], GROUPS, nodes, "eks.amazonaws.com/nodegroup") == {
        "a.example.com": ["gpu"], "c": ["general", "gpu"], "pool-1": ["gpu"]}
    with pytest.raises(AnsibleFilterError, match="host a: node group 'cpu'"):
        node_assignments({"a": {"nebari_node_group": "cpu"}}, ["a"], GROUPS)


def test_patches_add_what_is_missing_and_remove_only_what_the_collection_set():
    foreign = {"key": "dedicated", "value": "ml", "effect": "NoSchedule"}
    fresh = node("n1", {"team": "ml"}, [foreign])
    (patch,) = node_label_patches([fresh], {"n1": ["gpu"]}, GROUPS)
    assert patch["patch"] == {
        "metadata": {"labels": {"nebari.dev/node-group": "gpu", "accelerator": "nvidia"},
                     "annotations": {"nebari.dev/managed-labels": "accelerator,nebari.dev/node-group",
                                     "nebari.dev/managed-taints": "nvidia.com/gpu:NoSchedule"}},
        "spec": {"taints": [foreign, {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]}}

    done = node("n1", {"team": "ml", "nebari.dev/node-group": "gpu", "accelerator": "nvidia"},
                patch["patch"]["spec"]["taints"], patch["patch"]["metadata"]["annotations"])
    assert node_label_patches([done], {"n1": ["gpu"]}, GROUPS) == []

    (moved,) = node_label_patches([done], {"n1": ["general"]}, GROUPS)
    assert moved["patch"]["metadata"]["labels"] == {"accelerator": None, "nebari.dev/node-group": "general"}
    assert moved["patch"]["spec"] == {"taints": [foreign]}
    assert node_label_patches([node("other", {"team": "x"})], {}, GROUPS) == []  # never touched: left alone


def test_k3s_flags_of_a_hosts_node_groups():
    groups = {"general": {"labels": {"nebari.dev/node-group": "general"}},
              "gpu": {"gpu": True, "labels": {"nebari.dev/node-group": "gpu", "nvidia.com/gpu.present": "true"},
                      "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"},
                                 {"key": "dedicated", "effect": "NoExecute"}]}}
    assert node_group_flags("gpu", groups) == {
        "node-label": ["nebari.dev/node-group=gpu", "nvidia.com/gpu.present=true"],
        "node-taint": ["nvidia.com/gpu=true:NoSchedule", "dedicated:NoExecute"]}
    assert node_group_flags(["general", "gpu"], groups)["node-label"][0] == "nebari.dev/node-group=gpu"
    assert node_group_flags(None, groups) == {"node-label": [], "node-taint": []}
    with pytest.raises(AnsibleFilterError, match="'cpu' is not in nebari_node_groups"):
        node_group_flags("cpu", groups)
