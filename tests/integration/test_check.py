"""playbooks/check.yml against a deliberately broken release on the test bed: every broken object named, the run
failed, nothing changed. (That the check passes on the sandbox after site.yml is asserted in test_site.py, which
converges it.)"""

from __future__ import annotations

import time

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

CHECK_TASK = "Check the live cluster (routes, references, placement, load balancers, readiness)"
GROUP = "nebari.dev/node-group"


def broken_release(api, namespace, traefik):
    """Objects of the releases jupyterhub and dask-gateway (by their labels), each broken in one way."""
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    core.create_namespaced_service(namespace, client.V1Service(
        metadata=client.V1ObjectMeta(name="proxy-public"),
        spec=client.V1ServiceSpec(ports=[client.V1ServicePort(name="http", port=80)], selector={"x": "y"})))
    # a LoadBalancer no controller serves (the test bed's, as MetalLB, leaves a Service of another class alone)
    core.create_namespaced_service(namespace, client.V1Service(
        metadata=client.V1ObjectMeta(name="lb-pending"),
        spec=client.V1ServiceSpec(type="LoadBalancer", load_balancer_class="example.com/nobody",
                                  ports=[client.V1ServicePort(port=80)], selector={"x": "y"})))
    # routes to a port and a Service that do not exist
    client.NetworkingV1Api(api).create_namespaced_ingress(namespace, {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "jupyterhub"},
        "spec": {"rules": [{"host": "nebari.sandbox.localhost", "http": {"paths": [
            {"path": "/", "pathType": "Prefix",
             "backend": {"service": {"name": "proxy-public", "port": {"number": 8080}}}},
            {"path": "/gone", "pathType": "Prefix",
             "backend": {"service": {"name": "nowhere", "port": {"number": 80}}}}]}}]}})
    if traefik:
        route = {"apiVersion": "traefik.io/v1alpha1", "kind": "IngressRoute", "metadata": {"name": "gateway"},
                 "spec": {"routes": [{"kind": "Rule", "match": "PathPrefix(`/gateway`)",
                                      "services": [{"name": "traefik-dask-gateway", "port": 80}]}]}}
        client.CustomObjectsApi(api).create_namespaced_custom_object("traefik.io", "v1alpha1", namespace,
                                                                     "ingressroutes", route)
    # Dask Gateway's API pod as the chart makes it, before z2jh had a key for it in Secret hub; plus a ConfigMap
    # volume and a claim that do not exist (the scheduler leaves it Pending for that claim)
    core.create_namespaced_secret(namespace, client.V1Secret(metadata=client.V1ObjectMeta(name="hub"),
                                                             string_data={"hub.config.JupyterHub.cookie_secret": "x"}))
    gateway_labels = {"app.kubernetes.io/instance": "dask-gateway", "app.kubernetes.io/component": "gateway"}
    core.create_namespaced_pod(namespace, client.V1Pod(
        metadata=client.V1ObjectMeta(name="api-dask-gateway", labels=gateway_labels),
        spec=client.V1PodSpec(node_selector={GROUP: "general"}, containers=[client.V1Container(
            name="gateway", image="registry.invalid/dask-gateway-server:1",
            env=[client.V1EnvVar(name="JUPYTERHUB_API_TOKEN", value_from=client.V1EnvVarSource(
                secret_key_ref=client.V1SecretKeySelector(name="hub", key="hub.services.dask-gateway.apiToken")))],
            volume_mounts=[client.V1VolumeMount(name="config", mount_path="/etc/dask"),
                           client.V1VolumeMount(name="data", mount_path="/data")])],
            volumes=[client.V1Volume(name="config", config_map=client.V1ConfigMapVolumeSource(name="dask-etc")),
                     client.V1Volume(name="data", persistent_volume_claim=client.V1PersistentVolumeClaimVolumeSource(
                         claim_name="gateway-data"))])))
    # the hub on a worker node; a proxy no node can take (never Ready)
    for name, group in (("hub-misplaced", "worker"), ("proxy-unschedulable", "nowhere")):
        core.create_namespaced_pod(namespace, client.V1Pod(
            metadata=client.V1ObjectMeta(name=name, labels={"app": "jupyterhub", "release": "jupyterhub",
                                                            "component": name.split("-", maxsplit=1)[0]}),
            spec=client.V1PodSpec(node_selector={GROUP: group}, containers=[client.V1Container(
                name="main", image="registry.invalid/k8s-hub:1")])))


def wait_scheduled(core, namespace, names, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pods = {p.metadata.name: p for p in core.list_namespaced_pod(namespace).items}
        if all(pods[name].spec.node_name for name in names):
            return
        time.sleep(0.5)
    raise AssertionError("pods %s not scheduled after %d s" % (names, timeout))


def test_check_fails_naming_every_broken_object_of_a_broken_release(playbook, testbed, namespace):
    api = config.new_client_from_config(config_file=testbed["kubeconfig"])
    try:
        client.ApisApi(api).get_api_versions()
        traefik = any(g.name == "traefik.io" for g in client.ApisApi(api).get_api_versions().groups)
    except ApiException:
        traefik = False
    broken_release(api, namespace, traefik)
    wait_scheduled(client.CoreV1Api(api), namespace, ["hub-misplaced"])

    run = playbook("playbooks/check.yml", extra_vars={"nebari_namespace": namespace,
                                                      "nebari_kubeconfig": testbed["kubeconfig"]}, args=["--check"])
    assert run.rc != 0 and run.changed == 0
    result = [r for name, r in run.results() if name.endswith(CHECK_TASK)][0]
    found = sorted(p["message"] for p in result["problems"])
    ns = namespace
    expected = [
        "Ingress %s/jupyterhub: nebari.sandbox.localhost/: Service %s/proxy-public has no port 8080 (it has: "
        "80(http))" % (ns, ns),
        "Ingress %s/jupyterhub: nebari.sandbox.localhost/gone: Service %s/nowhere does not exist" % (ns, ns),
        "Pod %s/api-dask-gateway: container gateway env JUPYTERHUB_API_TOKEN: Secret hub has no key "
        "hub.services.dask-gateway.apiToken" % ns,
        "Pod %s/api-dask-gateway: volume config: ConfigMap dask-etc does not exist" % ns,
        "Pod %s/api-dask-gateway: volume data: PersistentVolumeClaim gateway-data does not exist" % ns,
        "Pod %s/hub-misplaced: release jupyterhub (hub) runs on node sandbox-worker-0, which is not in node group "
        "general" % ns,
        "Service %s/lb-pending: LoadBalancer without an address" % ns,
    ]
    if traefik:
        expected.append("IngressRoute %s/gateway: route 0 (PathPrefix(`/gateway`)): Service %s/traefik-dask-gateway "
                        "does not exist" % (ns, ns))
    assert [m for m in found if "not Ready" not in m] == sorted(expected), found
    # never scheduled (no node of its group; a claim that does not exist): its release is named, and why
    unready = [m.split(" (")[0] for m in found if "not Ready" in m]
    assert unready == ["Pod %s/api-dask-gateway: release dask-gateway: pod not Ready" % ns,
                       "Pod %s/proxy-unschedulable: release jupyterhub: pod not Ready" % ns], found
    # every problem in the message the run fails with, one a line
    assert all(m in result["msg"] for m in found)
    assert result["checked"]["pods"] == 3
