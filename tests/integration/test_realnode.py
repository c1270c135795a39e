"""The test bed's real node: pods that really run (images imported, no registry), their network, DNS, Services,
LoadBalancer addresses and volumes, and the guarantee that no packet leaves the machine."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from kubernetes import client

from conftest import STATE

REAL_LABEL = "testbed.nebari.dev/real"
# the image the test bed builds from tests/testbed/images/base.yml (Debian bookworm with Python)
BASE_IMAGE = "testbed.invalid/nebari-testbed/debian:bookworm-python"
NET = os.environ.get("TB_NET", "10.250")  # the test bed's addresses (tests/testbed/lib/common.sh)


@pytest.fixture(scope="module")
def real_node(k8s):
    nodes = k8s.list_node(label_selector="%s=true" % REAL_LABEL).items
    assert len(nodes) == 1, [n.metadata.name for n in nodes]
    return nodes[0]


@pytest.fixture
def ns(k8s, namespace):
    k8s.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    return namespace


def kubectl(testbed, *args, check=True, timeout=60):
    proc = subprocess.run([testbed["kubectl"], "--kubeconfig", testbed["kubeconfig"]] + list(args),
                          capture_output=True, text=True, timeout=timeout, check=False)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def web_pod(name, command=None, volume_claim=None):
    """A pod of the base image on the real node, serving its working directory on port 8080."""
    mounts, volumes = [], []
    if volume_claim:
        mounts = [client.V1VolumeMount(name="data", mount_path="/data")]
        volumes = [client.V1Volume(name="data", persistent_volume_claim=client.V1PersistentVolumeClaimVolumeSource(
            claim_name=volume_claim))]
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels={"app": name}),
        spec=client.V1PodSpec(
            node_selector={REAL_LABEL: "true"},
            tolerations=[client.V1Toleration(key=REAL_LABEL, operator="Exists", effect="NoSchedule")],
            termination_grace_period_seconds=1,
            containers=[client.V1Container(
                name="web", image=BASE_IMAGE, working_dir="/tmp",
                command=command or ["python3", "-u", "-m", "http.server", "8080"],
                ports=[client.V1ContainerPort(container_port=8080)], volume_mounts=mounts,
                readiness_probe=client.V1Probe(http_get=client.V1HTTPGetAction(path="/", port=8080),
                                               period_seconds=1))],
            volumes=volumes))


def wait_ready(k8s, ns, name, timeout=90):
    end = time.time() + timeout
    while time.time() < end:
        pod = k8s.read_namespaced_pod(name, ns)
        if any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or []):
            return pod
        time.sleep(0.5)
    events = k8s.list_namespaced_event(ns, field_selector="involvedObject.name=%s" % name).items
    messages = [e.message for e in events]
    pytest.fail("pod %s not Ready after %d s: %s; events: %s" % (name, timeout, pod.status.phase, messages))


def http_get(url, timeout=10, settle=15):
    """GET url; a refused or unrouted connection is retried for `settle` seconds (kube-proxy programs a new
    Service's endpoints, or a new LoadBalancer address, a moment after the pod is Ready)."""
    end = time.time() + settle
    while True:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (test bed addresses)
                return response.status, response.read().decode()
        except urllib.error.URLError as exc:
            if getattr(exc.reason, "errno", None) not in (111, 113) or time.time() > end:
                raise
            time.sleep(0.3)


def in_pod(testbed, ns, pod, code):
    """Run Python code in the pod (kubectl exec, through the kubelet); its stdout."""
    return kubectl(testbed, "exec", "-n", ns, pod, "--", "python3", "-c", code).stdout.strip()


def service(ns, name, kind="ClusterIP"):
    return client.V1Service(metadata=client.V1ObjectMeta(name=name), spec=client.V1ServiceSpec(
        type=kind, selector={"app": name}, ports=[client.V1ServicePort(port=80, target_port=8080)]))


def test_pod_runs_and_answers_through_its_service(testbed, k8s, ns, real_node):
    """A pod of a locally built image runs on the real node: probes, logs and exec go through the kubelet; its
    Service answers the host by ClusterIP and other pods by DNS name; the pod reaches the API server through the
    `kubernetes` Service with its service account."""
    k8s.create_namespaced_pod(ns, web_pod("web"))
    k8s.create_namespaced_service(ns, service(ns, "web"))
    pod = wait_ready(k8s, ns, "web")
    assert pod.spec.node_name == real_node.metadata.name
    assert pod.status.pod_ip.startswith(NET + ".0.")

    ip = k8s.read_namespaced_service("web", ns).spec.cluster_ip
    status, body = http_get("http://%s/" % ip)
    assert status == 200 and "Directory listing" in body
    assert "GET / HTTP/1.1" in kubectl(testbed, "logs", "-n", ns, "web").stdout

    resolved = in_pod(testbed, ns, "web", "import socket; print(socket.gethostbyname('web.%s.svc.cluster.local'))" % ns)
    assert resolved == ip
    version = in_pod(testbed, ns, "web", (
        "import json, ssl, urllib.request as u; sa = '/var/run/secrets/kubernetes.io/serviceaccount/'\n"
        "ctx = ssl.create_default_context(cafile=sa + 'ca.crt')\n"
        "r = u.Request('https://kubernetes.default.svc/version', headers={'Authorization': 'Bearer ' + open(sa + 'token').read()})\n"
        "print(json.load(u.urlopen(r, context=ctx, timeout=10))['gitVersion'])"))
    assert version == os.environ.get("KUBE_VERSION", "v1.34.10")


def test_loadbalancer_service_gets_an_address_the_host_reaches(k8s, ns):
    k8s.create_namespaced_pod(ns, web_pod("lb"))
    k8s.create_namespaced_service(ns, service(ns, "lb", kind="LoadBalancer"))
    wait_ready(k8s, ns, "lb")
    end = time.time() + 30
    while time.time() < end:
        ingress = k8s.read_namespaced_service("lb", ns).status.load_balancer.ingress
        if ingress:
            break
        time.sleep(0.5)
    assert ingress and ingress[0].ip.startswith(NET + ".1."), ingress
    assert http_get("http://%s/" % ingress[0].ip)[0] == 200


def test_claim_gets_a_volume_that_outlives_the_pod(testbed, k8s, ns):
    k8s.create_namespaced_persistent_volume_claim(ns, client.V1PersistentVolumeClaim(
        metadata=client.V1ObjectMeta(name="data"), spec=client.V1PersistentVolumeClaimSpec(
            access_modes=["ReadWriteMany"], resources=client.V1VolumeResourceRequirements(
                requests={"storage": "1Gi"}))))
    k8s.create_namespaced_pod(ns, web_pod("writer", volume_claim="data"))
    wait_ready(k8s, ns, "writer")
    in_pod(testbed, ns, "writer", "open('/data/hello.txt', 'w').write('from the real node')")
    claim = k8s.read_namespaced_persistent_volume_claim("data", ns)
    assert claim.spec.storage_class_name == "testbed-local" and claim.status.phase == "Bound"
    path = client.CoreV1Api(k8s.api_client).read_persistent_volume(claim.spec.volume_name).spec.host_path.path
    assert path.startswith(os.path.join(STATE, "volumes") + os.sep)
    with open(os.path.join(path, "hello.txt")) as f:
        assert f.read() == "from the real node"
    k8s.delete_namespaced_pod("writer", ns, grace_period_seconds=0)
    k8s.create_namespaced_pod(ns, web_pod("reader", volume_claim="data"))
    wait_ready(k8s, ns, "reader")
    assert in_pod(testbed, ns, "reader", "print(open('/data/hello.txt').read())") == "from the real node"


def test_nothing_leaves_the_machine(testbed, k8s, ns):
    """From a pod, an address outside the test bed is unreachable at once, and names outside the cluster do not
    resolve: there is no route out of the test bed's namespace and no DNS forwarder."""
    k8s.create_namespaced_pod(ns, web_pod("probe"))
    wait_ready(k8s, ns, "probe")
    result = json.loads(in_pod(testbed, ns, "probe", (
        "import json, socket, time\n"
        "out = {}\n"
        "for host in ('203.0.113.7', '1.1.1.1'):\n"
        "    t = time.time()\n"
        "    try:\n"
        "        socket.create_connection((host, 443), timeout=20); out[host] = 'connected'\n"
        "    except OSError as e:\n"
        "        out[host] = [e.errno, round(time.time() - t, 2)]\n"
        "t = time.time()\n"
        "try:\n"
        "    out['dns'] = socket.gethostbyname('example.com')\n"
        "except OSError as e:\n"
        "    out['dns'] = [str(e), round(time.time() - t, 2)]\n"
        "print(json.dumps(out))")))
    # refused at once, not after the 20 s timeout (5 s of slack: the first dial once took 1.03 s on a loaded CI)
    for host in ("203.0.113.7", "1.1.1.1"):
        errno, seconds = result[host]
        assert errno in (101, 113) and seconds < 5, result  # ENETUNREACH / EHOSTUNREACH, not a timeout
    message, seconds = result["dns"]  # not resolved (the cluster DNS has no forwarder), and at once
    assert ("not known" in message or "name resolution" in message) and seconds < 5, result


@pytest.mark.parametrize("target", ["service without endpoints", "address outside the test bed"])
def test_webhook_call_that_cannot_be_served_fails_fast(testbed, k8s, ns, target):
    """The API server calls admission webhooks at ClusterIPs and URLs: one that nothing serves fails at once with
    the webhook named, instead of leaving the machine or waiting for the webhook's timeout."""
    admission = client.AdmissionregistrationV1Api(k8s.api_client)
    if target == "service without endpoints":
        k8s.create_namespaced_service(ns, service(ns, "nobody"))
        config = client.AdmissionregistrationV1WebhookClientConfig(
            service=client.AdmissionregistrationV1ServiceReference(namespace=ns, name="nobody", port=80,
                                                                   path="/validate"))
    else:
        config = client.AdmissionregistrationV1WebhookClientConfig(url="https://203.0.113.7/validate")
    name = "%s.testbed.nebari.dev" % ns
    admission.create_validating_webhook_configuration(client.V1ValidatingWebhookConfiguration(
        metadata=client.V1ObjectMeta(name=name),
        webhooks=[client.V1ValidatingWebhook(
            name=name, client_config=config, admission_review_versions=["v1"], side_effects="None",
            failure_policy="Fail", timeout_seconds=30,
            namespace_selector=client.V1LabelSelector(match_labels={"kubernetes.io/metadata.name": ns}),
            rules=[client.V1RuleWithOperations(operations=["CREATE"], api_groups=[""], api_versions=["v1"],
                                               resources=["configmaps"])])]))
    try:
        time.sleep(1)  # the API server picks the configuration up
        started = time.time()
        with pytest.raises(client.exceptions.ApiException) as error:
            k8s.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="x")))
        elapsed = time.time() - started
    finally:
        admission.delete_validating_webhook_configuration(name)
    message = json.loads(error.value.body)["message"]
    assert 'failed calling webhook "%s"' % name in message, message
    assert ("connection refused" if target.startswith("service") else "no route to host") in message, message
    assert elapsed < 10, (elapsed, message)


def test_cluster_listens_only_inside_its_namespace(testbed):
    """The kubelet, API server and etcd listen in the test bed's network namespace, never on the host's."""
    listening = subprocess.run(["ss", "-Htln"], capture_output=True, text=True, check=True).stdout
    for port in (":10250 ", ":16443 ", ":23790 "):
        assert port not in listening, listening


def placed_pod(name, image, node_selector, gpus=0):
    limits = {"nvidia.com/gpu": str(gpus)} if gpus else None
    return client.V1Pod(metadata=client.V1ObjectMeta(name=name), spec=client.V1PodSpec(
        node_selector=node_selector, termination_grace_period_seconds=1,
        tolerations=[client.V1Toleration(key="nvidia.com/gpu", operator="Exists", effect="NoSchedule")],
        containers=[client.V1Container(name="c", image=image, command=["sleep", "infinity"],
                                       resources=client.V1ResourceRequirements(
                                           requests={"cpu": "1500m", "memory": "4Gi"}, limits=limits))]))


def running_on(k8s, ns, name, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        pod = k8s.read_namespaced_pod(name, ns)
        if pod.status.phase == "Running":
            return pod
        time.sleep(0.5)
    pytest.fail("pod %s not Running: %s" % (name, pod.status))


def test_placement_runs_pods_whose_images_the_test_bed_has(k8s, ns, real_node):
    """The placement webhook: a pod with the test bed's image that the real node can take runs there for real
    (with small requests: one two-core machine); one with an image the test bed lacks is simulated by kwok in its
    node group; a GPU pod goes to the simulated GPU node whatever its image."""
    general = {"nebari.dev/node-group": real_node.metadata.labels.get("nebari.dev/node-group", "general")}
    if real_node.spec.taints:
        pytest.skip("the real node is in no node group here (testbed_real is set on no host of the inventory)")
    k8s.create_namespaced_pod(ns, placed_pod("real", BASE_IMAGE, general))
    k8s.create_namespaced_pod(ns, placed_pod("simulated", "registry.invalid/nowhere:1", general))
    k8s.create_namespaced_pod(ns, placed_pod("gpu", BASE_IMAGE, {"nebari.dev/node-group": "gpu"}, gpus=1))
    real = running_on(k8s, ns, "real")
    assert real.spec.node_name == real_node.metadata.name
    assert real.metadata.annotations["testbed.nebari.dev/placement"] == "real"
    assert real.spec.containers[0].resources.requests == {"cpu": "10m", "memory": "32Mi"}
    simulated = running_on(k8s, ns, "simulated")
    assert simulated.spec.node_name != real_node.metadata.name
    assert k8s.read_node(simulated.spec.node_name).metadata.labels["type"] == "kwok"
    assert simulated.metadata.annotations["testbed.nebari.dev/placement"] == \
        "simulated: no image registry.invalid/nowhere:1"
    gpu = running_on(k8s, ns, "gpu")
    assert k8s.read_node(gpu.spec.node_name).metadata.labels["nebari.dev/node-group"] == "gpu"


def test_placement_stands_the_pause_image_in_for_a_daemonset_without_image(k8s, ns, real_node):
    """A DaemonSet whose image the test bed lacks (a log shipper, a node exporter) completes: on the real node its
    pod runs the pause image without probes, on the kwok nodes kwok plays it."""
    apps = client.AppsV1Api(k8s.api_client)
    labels = {"app": "agent"}
    apps.create_namespaced_daemon_set(ns, client.V1DaemonSet(
        metadata=client.V1ObjectMeta(name="agent"), spec=client.V1DaemonSetSpec(
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(metadata=client.V1ObjectMeta(labels=labels), spec=client.V1PodSpec(
                tolerations=[client.V1Toleration(operator="Exists")],
                containers=[client.V1Container(
                    name="agent", image="registry.invalid/agent:1", args=["--serve"],
                    readiness_probe=client.V1Probe(http_get=client.V1HTTPGetAction(path="/", port=9100)))])))))
    end = time.time() + 90
    while time.time() < end:
        status = apps.read_namespaced_daemon_set("agent", ns).status
        if status.desired_number_scheduled and status.number_ready == status.desired_number_scheduled:
            break
        time.sleep(1)
    assert status.number_ready == status.desired_number_scheduled, status
    pods = {p.spec.node_name: p for p in k8s.list_namespaced_pod(ns, label_selector="app=agent").items}
    on_real = pods[real_node.metadata.name]
    assert on_real.spec.containers[0].image.endswith("/pause:3.10")
    assert on_real.spec.containers[0].readiness_probe is None
    assert on_real.metadata.annotations["testbed.nebari.dev/placement"].startswith("simulated: no image")
