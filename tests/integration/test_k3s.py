"""The k3s cluster layer on real machines: three servers and one agent booted from Debian with systemd-nspawn
(tests/testhosts), reached over ssh, k3s installed from an airgap directory.

No k3s binary can be had on the CI machine, so the airgap directory holds tests/testhosts/k3s_standin.py: it takes
k3s' command line and config files (refusing keys k3s would refuse), joins servers and agents with the token over
the machines' network and reports ready to systemd. It is backed by the test bed's real API server: each machine
registers its Node there as a kubelet would, the first server's port 6443 passes TLS through to it, so the
kubeconfig the role writes, the role's own verification and the upgrade's drain and uncordon all talk to a real
Kubernetes API. docs/k3s.md says what this verifies and what only a real machine can.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import time
import urllib.parse

import pytest
import yaml

import gpuhost
from conftest import BIN, ROOT
from faultproxy import FaultProxy

TESTHOSTS = os.path.join(ROOT, "tests", "testhosts", "testhosts")
STANDIN = os.path.join(ROOT, "tests", "testhosts", "k3s_standin.py")
VERSION = "v1.34.2+k3s1"
SERVERS = ["k3s-server-0", "k3s-server-1", "k3s-server-2"]
AGENTS = ["k3s-agent-0"]
TOKEN = "it-k3s-token-7f3a9c"


@pytest.fixture(scope="module")
def machines(testbed, k8s):
    proc = subprocess.run([TESTHOSTS, "up"] + SERVERS + AGENTS, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    hosts = yaml.safe_load(proc.stdout)["all"]
    with open(testbed["kubeconfig"]) as f:
        kubeconfig = yaml.safe_load(f)
    api = kubeconfig["clusters"][0]["cluster"]
    api_host, api_port = urllib.parse.urlsplit(api["server"]).hostname, urllib.parse.urlsplit(api["server"]).port
    api["tls-server-name"] = "kubernetes"  # a name in the API server's certificate, whatever address is dialled
    # the test bed's API listens in its own network namespace: reach it from the machines through the bridge's address
    forwarder = FaultProxy(api_port, bind=os.environ.get("TH_SUBNET", "10.231.60") + ".1", target_host=api_host)
    for name in SERVERS + AGENTS:
        unit = "k3s" if name in SERVERS else "k3s-agent"
        encoded = base64.b64encode(yaml.safe_dump(kubeconfig).encode()).decode()
        script = ("mkdir -p /etc/k3s-standin && echo %s | base64 -d > /etc/k3s-standin/kubeconfig && "
                  "printf 'K3S_STANDIN_API=%s\\nK3S_STANDIN_KUBECONFIG=/etc/k3s-standin/kubeconfig\\n' "
                  "> /etc/default/%s" % (encoded, forwarder.address, unit))
        on(hosts, name, script)
    for name in AGENTS:  # the agents are GPU nodes: preflight looks for their GPU (tests/integration/gpuhost.py)
        on(hosts, name, gpuhost.fake_gpu())
    yield hosts
    subprocess.run([TESTHOSTS, "down"] + SERVERS + AGENTS, capture_output=True, check=False)
    forwarder.close()
    for name in SERVERS + AGENTS:
        try:
            k8s.delete_node(name)
        except Exception:  # pylint: disable=broad-except
            pass


def airgap_dir(path, version=VERSION):
    path.mkdir(exist_ok=True)
    with open(STANDIN) as f:
        (path / "k3s").write_text("#!/usr/bin/python3\n" + f.read().replace("@VERSION@", version))
    (path / "k3s-airgap-images-amd64.tar.zst").write_bytes(b"stand-in images " + version.encode())
    sums = ["%s  %s" % (hashlib.sha256((path / name).read_bytes()).hexdigest(), name)
            for name in ("k3s", "k3s-airgap-images-amd64.tar.zst")]
    (path / "sha256sum-amd64.txt").write_text("\n".join(sums) + "\n")
    return str(path)


def k3s_site_vars(tmp_path, token=TOKEN):
    """What every inventory of the test machines sets: provider k3s, a domain, the kubeconfig under tmp_path, the
    secrets preflight asks for (as vault references), MetalLB's pool; helm is never run."""
    return {
        "nebari_cluster_provider": "k3s",
        "nebari_domain": "nebari.example.com",
        "nebari_kubeconfig": str(tmp_path / "artifacts" / "kubeconfig"),
        "nebari_helm_binary": shutil.which("true"),
        "nebari_keycloak_admin_password": "{{ vault_keycloak_admin_password }}",
        "vault_keycloak_admin_password": "unused",
        "nebari_metallb_addresses": ["10.231.60.240-10.231.60.250"],
        "k3s_token": "{{ vault_k3s_token }}",
        "vault_k3s_token": token,
    }


@pytest.fixture(scope="module")
def inventory(machines, tmp_path_factory):
    """Write an inventory of the machines; returns (path, write(vars)) so a test can change group vars.
    Shared by the tests of this module, which run in order on the same machines: each starts from the cluster
    the one before left (converged with the base variables unless it says otherwise)."""
    tmp_path = tmp_path_factory.mktemp("k3s")
    hosts = machines["hosts"]

    def host(name, group):
        return dict(ansible_host=hosts[name]["ansible_host"], nebari_node_group=group)

    inv = {"all": {
        "vars": machines["vars"],
        "hosts": {"localhost": {"ansible_connection": "local",
                                "ansible_python_interpreter": "{{ ansible_playbook_python }}"}},
        "children": {"k3s_servers": {"hosts": {name: host(name, "general") for name in SERVERS}},
                     "k3s_agents": {"hosts": {name: host(name, "gpu") for name in AGENTS}}}}}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inv))
    (tmp_path / "group_vars" / "all").mkdir(parents=True)
    base = dict(k3s_site_vars(tmp_path), **{
        "k3s_airgap_dir": airgap_dir(tmp_path / "airgap"),
        # the machines have no package source and may not touch the host's kernel (docs/k3s.md)
        "k3s_install_packages": False,
        "k3s_apply_kernel_settings": False,
        "nvidia_gpu_sysfs": gpuhost.SYSFS,
        "nvidia_gpu_procfs": gpuhost.PROCFS,
    })

    def write(**changes):
        values = dict(base, **changes)
        (tmp_path / "group_vars" / "all" / "k3s.yml").write_text(yaml.safe_dump(values))
        return values

    write()
    return tmp_path, write


class Run:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.output = proc.stdout + proc.stderr
        start = proc.stdout.find("{")
        self.data = json.loads(proc.stdout[start:]) if start >= 0 else {}
        self.stats = self.data.get("stats", {})

    def changed(self, host):
        return self.stats.get(host, {}).get("changed", 0)

    def messages(self, task_name):
        return [result.get("msg") for play in self.data.get("plays", []) for task in play.get("tasks", [])
                if task["task"]["name"].split(" : ")[-1] == task_name for result in task.get("hosts", {}).values()
                if not result.get("skipped")]

    def failures(self):
        messages = []
        for play in self.data.get("plays", []):
            for task in play.get("tasks", []):
                for host, result in task.get("hosts", {}).items():
                    if result.get("failed") and not result.get("ignore_errors"):
                        messages.append("%s: %s: %s" % (host, task["task"]["name"], result.get("msg")))
        return "\n".join(messages) or self.output[-3000:]


def cluster(path, *args, playbook="playbooks/cluster.yml"):
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1",
               ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"))
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), playbook, "-i", str(path)]
                          + list(args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False)
    return Run(proc)


def on(machines, name, command):
    variables = machines["vars"]
    proc = subprocess.run(["ssh", "-q", "-i", variables["ansible_ssh_private_key_file"], "-o", "BatchMode=yes",
                           "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                           "root@%s" % machines["hosts"][name]["ansible_host"], command],
                          capture_output=True, text=True, timeout=60, check=False)
    return proc.stdout


def starts(machines, name):
    """Every start of k3s on a machine, as the stand-in logged it."""
    return [json.loads(line) for line in on(machines, name, "cat /var/log/k3s-standin.log 2>/dev/null").splitlines()]


def test_check_mode_on_fresh_machines_changes_nothing(machines, inventory):
    path, dummy = inventory
    run = cluster(path, "--check", "--diff")
    assert run.rc == 0, run.failures()
    for name in SERVERS + AGENTS:
        assert on(machines, name, "ls /etc/rancher/k3s /usr/local/bin/k3s /etc/systemd/system/k3s* 2>&1 | "
                                  "grep -c 'No such file'").strip() == "3", name
    assert not (path / "artifacts" / "kubeconfig").exists()


def test_ha_install_then_rerun_changes_and_restarts_nothing(machines, inventory, k8s):
    path, dummy = inventory
    run = cluster(path, "-v")
    assert run.rc == 0, run.failures()
    assert TOKEN not in run.output

    first = {name: starts(machines, name) for name in SERVERS + AGENTS}
    for name in SERVERS + AGENTS:
        assert len(first[name]) == 1 and first[name][0]["started"] and not first[name][0]["unknown"], first[name]
    # the first server initialises the cluster, the others join it, one at a time, then the agent
    order = sorted(SERVERS + AGENTS, key=lambda n: first[n][0]["time"])
    assert order == SERVERS + AGENTS
    server0, server1, agent = (first[n][0]["config"] for n in ("k3s-server-0", "k3s-server-1", "k3s-agent-0"))
    endpoint = "https://%s:6443" % machines["hosts"]["k3s-server-0"]["ansible_host"]
    assert server0["cluster-init"] is True and "server" not in server0
    assert server1["server"] == endpoint and "cluster-init" not in server1
    assert server0["disable"] == ["traefik", "servicelb"] and server0["token-file"] == "/etc/rancher/k3s/token"
    assert agent == {"data-dir": "/var/lib/rancher/k3s", "server": endpoint, "token-file": "/etc/rancher/k3s/token",
                     "node-name": "k3s-agent-0",
                     "node-label": ["nebari.dev/node-group=gpu"], "node-taint": ["nvidia.com/gpu=true:NoSchedule"]}
    # every machine registered its Node with its node group's labels and taints; the role waited for them Ready
    for name in SERVERS + AGENTS:
        node = k8s.read_node(name)
        assert node.metadata.labels["nebari.dev/node-group"] == ("general" if name in SERVERS else "gpu")
        assert node.status.node_info.kubelet_version == VERSION
    assert [(t.key, t.value, t.effect) for t in k8s.read_node("k3s-agent-0").spec.taints] == [
        ("nvidia.com/gpu", "true", "NoSchedule")]
    assert "Kubernetes v1.34" in " ".join(str(m) for m in run.messages("Report the cluster"))
    # the joins were admitted with the token, over the machines' network
    members = on(machines, "k3s-server-0", "cat /var/lib/rancher/k3s/server/standin-members").split("\n")
    assert sorted(filter(None, members)) == ["agent k3s-agent-0", "server k3s-server-1", "server k3s-server-2"]
    assert on(machines, "k3s-agent-0", "stat -c %a /etc/rancher/k3s/token").strip() == "600"
    assert on(machines, "k3s-agent-0", "readlink /usr/local/bin/kubectl").strip() == "k3s"

    kubeconfig = path / "artifacts" / "kubeconfig"
    assert oct(kubeconfig.stat().st_mode & 0o777) == "0o600"
    assert yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"] == endpoint
    # and it works: through the first server's address to the API
    from kubernetes import client, config
    names = [n.metadata.name for n in client.CoreV1Api(config.new_client_from_config(str(kubeconfig))).list_node().items]
    assert set(SERVERS + AGENTS) <= set(names)

    again = cluster(path)
    assert again.rc == 0, again.failures()
    assert {name: again.changed(name) for name in SERVERS + AGENTS + ["localhost"]} == dict.fromkeys(
        SERVERS + AGENTS + ["localhost"], 0)
    assert {name: len(starts(machines, name)) for name in SERVERS + AGENTS} == dict.fromkeys(SERVERS + AGENTS, 1)


def test_changed_config_restarts_only_the_nodes_it_concerns_one_at_a_time(machines, inventory):
    path, write = inventory
    before = {name: len(starts(machines, name)) for name in SERVERS + AGENTS}

    write(k3s_agent_config={"kubelet-arg": ["max-pods=150"]})
    run = cluster(path)
    assert run.rc == 0, run.failures()
    assert [run.changed(n) for n in SERVERS] == [0, 0, 0] and run.changed("k3s-agent-0") == 2  # config, restart
    after = {name: len(starts(machines, name)) for name in SERVERS + AGENTS}
    assert after == dict(before, **{"k3s-agent-0": before["k3s-agent-0"] + 1})
    assert starts(machines, "k3s-agent-0")[-1]["config"]["kubelet-arg"] == ["max-pods=150"]

    t0 = time.time()
    write(k3s_agent_config={"kubelet-arg": ["max-pods=150"]}, k3s_server_config={"etcd-snapshot-retention": 10})
    run = cluster(path)
    assert run.rc == 0, run.failures()
    restarted = {name: starts(machines, name)[-1] for name in SERVERS}
    assert all(entry["time"] > t0 and entry["config"]["etcd-snapshot-retention"] == 10 for entry in restarted.values())
    assert sorted(SERVERS, key=lambda n: restarted[n]["time"]) == SERVERS
    assert len(starts(machines, "k3s-agent-0")) == after["k3s-agent-0"]


def test_a_key_k3s_refuses_fails_the_run_naming_the_service(machines, inventory):
    path, write = inventory
    write(k3s_agent_config={"tls-san": ["api.example.com"]})  # a server flag: k3s agent refuses it
    run = cluster(path)
    assert run.rc != 0
    assert "k3s-agent" in run.failures()
    assert starts(machines, "k3s-agent-0")[-1]["unknown"] == ["tls-san"]
    write()
    fixed = cluster(path)
    assert fixed.rc == 0, fixed.failures()


def test_rolling_upgrade_drains_upgrades_and_uncordons_one_node_at_a_time(machines, inventory, k8s, tmp_path):
    path, write = inventory
    new = "v1.34.3+k3s1"
    t0 = time.time()
    write(k3s_version=new, k3s_airgap_dir=airgap_dir(tmp_path / "airgap-new", new))
    run = cluster(path, playbook="playbooks/upgrade.yml")
    assert run.rc == 0, run.failures()
    restarts = {name: [e for e in starts(machines, name) if e["time"] > t0] for name in SERVERS + AGENTS}
    for name, entries in restarts.items():
        # restarted once, on the new version, while its Node was cordoned; Ready and schedulable again after
        assert [(e["version"], e["cordoned"]) for e in entries] == [(new, True)], (name, entries)
        node = k8s.read_node(name)
        assert node.status.node_info.kubelet_version == new and not node.spec.unschedulable
    assert sorted(SERVERS + AGENTS, key=lambda n: restarts[n][0]["time"]) == SERVERS + AGENTS

    again = cluster(path, playbook="playbooks/upgrade.yml")
    assert again.rc == 0, again.failures()
    assert all(again.changed(name) == 0 for name in SERVERS + AGENTS), again.stats


def test_reset_needs_the_domain_as_confirmation_then_removes_k3s(machines, inventory):
    path, write = inventory
    refused = cluster(path, playbook="playbooks/reset.yml")
    assert refused.rc != 0
    assert "-e nebari_reset_confirm=nebari.example.com" in refused.failures()
    assert on(machines, "k3s-agent-0", "systemctl is-active k3s-agent").strip() == "active"

    run = cluster(path, "-e", "nebari_reset_confirm=nebari.example.com", playbook="playbooks/reset.yml")
    assert run.rc == 0, run.failures()
    for name in SERVERS + AGENTS:
        assert on(machines, name, "systemctl is-active k3s k3s-agent; ls /usr/local/bin /etc/rancher /var/lib/rancher "
                                  "/etc/systemd/system | grep -c k3s").split() == ["inactive", "inactive", "0"], name
    assert not (path / "artifacts" / "kubeconfig").exists()
    again = cluster(path, "-e", "nebari_reset_confirm=nebari.example.com", playbook="playbooks/reset.yml")
    assert again.rc == 0 and all(again.changed(name) == 0 for name in SERVERS + AGENTS), again.stats


def test_kube_vip_servers_join_the_first_server_agents_and_kubeconfig_the_vip(machines, inventory, k8s):
    """From reset machines: with kube-vip the endpoint is a VIP the servers announce. No container runs here, so
    the test does what kube-vip's leader does on a real server: it holds the VIP on the first server's interface."""
    path, write = inventory
    vip = os.environ.get("TH_SUBNET", "10.231.60") + ".200"
    netns = ["ip", "-n", "nbth-k3s-server-0"]
    subprocess.run(netns + ["addr", "add", vip + "/32", "dev", "eth0"], check=True)
    try:
        write(k3s_kube_vip=True, k3s_api_endpoint=vip)
        run = cluster(path)
        assert run.rc == 0, run.failures()
        config = {name: starts(machines, name)[-1]["config"] for name in SERVERS + AGENTS}
        first = "https://%s:6443" % machines["hosts"]["k3s-server-0"]["ansible_host"]
        assert config["k3s-server-1"]["server"] == config["k3s-server-2"]["server"] == first
        assert config["k3s-agent-0"]["server"] == "https://%s:6443" % vip
        assert vip in config["k3s-server-0"]["tls-san"]
        for name in SERVERS:
            manifest = on(machines, name, "cat /var/lib/rancher/k3s/server/manifests/kube-vip.yaml")
            documents = list(yaml.safe_load_all(manifest))
            daemonset = next(d for d in documents if d["kind"] == "DaemonSet")
            env = {e["name"]: e.get("value") for e in daemonset["spec"]["template"]["spec"]["containers"][0]["env"]}
            assert env["address"] == vip and env["port"] == "6443" and env["cp_enable"] == "true", name
            assert [d["kind"] for d in documents] == ["ServiceAccount", "ClusterRole", "ClusterRoleBinding",
                                                      "DaemonSet"]
        assert on(machines, "k3s-agent-0", "ls /var/lib/rancher/k3s/server 2>&1 | grep -c 'No such'").strip() == "1"
        kubeconfig = path / "artifacts" / "kubeconfig"
        assert yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"] == "https://%s:6443" % vip
        again = cluster(path)
        assert again.rc == 0 and all(again.changed(name) == 0 for name in SERVERS + AGENTS), again.stats
    finally:
        subprocess.run(netns + ["addr", "del", vip + "/32", "dev", "eth0"], check=False)
        write()


def test_preflight_refuses_an_even_number_of_servers_before_touching_a_host(machines, inventory):
    path, write = inventory
    inv = yaml.safe_load((path / "hosts.yml").read_text())
    servers = inv["all"]["children"]["k3s_servers"]["hosts"]
    servers["k3s-agent-0"] = inv["all"]["children"]["k3s_agents"]["hosts"].pop("k3s-agent-0")
    (path / "hosts.yml").write_text(yaml.safe_dump(inv))
    write(k3s_version="1.34")
    run = cluster(path)
    assert run.rc != 0
    text = run.failures()
    assert "k3s_servers: 4 servers: embedded etcd needs an odd number" in text
    assert "k3s_version: must be a k3s release tag" in text
    assert all(name == "localhost" for name in run.stats), run.stats
