"""nvidia_gpu_info reads a host's GPUs and NVIDIA software; here against sysfs/procfs trees laid out as on a real
host (one A100 with its driver bound, its audio function, an NVSwitch, an Intel VGA device)."""

import os

from ansible_collections.nebari.platform.plugins.modules import nvidia_gpu_info as info


def device(sysfs, address, vendor, device_id, pci_class, driver=None):
    path = sysfs / "bus" / "pci" / "devices" / address
    path.mkdir(parents=True)
    for name, value in (("vendor", vendor), ("device", device_id), ("class", pci_class)):
        (path / name).write_text(value + "\n")
    if driver:
        target = sysfs / "bus" / "pci" / "drivers" / driver
        target.mkdir(parents=True, exist_ok=True)
        os.symlink(str(target), str(path / "driver"))


def test_only_nvidia_display_devices_count_as_gpus(tmp_path):
    device(tmp_path, "0000:00:02.0", "0x8086", "0x3e92", "0x030000", "i915")
    device(tmp_path, "0000:3b:00.0", "0x10de", "0x20B0", "0x030200", "nvidia")
    device(tmp_path, "0000:3b:00.1", "0x10de", "0x1aef", "0x040300")
    device(tmp_path, "0000:5e:00.0", "0x10de", "0x1af1", "0x068000")
    device(tmp_path, "0000:af:00.0", "0x10de", "0x2204", "0x030000")
    assert info.pci_gpus(str(tmp_path)) == [
        {"address": "0000:3b:00.0", "device_id": "0x20b0", "class": "0x030200", "kernel_driver": "nvidia"},
        {"address": "0000:af:00.0", "device_id": "0x2204", "class": "0x030000", "kernel_driver": ""},
    ]


def test_a_host_without_a_pci_bus_in_sysfs_has_no_gpus(tmp_path):
    assert info.pci_gpus(str(tmp_path)) == []


def test_driver_version_from_procfs(tmp_path):
    assert info.driver_state(str(tmp_path)) == {"loaded": False, "version": ""}
    (tmp_path / "driver" / "nvidia").mkdir(parents=True)
    (tmp_path / "driver" / "nvidia" / "version").write_text(
        "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.95.05  Release Build  (dvs-builder@U16)\n"
        "GCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n")
    assert info.driver_state(str(tmp_path)) == {"loaded": True, "version": "580.95.05"}
    (tmp_path / "driver" / "nvidia" / "version").write_text(
        "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.127.05  Tue Oct  8 03:22:07 UTC 2024\n")
    assert info.driver_state(str(tmp_path))["version"] == "550.127.05"


def containerd(tmp_path, text):
    path = tmp_path / "agent" / "etc" / "containerd"
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.toml").write_text(text)
    return info.containerd_state(str(tmp_path))


def test_the_nvidia_runtime_in_k3s_containerd_config_v2_and_v3(tmp_path):
    assert info.containerd_state(str(tmp_path))["exists"] is False
    v2 = containerd(tmp_path, 'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes."runc"]\n'
                              '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes."nvidia"]\n'
                              '  runtime_type = "io.containerd.runc.v2"\n')
    assert (v2["version"], v2["nvidia_runtime"]) == (2, True)
    v3 = containerd(tmp_path, "version = 3\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.'nvidia']\n")
    assert (v3["version"], v3["nvidia_runtime"]) == (3, True)
    none = containerd(tmp_path, "version = 3\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.'runc']\n"
                                "# runtimes.'nvidia' is not here\n")
    assert none["nvidia_runtime"] is False
