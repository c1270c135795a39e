"""MetalLB (bare metal): the release and its address pool from nebari_metallb_addresses. MetalLB's chart cannot be
had here: the stand-in chart plays it, and the test registers minimal MetalLB CRDs (metallb.io/v1beta1
IPAddressPool and L2Advertisement) so the API server stores the pool objects the stack layer creates."""

from __future__ import annotations

import os

import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from conftest import ROOT

with open(os.path.join(ROOT, "roles", "nebari", "vars", "main.yml")) as catalog_file:
    CATALOG = list(yaml.safe_load(catalog_file)["nebari_component_catalog"])
KINDS = {"IPAddressPool": "ipaddresspools", "L2Advertisement": "l2advertisements"}


def ensure_crds(api_client):
    extensions = client.ApiextensionsV1Api(api_client)
    for kind, plural in KINDS.items():
        crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
               "metadata": {"name": "%s.metallb.io" % plural},
               "spec": {"group": "metallb.io", "scope": "Namespaced",
                        "names": {"kind": kind, "plural": plural, "singular": kind.lower()},
                        "versions": [{"name": "v1beta1", "served": True, "storage": True, "schema": {
                            "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}}
        try:
            extensions.create_custom_resource_definition(crd)
        except ApiException as exc:
            if exc.status != 409:
                raise
    for dummy in range(60):  # established
        names = [c.metadata.name for c in extensions.list_custom_resource_definition().items]
        if all("%s.metallb.io" % plural in names for plural in KINDS.values()):
            return
    raise AssertionError("the MetalLB CRDs did not register")


def test_metallb_gets_its_pool_from_the_inventory(playbook, sandbox_vars, k8s, namespace):
    ensure_crds(k8s.api_client)
    standin = os.path.join(ROOT, "tests", "testbed", "charts", "standin")
    components = {name: {"enabled": False} for name in CATALOG}
    components["metallb"] = {"enabled": True, "namespace": namespace, "chart": {"path": standin}, "timeout": "2m"}
    components["traefik"] = {"enabled": True, "namespace": namespace, "chart": {"path": standin}, "timeout": "2m"}
    variables = dict(sandbox_vars, nebari_components=components,
                     nebari_metallb_addresses=["192.168.10.240-192.168.10.250"])

    run = playbook(extra_vars=variables, args=["--tags", "cluster,stack"])
    assert run.rc == 0, run.failure_messages()
    # the pool right after MetalLB's release, before Traefik's, which waits on its LoadBalancer's address
    tasks = [name for name, dummy in run.results()]
    pool = next(i for i, name in enumerate(tasks) if "MetalLB address pool nebari" in name)
    assert next(i for i, name in enumerate(tasks) if "Install or upgrade metallb" in name) < pool
    assert pool < next(i for i, name in enumerate(tasks) if "Install or upgrade traefik" in name)
    custom = client.CustomObjectsApi(k8s.api_client)
    pool = custom.get_namespaced_custom_object("metallb.io", "v1beta1", namespace, "ipaddresspools", "nebari")
    assert pool["spec"] == {"addresses": ["192.168.10.240-192.168.10.250"]}
    l2 = custom.get_namespaced_custom_object("metallb.io", "v1beta1", namespace, "l2advertisements", "nebari")
    assert l2["spec"] == {"ipAddressPools": ["nebari"]}
    values = yaml.safe_load(k8s.read_namespaced_config_map("metallb-values", namespace).data["values.yaml"])
    assert values["controller"]["nodeSelector"] == {"nebari.dev/node-group": "general"}

    again = playbook(extra_vars=variables, args=["--tags", "cluster,stack"])
    assert again.rc == 0 and [t for t in again.changed_tasks() if "nebari_stack" in t] == []
    # both releases current: no helm process, and the pool is still kept (before the releases that are not)
    tasks = [name for name, dummy in again.results()]
    assert not [name for name in tasks if "Install or upgrade metallb" in name or "Install or upgrade traefik" in name]
    assert any("MetalLB address pool nebari" in name for name in tasks), tasks

    missing = playbook(extra_vars=dict(variables, nebari_metallb_addresses=[]), args=["--tags", "cluster,stack"])
    assert missing.rc != 0 and "nebari_metallb_addresses: MetalLB is enabled" in "\n".join(missing.failure_messages())
