"""Print the kwok Node objects the test bed registers for the hosts of an inventory's `testbed_nodes` group.

Each node carries what a k3s agent would register from its config.yaml: the hostname labels, the labels and
taints of its node group (nebari_node_groups[nebari_node_group]), and for GPU hosts `nvidia.com/gpu` capacity
(testbed_gpus). usage: python nodes.py INVENTORY > nodes.json
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

NODE_GROUP_LABEL = "nebari.dev/node-group"


def inventory(path):
    binary = os.path.join(os.path.dirname(sys.executable), "ansible-inventory")
    out = subprocess.run([binary, "-i", path, "--list"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def node(name, hostvars, node_groups, kube_version):
    groups = hostvars.get("nebari_node_group", [])
    groups = groups if isinstance(groups, list) else [groups]
    labels = {
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/os": "linux",
        "kubernetes.io/hostname": name,
        "type": "kwok",
    }
    taints = []
    for group in groups:
        settings = node_groups.get(group) or {}
        labels.update(settings.get("labels") or {NODE_GROUP_LABEL: group})
        taints.extend({k: v for k, v in taint.items() if k in ("key", "value", "effect")}
                      for taint in settings.get("taints") or [])
    resources = {
        "cpu": str(hostvars.get("testbed_cpu", "8")),
        "memory": str(hostvars.get("testbed_memory", "32Gi")),
        "pods": "110",
        "ephemeral-storage": "100Gi",
    }
    if int(hostvars.get("testbed_gpus", 0)):
        resources["nvidia.com/gpu"] = str(hostvars["testbed_gpus"])
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {"node.alpha.kubernetes.io/ttl": "0", "kwok.x-k8s.io/node": "fake"},
        },
        "spec": {"taints": taints} if taints else {},
        "status": {
            "capacity": resources,
            "allocatable": resources,
            "nodeInfo": {"architecture": "amd64", "operatingSystem": "linux", "kubeletVersion": kube_version,
                         "kubeProxyVersion": kube_version, "containerRuntimeVersion": "kwok", "osImage": "kwok",
                         "kernelVersion": "kwok", "machineID": name, "systemUUID": name, "bootID": name},
        },
    }


def main():
    data = inventory(sys.argv[1])
    hostvars = data.get("_meta", {}).get("hostvars", {})
    hosts = data.get("testbed_nodes", {}).get("hosts", [])
    if not hosts:
        sys.exit("no hosts in group testbed_nodes of %s: the test bed has no nodes to simulate" % sys.argv[1])
    # group_vars/all reach every host; read the node groups from the first one
    node_groups = hostvars.get(hosts[0], {}).get("nebari_node_groups", {})
    kube_version = os.environ.get("KUBE_VERSION", "v0.0.0")
    items = [node(name, hostvars.get(name, {}), node_groups, kube_version) for name in hosts]
    json.dump({"apiVersion": "v1", "kind": "List", "items": items}, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
