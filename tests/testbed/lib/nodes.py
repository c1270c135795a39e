"""The nodes of the test bed, from the hosts of an inventory's `testbed_nodes` group.

Each node carries what a k3s agent would register from its config.yaml: the hostname labels, the labels and
taints of its node group (nebari_node_groups[nebari_node_group]), and for GPU hosts `nvidia.com/gpu` capacity
(testbed_gpus). The host with `testbed_real: true` is the real node (kubelet and containerd); the others are
simulated by kwok. Without such a host the real node is REAL_DEFAULT, in no node group and tainted, so that only
pods that ask for it run there. The real node's `testbed_stands_in_for` lists node groups whose pods it runs too
(when their images are the test bed's: the placement webhook decides).

usage: python nodes.py INVENTORY         the kwok Node objects (a List, JSON)
       python nodes.py INVENTORY real    shell assignments for the real node: REAL_NODE, REAL_LABELS, REAL_TAINTS,
                                         REAL_JSON
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

NODE_GROUP_LABEL = "nebari.dev/node-group"
REAL_LABEL = "testbed.nebari.dev/real"
REAL_DEFAULT = {"name": "testbed-real-0",
                "taints": [{"key": REAL_LABEL, "value": "true", "effect": "NoSchedule"}]}


def inventory(path):
    binary = os.path.join(os.path.dirname(sys.executable), "ansible-inventory")
    out = subprocess.run([binary, "-i", path, "--list"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def placement(hostvars, node_groups):
    """The labels and taints a host's node groups give its node, and its own testbed_taints."""
    groups = hostvars.get("nebari_node_group", [])
    groups = groups if isinstance(groups, list) else [groups]
    labels, taints = {}, []
    for group in groups:
        settings = node_groups.get(group) or {}
        labels.update(settings.get("labels") or {NODE_GROUP_LABEL: group})
        taints.extend(settings.get("taints") or [])
    taints.extend(hostvars.get("testbed_taints") or [])
    return labels, [{k: v for k, v in taint.items() if k in ("key", "value", "effect")} for taint in taints]


def node(name, hostvars, node_groups, kube_version):
    group_labels, taints = placement(hostvars, node_groups)
    labels = {
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/os": "linux",
        "kubernetes.io/hostname": name,
        "type": "kwok",
    }
    labels.update(group_labels)
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


def real_node(hosts, hostvars, node_groups):
    """Shell assignments of the real node's name, its kubelet --node-labels and its taints (JSON, for registerWithTaints)."""
    real = [name for name in hosts if hostvars.get(name, {}).get("testbed_real")]
    if len(real) > 1:
        sys.exit("more than one host of testbed_nodes has testbed_real: true (%s): the test bed has one real node"
                 % ", ".join(real))
    stands_in_for = []
    if real:
        name = real[0]
        labels, taints = placement(hostvars[name], node_groups)
        for group in hostvars[name].get("testbed_stands_in_for") or []:
            if group not in node_groups:
                sys.exit("testbed_stands_in_for of %s: %s is not a node group of nebari_node_groups" % (name, group))
            group_labels, group_taints = placement({"nebari_node_group": group}, node_groups)
            stands_in_for.append({"group": group, "labels": group_labels, "taints": group_taints})
    else:
        name, labels, taints = REAL_DEFAULT["name"], {}, REAL_DEFAULT["taints"]
    labels = dict(labels, **{REAL_LABEL: "true"})
    print("REAL_NODE=%s" % shlex.quote(name))
    print("REAL_LABELS=%s" % shlex.quote(",".join("%s=%s" % item for item in sorted(labels.items()))))
    print("REAL_TAINTS=%s" % shlex.quote(json.dumps(taints)))
    # the placement webhook matches pods against the labels the kubelet registers as well
    registered = dict(labels, **{"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                 "kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
                                 "beta.kubernetes.io/arch": "amd64"})
    print("REAL_JSON=%s" % shlex.quote(json.dumps({"name": name, "labels": registered, "taints": taints,
                                                   "stands_in_for": stands_in_for})))


def main():
    data = inventory(sys.argv[1])
    hostvars = data.get("_meta", {}).get("hostvars", {})
    hosts = data.get("testbed_nodes", {}).get("hosts", [])
    if not hosts:
        sys.exit("no hosts in group testbed_nodes of %s: the test bed has no nodes to simulate" % sys.argv[1])
    # group_vars/all reach every host; read the node groups from the first one
    node_groups = hostvars.get(hosts[0], {}).get("nebari_node_groups", {})
    if sys.argv[2:] == ["real"]:
        real_node(hosts, hostvars, node_groups)
        return
    kube_version = os.environ.get("KUBE_VERSION", "v0.0.0")
    items = [node(name, hostvars.get(name, {}), node_groups, kube_version) for name in hosts
             if not hostvars.get(name, {}).get("testbed_real")]
    json.dump({"apiVersion": "v1", "kind": "List", "items": items}, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
