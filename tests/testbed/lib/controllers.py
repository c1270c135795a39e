"""The test bed's stand-ins for what a cluster's cloud or add-ons give, for the real node:

- LoadBalancer addresses: a Service of type LoadBalancer gets the first free address of the test bed's pool in its
  status, as MetalLB's controller gives one (its loadBalancerIP or MetalLB's loadBalancerIPs annotation first,
  when in the pool). kube-proxy on the real node routes the address; the host reaches it through the test bed's
  network namespace.
- Volumes: a PersistentVolumeClaim of StorageClass `testbed-local` (the default class) gets a hostPath volume, a
  directory under the test bed's state, as local-path-provisioner would make one; the volume is removed with its
  claim. Any access mode is honoured (one node: ReadWriteMany is a shared directory).

usage: controllers.py KUBECONFIG STATE_DIR POOL_CIDR    (runs until stopped; polls once a second)
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import sys
import time

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

STORAGE_CLASS = "testbed-local"
PROVISIONER = "testbed.nebari.dev/hostpath"
METALLB_ANNOTATION = "metallb.universe.tf/loadBalancerIPs"


def log(message):
    print("[controllers %s] %s" % (time.strftime("%H:%M:%S"), message), flush=True)


def wanted_address(service, pool, used):
    """The address a LoadBalancer Service asks for, if it is free and in the pool; else the first free one."""
    annotated = (service.metadata.annotations or {}).get(METALLB_ANNOTATION) or ""
    asked = [service.spec.load_balancer_ip] + annotated.split(",")
    for candidate in (a.strip() for a in asked if a and a.strip()):
        if ipaddress.ip_address(candidate) in pool and candidate not in used:
            return candidate
    for address in pool.hosts():
        if str(address) not in used:
            return str(address)
    return None


def load_balancers(core, pool):
    services = [s for s in core.list_service_for_all_namespaces().items
                if s.spec.type == "LoadBalancer" and not s.spec.load_balancer_class]
    used = {ingress.ip for s in services for ingress in (s.status.load_balancer.ingress or []) if ingress.ip}
    for service in services:
        if service.status.load_balancer.ingress:
            continue
        address = wanted_address(service, pool, used)
        if address is None:
            log("no free address in %s for %s/%s" % (pool, service.metadata.namespace, service.metadata.name))
            continue
        core.patch_namespaced_service_status(service.metadata.name, service.metadata.namespace,
                                             {"status": {"loadBalancer": {"ingress": [{"ip": address}]}}})
        used.add(address)
        log("LoadBalancer %s/%s: %s" % (service.metadata.namespace, service.metadata.name, address))


def volumes(core, state):
    root = os.path.join(state, "volumes")
    for claim in core.list_persistent_volume_claim_for_all_namespaces().items:
        if claim.status.phase != "Pending" or claim.spec.volume_name or claim.metadata.deletion_timestamp:
            continue
        if claim.spec.storage_class_name != STORAGE_CLASS:
            continue
        name = "pvc-%s" % claim.metadata.uid
        path = os.path.join(root, "%s-%s-%s" % (claim.metadata.namespace, claim.metadata.name, claim.metadata.uid[:8]))
        os.makedirs(path, exist_ok=True)
        os.chmod(path, 0o777)  # as local-path-provisioner: any pod user may write
        volume = {
            "apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": name, "annotations": {"pv.kubernetes.io/provisioned-by": PROVISIONER}},
            "spec": {
                "capacity": {"storage": claim.spec.resources.requests["storage"]},
                "accessModes": claim.spec.access_modes,
                "persistentVolumeReclaimPolicy": "Delete",
                "storageClassName": STORAGE_CLASS,
                "volumeMode": claim.spec.volume_mode or "Filesystem",
                "hostPath": {"path": path, "type": "DirectoryOrCreate"},
                "claimRef": {"namespace": claim.metadata.namespace, "name": claim.metadata.name,
                             "uid": claim.metadata.uid},
            },
        }
        try:
            core.create_persistent_volume(volume)
            log("volume %s for %s/%s at %s" % (name, claim.metadata.namespace, claim.metadata.name, path))
        except ApiException as exc:
            if exc.status != 409:
                raise
    for volume in core.list_persistent_volume().items:
        annotations = volume.metadata.annotations or {}
        if annotations.get("pv.kubernetes.io/provisioned-by") != PROVISIONER or volume.status.phase != "Released":
            continue
        path = volume.spec.host_path.path
        if path.startswith(root + os.sep):
            shutil.rmtree(path, ignore_errors=True)
        try:
            core.delete_persistent_volume(volume.metadata.name)
            log("volume %s released and removed" % volume.metadata.name)
        except ApiException as exc:
            if exc.status != 404:
                raise


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    kubeconfig, state, pool = argv
    api = config.new_client_from_config(config_file=kubeconfig)
    core = client.CoreV1Api(api)
    pool = ipaddress.ip_network(pool)
    log("serving LoadBalancer addresses from %s and %s volumes under %s/volumes" % (pool, STORAGE_CLASS, state))
    while True:
        for step in (lambda: load_balancers(core, pool), lambda: volumes(core, state)):
            try:
                step()
            except Exception as exc:  # pylint: disable=broad-except  # the API restarting: try again next round
                log("retrying after: %s" % exc)
        time.sleep(1)


if __name__ == "__main__":
    main(sys.argv[1:])
