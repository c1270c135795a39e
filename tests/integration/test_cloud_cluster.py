"""The cluster layer for existing cloud clusters (providers eks, gke, aks).

EKS runs against moto's server, a local emulator of the AWS API (the EKS and STS calls the real `aws` CLI makes):
the role describes the cluster and its node groups with `aws`, writes the kubeconfig, and the kubeconfig's exec
plugin (`aws eks get-token`) gives the Kubernetes client library a token. The emulated cluster's endpoint does
not exist, so these runs set cloud_cluster_verify: false; the verification step itself runs against the test
bed's API server in test_site.py (provider existing) and in test_cloud_node_pools_get_their_node_group below.
GKE and AKS have no emulator: stand-in `gcloud` and `az` executables print recorded API responses
(tests/unit/cloud_responses) and record the arguments they were given.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
import uuid

import pytest
import yaml
from kubernetes import client

from conftest import ROOT, TESTBED

RESPONSES = os.path.join(ROOT, "tests", "unit", "cloud_responses")
REGION = "eu-west-1"
ROLE_ARN = "arn:aws:iam::123456789012:role/nebari-eks"
CLUSTER = "playbooks/cluster.yml"   # site.yml would go on to read the emulated cluster, whose endpoint does not exist
NODE_GROUPS = ["general", "user", "gpu-a100"]   # gpu-a100 is named after no node group


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def aws():
    """moto's server on a free loopback port with one ACTIVE EKS cluster and its node groups; yields the
    environment that points the aws CLI at it, and the CLI's path."""
    tools = subprocess.run([TESTBED, "aws-tools"], capture_output=True, text=True, check=True).stdout.split()[-1]
    port = free_port()
    env = dict(os.environ, AWS_ENDPOINT_URL="http://127.0.0.1:%d" % port, AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=REGION, AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    server = subprocess.Popen([os.path.join(tools, "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    cli = os.path.join(tools, "aws")

    def call(*args):
        return json.loads(subprocess.run([cli] + list(args) + ["--output", "json"], env=env, capture_output=True,
                                         text=True, check=True).stdout)

    try:
        for dummy in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        call("eks", "create-cluster", "--name", "nebari", "--role-arn", ROLE_ARN, "--kubernetes-version", "1.34",
             "--resources-vpc-config", "subnetIds=subnet-1")
        for name in NODE_GROUPS:
            call("eks", "create-nodegroup", "--cluster-name", "nebari", "--nodegroup-name", name,
                 "--node-role", ROLE_ARN, "--subnets", "subnet-1")
        yield {"env": env, "cli": cli, "bin": tools, "cluster": call("eks", "describe-cluster", "--name", "nebari")}
    finally:
        server.terminate()
        server.wait(timeout=30)


def cloud_vars(sandbox_vars, provider, settings, clis, verify=False):
    return dict(sandbox_vars, nebari_cluster_provider=provider, cloud_cluster_verify=verify,
                nebari_cloud_clis=clis, **{"nebari_" + provider: settings})


def messages(run, task):
    """The msg of every item of the debug task whose name ends with task."""
    found = []
    for name, result in run.results():
        if name.endswith(task):
            found.extend(item.get("msg") for item in result.get("results", [result]) if item.get("msg"))
    return found


def test_eks_kubeconfig_from_the_aws_api(playbook, sandbox_vars, aws, tmp_path):
    variables = cloud_vars(sandbox_vars, "eks", {"cluster": "nebari", "region": REGION}, {"eks": aws["cli"]})
    run = playbook(CLUSTER, extra_vars=variables, args=["--tags", "cluster"], env=aws["env"])
    assert run.rc == 0, [(n, r) for n, r in run.results() if r.get("failed")] or run.stderr

    path = tmp_path / "artifacts" / "kubeconfig"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    kubeconfig = yaml.safe_load(path.read_text())
    cluster = kubeconfig["clusters"][0]["cluster"]
    assert cluster == {"server": aws["cluster"]["cluster"]["endpoint"],
                       "certificate-authority-data": aws["cluster"]["cluster"]["certificateAuthority"]["data"]}
    user = kubeconfig["users"][0]["user"]["exec"]
    assert [user["command"]] + user["args"] == ["aws", "eks", "get-token", "--cluster-name", "nebari", "--output",
                                                "json", "--region", REGION]

    # The Kubernetes client library (what kubernetes.core uses) runs the exec plugin and gets an EKS token.
    # (Its ExecProvider directly: moto's certificate authority data are random bytes, not a certificate.)
    env = dict(aws["env"], PATH=aws["bin"] + os.pathsep + os.environ["PATH"])
    probe = ("import sys, yaml; from kubernetes.config.exec_provider import ExecProvider; "
             "from kubernetes.config.kube_config import ConfigNode; "
             "user = yaml.safe_load(open(sys.argv[1]))['users'][0]['user']; "
             "print(ExecProvider(ConfigNode('exec', user['exec']), None).run()['token'])")
    token = subprocess.run([sys.executable, "-c", probe, str(path)], env=env, capture_output=True, text=True,
                           check=False)
    assert token.stdout.startswith("k8s-aws-v1."), token.stdout + token.stderr

    pools = messages(run, "Report the node pools and their node groups")
    assert "general (eks.amazonaws.com/nodegroup=general): node group general" in pools
    assert any(m.startswith("gpu-a100 (eks.amazonaws.com/nodegroup=gpu-a100): no node group of that name")
               for m in pools), pools
    missing = messages(run, "Report the node groups no pool provides")
    assert missing and "worker" in missing[0] and "gpu" in missing[0] and "general" not in missing[0]

    again = playbook(CLUSTER, extra_vars=variables, args=["--tags", "cluster"], env=aws["env"])
    assert again.rc == 0 and again.changed == 0, again.changed_tasks()
    checked = playbook(CLUSTER, extra_vars=variables, args=["--tags", "cluster", "--check", "--diff"], env=aws["env"])
    assert checked.rc == 0 and checked.changed == 0, checked.failure_messages() or checked.changed_tasks()


def test_eks_cluster_not_found_fails_naming_the_setting(playbook, sandbox_vars, aws, tmp_path):
    variables = cloud_vars(sandbox_vars, "eks", {"cluster": "no-such-cluster", "region": REGION},
                           {"eks": aws["cli"]})
    run = playbook(CLUSTER, extra_vars=variables, args=["--tags", "cluster"], env=aws["env"])
    assert run.rc != 0
    message = " ".join(run.failure_messages())
    assert "eks describe-cluster --name no-such-cluster" in message and "ResourceNotFoundException" in message
    assert "Check nebari_eks" in message
    assert not (tmp_path / "artifacts" / "kubeconfig").exists()


def test_preflight_refuses_eks_without_its_cli(playbook, sandbox_vars, tmp_path):
    variables = cloud_vars(sandbox_vars, "eks", {"cluster": "nebari"}, {"eks": str(tmp_path / "no-aws")})
    run = playbook(CLUSTER, extra_vars=variables, args=["--tags", "cluster"])
    assert run.rc != 0
    message = " ".join(run.failure_messages())
    assert "nebari_eks.region: is required with provider eks" in message
    assert "nebari_cloud_clis.eks: %r not found on the controller" % str(tmp_path / "no-aws") in message


STAND_IN = '''import json, os, sys
with open(os.environ["STAND_IN_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
responses = json.loads(os.environ["STAND_IN_RESPONSES"])
for words, path in responses:
    if sys.argv[1:1 + len(words)] == words:
        sys.stdout.write(open(path).read())
        sys.exit(0)
sys.exit("stand-in: no recorded response for %s" % sys.argv[1:])
'''


def stand_in(tmp_path, name, responses):
    """An executable `name` that prints the recorded response of the first matching sub-command."""
    path = tmp_path / name
    path.write_text("#!%s\n%s" % (sys.executable, STAND_IN))
    path.chmod(0o755)
    env = {"STAND_IN_LOG": str(tmp_path / (name + ".log")),
           "STAND_IN_RESPONSES": json.dumps([[words, os.path.join(RESPONSES, file)] for words, file in responses])}
    return str(path), env


def calls(tmp_path, name):
    return [json.loads(line) for line in (tmp_path / (name + ".log")).read_text().splitlines()]


def test_gke_kubeconfig_from_gcloud(playbook, sandbox_vars, tmp_path):
    gcloud, env = stand_in(tmp_path, "gcloud", [(["container", "clusters", "describe"], "gke-cluster.json")])
    settings = {"cluster": "nebari-prod", "project": "nebari-project", "location": "europe-west1"}
    run = playbook(CLUSTER, extra_vars=cloud_vars(sandbox_vars, "gke", settings, {"gke": gcloud}), args=["--tags", "cluster"],
                   env=env)
    assert run.rc == 0, run.failure_messages() or run.stderr
    assert calls(tmp_path, "gcloud") == [["container", "clusters", "describe", "nebari-prod", "--location",
                                          "europe-west1", "--project", "nebari-project", "--format", "json"]]
    kubeconfig = yaml.safe_load((tmp_path / "artifacts" / "kubeconfig").read_text())
    assert kubeconfig["users"][0]["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"
    assert kubeconfig["clusters"][0]["cluster"]["server"].startswith("https://")
    assert messages(run, "Report the node pools and their node groups")


def test_aks_kubeconfig_from_az_never_logs_the_credentials(playbook, sandbox_vars, tmp_path):
    az, env = stand_in(tmp_path, "az", [(["aks", "show"], "aks-managed-cluster.json"),
                                        (["aks", "get-credentials"], "aks-user-credentials-kubeconfig.yaml")])
    settings = {"cluster": "nebari-prod", "resource_group": "nebari-rg", "subscription": "sub-1", "login": "msi"}
    run = playbook(CLUSTER, extra_vars=cloud_vars(sandbox_vars, "aks", settings, {"aks": az}), args=["--tags", "cluster"],
                   env=env)
    assert run.rc == 0, run.failure_messages() or run.stderr
    target = ["--resource-group", "nebari-rg", "--name", "nebari-prod", "--subscription", "sub-1"]
    assert calls(tmp_path, "az") == [["aks", "show"] + target + ["--output", "json"],
                                     ["aks", "get-credentials"] + target + ["--file", "-"]]
    kubeconfig = yaml.safe_load((tmp_path / "artifacts" / "kubeconfig").read_text())
    assert kubeconfig["users"][0]["user"]["exec"]["args"][:3] == ["get-token", "--login", "msi"]
    recorded = yaml.safe_load(open(os.path.join(RESPONSES, "aks-user-credentials-kubeconfig.yaml")))
    for secret in json.dumps(recorded["users"]).split('"'):
        if len(secret) > 40:   # tokens and keys of the recorded credentials
            assert secret not in run.output


def test_cloud_node_pools_get_their_node_group(playbook, sandbox_vars, testbed, k8s, aws, tmp_path):
    """Provider eks on the test bed's API server: a node of EKS node group `worker` gets node group worker's
    labels from the node layer, through the provider's default pool label."""
    node = "it-eks-%s" % uuid.uuid4().hex[:6]
    k8s.create_node(client.V1Node(metadata=client.V1ObjectMeta(
        name=node, labels={"eks.amazonaws.com/nodegroup": "worker", "type": "kwok"},
        annotations={"kwok.x-k8s.io/node": "fake"})))
    (tmp_path / "artifacts").mkdir()
    shutil.copy(testbed["kubeconfig"], tmp_path / "artifacts" / "kubeconfig")
    variables = cloud_vars(sandbox_vars, "eks", {"cluster": "nebari", "region": REGION}, {"eks": aws["cli"]})
    try:
        run = playbook(extra_vars=variables, args=["--tags", "nodes"], env=aws["env"])
        assert run.rc == 0, run.failure_messages() or run.stderr
        assert k8s.read_node(node).metadata.labels["nebari.dev/node-group"] == "worker"
    finally:
        k8s.delete_node(node)
