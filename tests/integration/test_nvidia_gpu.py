"""Role nvidia_gpu on real machines (tests/testhosts, Debian booted with systemd-nspawn, reached over ssh): the
node layer's GPU play (`playbooks/nodes.yml --tags gpu`) with apt pointed at a package directory of stand-in NVIDIA
packages (nvidia_gpu_package_dir, the airgap path), detection reading a prepared sysfs tree with one A100, and a
k3s-agent unit that generates containerd's configuration as k3s does. The RuntimeClass goes to the test bed's real
API server. What only a real GPU machine verifies (the driver building and loading, the toolkit running
containers): docs/gpu.md, and playbooks/gpu_check.yml to run there.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess

import kubernetes
import pytest
import yaml

import gpuhost
from test_k3s import TESTHOSTS, cluster, k3s_site_vars, on

GPU, PLAIN = "nvgpu-0", "nvplain-0"


@pytest.fixture(scope="module")
def machines(testbed, k8s):
    proc = subprocess.run([TESTHOSTS, "up", GPU, PLAIN], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    hosts = yaml.safe_load(proc.stdout)["all"]
    on(hosts, GPU, gpuhost.fake_gpu())
    script = base64.b64encode(gpuhost.K3S_CONTAINERD.encode()).decode()
    unit = base64.b64encode(gpuhost.K3S_UNIT.encode()).decode()
    on(hosts, GPU, "echo %s | base64 -d > /usr/local/lib/k3s-containerd-standin.py && echo %s | base64 -d > "
                   "/etc/systemd/system/k3s-agent.service && systemctl daemon-reload && "
                   "systemctl enable --now k3s-agent" % (script, unit))
    yield hosts
    subprocess.run([TESTHOSTS, "down", GPU, PLAIN], capture_output=True, check=False)
    try:
        kubernetes.client.NodeV1Api(k8s.api_client).delete_runtime_class("nvidia")
    except Exception:  # pylint: disable=broad-except
        pass


@pytest.fixture(scope="module")
def inventory(machines, testbed, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("gpu")
    hosts = machines["hosts"]
    kernel = subprocess.run(["uname", "-r"], capture_output=True, text=True, check=True).stdout.strip()
    repo = gpuhost.package_repo(tmp_path / "nvidia-packages", kernel)
    (tmp_path / "artifacts").mkdir()
    shutil.copy(testbed["kubeconfig"], str(tmp_path / "artifacts" / "kubeconfig"))

    def write(plain_group="general"):
        inv = {"all": {
            "vars": machines["vars"],
            "hosts": {"localhost": {"ansible_connection": "local",
                                    "ansible_python_interpreter": "{{ ansible_playbook_python }}"}},
            "children": {"k3s_servers": {"hosts": {PLAIN: dict(ansible_host=hosts[PLAIN]["ansible_host"],
                                                               nebari_node_group=plain_group)}},
                         "k3s_agents": {"hosts": {GPU: dict(ansible_host=hosts[GPU]["ansible_host"],
                                                            nebari_node_group="gpu")}}}}}
        (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inv))
        (tmp_path / "group_vars" / "all").mkdir(parents=True, exist_ok=True)
        values = dict(k3s_site_vars(tmp_path), **{
            # stand-ins for the hardware and the packages (tests/integration/gpuhost.py)
            "nvidia_gpu_sysfs": gpuhost.SYSFS,
            "nvidia_gpu_procfs": gpuhost.PROCFS,
            "nvidia_gpu_package_dir": repo,
        })
        (tmp_path / "group_vars" / "all" / "nebari.yml").write_text(yaml.safe_dump(values))

    write()
    return tmp_path, write


def gpu_layer(path, *args):
    return cluster(path, "--tags", "gpu", *args, playbook="playbooks/nodes.yml")


def installed(machines, name):
    return on(machines, name, "dpkg-query -W -f '${Package}=${Version}\\n' 'cuda-drivers-*' 'nvidia-container-*' "
                              "'libnvidia-container*' 2>/dev/null").split()


def test_preflight_refuses_a_gpu_group_host_without_a_gpu_and_changes_nothing(machines, inventory):
    path, write = inventory
    write(plain_group="gpu")
    run = gpu_layer(path)
    assert run.rc != 0
    failures = run.failures()
    assert "Host %s is in node group gpu (gpu: true) but has no NVIDIA GPU on its PCI bus" % PLAIN in failures
    assert "Nothing was changed" in failures and "Host %s" % GPU not in failures
    assert run.stats.get(GPU, {}).get("changed", 0) == 0
    for name in (GPU, PLAIN):
        assert on(machines, name, "find /etc/apt/sources.list.d /etc/modprobe.d -type f").split() == [], name
    write()


def test_check_mode_changes_nothing(machines, inventory):
    path, dummy = inventory
    run = gpu_layer(path, "--check", "--diff")
    assert run.rc == 0, run.failures()
    assert run.changed(GPU) > 0 and run.changed(PLAIN) == 0
    assert on(machines, GPU, "find /etc/apt/sources.list.d /etc/modprobe.d /var/lib/nebari -type f 2>/dev/null").split() == []
    assert installed(machines, GPU) == []


def test_install_then_rerun_changes_nothing(machines, inventory, k8s):
    path, dummy = inventory
    run = gpu_layer(path)
    assert run.rc == 0, run.failures()
    assert sorted(installed(machines, GPU)) == [
        "cuda-drivers-580=580.95.05-1", "libnvidia-container-tools=1.18.0-1", "libnvidia-container1=1.18.0-1",
        "nvidia-container-toolkit-base=1.18.0-1", "nvidia-container-toolkit=1.18.0-1"]
    assert installed(machines, PLAIN) == [] and run.changed(PLAIN) == 0
    assert "blacklist nouveau" in on(machines, GPU, "cat /etc/modprobe.d/nebari-blacklist-nouveau.conf")
    # k3s restarted once after the toolkit arrived, found the runtime itself: no template needed
    assert on(machines, GPU, "cat /var/log/k3s-containerd-standin.log").split("\n")[:2] == [
        "start nvidia=False", "start nvidia=True"]
    assert on(machines, GPU, "ls /var/lib/rancher/k3s/agent/etc/containerd").split() == ["config.toml"]
    assert kubernetes.client.NodeV1Api(k8s.api_client).read_runtime_class("nvidia").handler == "nvidia"
    # the stand-in driver cannot load in a container: a reboot is needed, and not allowed by default
    (message,) = run.messages("Hosts that need a reboot for their driver")
    assert message.startswith("REBOOT NEEDED: %s: the NVIDIA driver is not loaded (modprobe nvidia:" % GPU), message

    again = gpu_layer(path)
    assert again.rc == 0, again.failures()
    assert (again.changed(GPU), again.changed(PLAIN)) == (0, 0), again.output[-3000:]
    assert len(on(machines, GPU, "cat /var/log/k3s-containerd-standin.log").split("\n")) == 3  # two starts + ""

    # as after the reboot: the module is loaded, nothing to report and nothing to change
    on(machines, GPU, gpuhost.driver_loaded())
    after = gpu_layer(path)
    assert after.rc == 0, after.failures()
    assert after.changed(GPU) == 0
    assert after.messages("Hosts that need a reboot for their driver") == []


def test_a_runtime_k3s_does_not_find_is_templated(machines, inventory):
    """With the runtime where k3s does not look, the role templates it (config-v3.toml.tmpl) and verifies it."""
    path, dummy = inventory
    on(machines, GPU, "mkdir -p /opt/nvidia && mv /usr/bin/nvidia-container-runtime /opt/nvidia/ && "
                      "systemctl restart k3s-agent")
    run = gpu_layer(path, "-e", json.dumps({"nvidia_gpu_runtime_dirs": ["/opt/nvidia"]}))
    assert run.rc == 0, run.failures()
    template = on(machines, GPU, "cat /var/lib/rancher/k3s/agent/etc/containerd/config-v3.toml.tmpl")
    assert '{{ template "base" . }}' in template and 'BinaryName = "/opt/nvidia/nvidia-container-runtime"' in template
    assert "runtimes.'nvidia'" in on(machines, GPU, "cat /var/lib/rancher/k3s/agent/etc/containerd/config.toml")
    again = gpu_layer(path, "-e", json.dumps({"nvidia_gpu_runtime_dirs": ["/opt/nvidia"]}))
    assert again.rc == 0 and again.changed(GPU) == 0


def test_gpu_check_reports_what_the_host_has(machines, inventory, tmp_path):
    path, dummy = inventory
    report = tmp_path / "gpu.json"
    run = cluster(path, "-e", json.dumps({"gpu_check_hosts": GPU, "gpu_check_report": str(report)}),
                  playbook="playbooks/gpu_check.yml")
    assert run.rc == 0, run.failures()
    seen = json.loads(report.read_text())[GPU]
    assert [gpu["address"] for gpu in seen["gpus"]] == [gpuhost.A100]
    assert seen["driver"] == {"loaded": True, "version": "580.95.05"}
    assert seen["nvidia_smi"] == ["GPU 0: NVIDIA A100-PCIE-40GB (stand-in)"]
    assert seen["nvidia_ctk"][0].startswith("NVIDIA Container Toolkit CLI version 1.18.0")
    assert seen["k3s_containerd"]["nvidia_runtime"] is True
