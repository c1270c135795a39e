"""The test bed's placement webhook (tests/testbed/lib/placement.py): which pods the real node takes, as which node
group, and how their spec is patched."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "testbed", "lib"))

from placement import ANNOTATION, REAL_LABEL, decide  # noqa: E402  pylint: disable=wrong-import-position

GROUP = "nebari.dev/node-group"
IMAGES = {"testbed.invalid/jupyterhub/k8s-singleuser-sample:4.4.0", "testbed.invalid/pause:3.10"}
REAL = {"name": "sandbox-general-0", "labels": {GROUP: "general", REAL_LABEL: "true"}, "taints": [],
        "stands_in_for": [{"group": "user", "labels": {GROUP: "user"}, "taints": []}]}


def pod(selector, image="testbed.invalid/jupyterhub/k8s-singleuser-sample:4.4.0", **spec):
    return {"metadata": {"name": "jupyter-alia"},
            "spec": dict(spec, nodeSelector=selector, containers=[{"name": "notebook", "image": image}])}


def annotation(patch):
    return next(op["value"] for op in patch if "annotations" in op["path"])[ANNOTATION]


def test_a_pod_of_its_own_group_runs_there_as_it_is():
    patch = decide(pod({GROUP: "general"}), IMAGES, REAL, "testbed.invalid/pause:3.10")
    assert annotation(patch) == "real"
    assert not any(op["op"] == "remove" for op in patch)


def test_a_pod_of_a_group_it_stands_in_for_loses_that_groups_label():
    patch = decide(pod({GROUP: "user"}), IMAGES, REAL, "testbed.invalid/pause:3.10")
    assert annotation(patch) == "real: sandbox-general-0 stands in for nebari.dev/node-group=user"
    assert {"op": "add", "path": "/spec/nodeSelector/testbed.nebari.dev~1real", "value": "true"} in patch
    assert {"op": "remove", "path": "/spec/nodeSelector/nebari.dev~1node-group"} in patch


def test_other_groups_a_missing_image_or_a_required_affinity_stay_simulated():
    for spec in (pod({GROUP: "worker"}), pod({GROUP: "user"}, image="quay.io/other:1"),
                 pod({GROUP: "user"}, affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                     "nodeSelectorTerms": [{"matchExpressions": [{"key": GROUP, "operator": "In",
                                                                  "values": ["user"]}]}]}}})):
        patch = decide(spec, IMAGES, REAL, "testbed.invalid/pause:3.10")
        assert patch == [] or annotation(patch).startswith("simulated"), patch  # [] : scheduled as it is
        assert not any(op.get("value") == "true" and REAL_LABEL.replace("/", "~1") in op["path"] for op in patch)


def test_a_daemonsets_pod_without_its_image_runs_the_pause_image_without_probes_or_mounts():
    """node-exporter mounts the host's / with HostToContainer propagation, which containerd refuses on the real
    node (its / is not a shared mount): the pause image needs none of the pod's mounts."""
    spec = pod({}, image="testbed.invalid/prometheus/node-exporter:v1.8.0")
    spec["metadata"]["ownerReferences"] = [{"kind": "DaemonSet", "name": "node-exporter"}]
    spec["spec"]["containers"][0].update(
        args=["--path.rootfs=/host/root"], readinessProbe={"httpGet": {"port": 9100}},
        volumeMounts=[{"name": "root", "mountPath": "/host/root", "mountPropagation": "HostToContainer"}])
    patch = decide(spec, IMAGES, REAL, "testbed.invalid/pause:3.10")
    assert annotation(patch).startswith("simulated: no image testbed.invalid/prometheus/node-exporter:v1.8.0")
    assert {"op": "replace", "path": "/spec/containers/0/image", "value": "testbed.invalid/pause:3.10"} in patch
    assert [op["path"] for op in patch if op["op"] == "remove"] == [
        "/spec/containers/0/args", "/spec/containers/0/readinessProbe", "/spec/containers/0/volumeMounts"]
