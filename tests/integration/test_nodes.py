"""The node layer on the test bed: node-group labels and taints applied to Node objects exactly, from the
inventory; labels and taints set by others left alone."""

from __future__ import annotations

import uuid

import yaml
from kubernetes import client

from conftest import SANDBOX

GPU_TAINT = ("nvidia.com/gpu", "true", "NoSchedule")
FOREIGN_TAINT = ("dedicated", "ml", "NoSchedule")


def write_inventory(path, node, group):
    hosts = {node: {"nebari_node_group": group}} if group else {}
    path.write_text(yaml.safe_dump({"all": {"children": {"extra_nodes": {"hosts": hosts}}}}))


def labels_and_taints(k8s, node):
    body = k8s.read_node(node)
    taints = sorted((t.key, t.value or "", t.effect) for t in body.spec.taints or [])
    return body.metadata.labels or {}, taints


def test_labels_and_taints_follow_the_inventory_exactly(playbook, sandbox_vars, k8s, tmp_path):
    node = "it-node-%s" % uuid.uuid4().hex[:6]
    k8s.create_node(client.V1Node(
        metadata=client.V1ObjectMeta(name=node, labels={"kubernetes.io/hostname": node, "type": "kwok", "team": "ml"},
                                     annotations={"kwok.x-k8s.io/node": "fake"}),
        spec=client.V1NodeSpec(taints=[client.V1Taint(key="dedicated", value="ml", effect="NoSchedule")])))
    extra = tmp_path / "extra.yml"

    def nodes(group, args=()):
        write_inventory(extra, node, group)
        run = playbook(inventory=SANDBOX, extra_vars=sandbox_vars,
                       args=["-i", str(extra), "--tags", "cluster,nodes"] + list(args))
        assert run.rc == 0, run.failure_messages() or run.stderr
        return [name for name in run.changed_tasks() if "node_labels" in name]

    try:
        assert nodes("gpu") == ["nebari.platform.node_labels : Label and taint the node"]
        labels, taints = labels_and_taints(k8s, node)
        assert labels["nebari.dev/node-group"] == "gpu" and labels["team"] == "ml"
        assert taints == sorted([FOREIGN_TAINT, GPU_TAINT])
        assert nodes("gpu") == []  # idempotent

        assert nodes("user", ["--check", "--diff"]) == ["nebari.platform.node_labels : Label and taint the node"]
        assert labels_and_taints(k8s, node)[0]["nebari.dev/node-group"] == "gpu"  # check mode changed nothing

        assert nodes("user")
        labels, taints = labels_and_taints(k8s, node)
        assert labels["nebari.dev/node-group"] == "user" and labels["team"] == "ml"
        assert taints == [FOREIGN_TAINT]  # the GPU group's taint went, the foreign one stayed

        assert nodes(None)  # out of the inventory: what the collection set is removed, nothing else
        labels, taints = labels_and_taints(k8s, node)
        assert "nebari.dev/node-group" not in labels and labels["team"] == "ml" and taints == [FOREIGN_TAINT]
        assert nodes(None) == []
    finally:
        k8s.delete_node(node)
