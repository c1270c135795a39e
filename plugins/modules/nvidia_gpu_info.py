#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: nvidia_gpu_info
short_description: What a host has of NVIDIA GPUs, driver, container toolkit and k3s' nvidia runtime
version_added: 0.1.0
description:
  - Reads, and changes nothing, the NVIDIA devices on the PCI bus (vendor C(0x10de), display class C(0x03xx)) from
    sysfs, whether the C(nvidia) kernel module is loaded and its version (C(/proc/driver/nvidia/version)), whether
    C(nouveau) is loaded, where C(nvidia-smi), C(nvidia-ctk) and C(nvidia-container-runtime) are, and whether the
    containerd configuration that k3s generated offers the C(nvidia) runtime.
  - Needs no driver and no C(lspci), so it answers the same on a host before and after the driver is installed.
    The role C(nebari.platform.nvidia_gpu) and the playbook C(playbooks/gpu_check.yml) run it.
author:
  - nebari.platform maintainers (@nebari-dev)
options:
  sysfs:
    description: Where sysfs is mounted (another directory holding a copy of its tree, for tests).
    type: path
    default: /sys
  procfs:
    description: Where procfs is mounted.
    type: path
    default: /proc
  k3s_data_dir:
    description: k3s' data directory; its generated containerd configuration is read from
      C(agent/etc/containerd/config.toml) there.
    type: path
    default: /var/lib/rancher/k3s
  extra_paths:
    description: Directories searched for the NVIDIA executables besides C(PATH) and those k3s searches
      (C(/usr/local/nvidia/toolkit), C(/usr/bin), C(/usr/local/bin), C(/usr/sbin)).
    type: list
    elements: path
    default: []
attributes:
  check_mode:
    support: full
    description: Reads only.
  diff_mode:
    support: none
    description: Changes nothing, so has nothing to show.
  platform:
    support: full
    platforms: posix
    description: Linux hosts (sysfs and procfs).
"""

EXAMPLES = r"""
- name: Look for NVIDIA GPUs and their software
  nebari.platform.nvidia_gpu_info:
  register: gpu

- name: Report
  ansible.builtin.debug:
    msg: "{{ gpu.gpus | length }} GPU(s), driver {{ gpu.driver.version or 'not loaded' }}"
"""

RETURN = r"""
gpus:
  description: The NVIDIA display-class PCI devices, in bus order.
  returned: always
  type: list
  elements: dict
  sample: [{address: "0000:3b:00.0", device_id: "0x20b0", class: "0x030200", kernel_driver: nvidia}]
nouveau_loaded:
  description: Whether the nouveau kernel module is loaded (it must not be, for the NVIDIA driver to load).
  returned: always
  type: bool
driver:
  description: The NVIDIA kernel module, C(loaded) and C(version) ("" when not loaded).
  returned: always
  type: dict
  sample: {loaded: true, version: "580.95.05"}
executables:
  description: Paths of C(nvidia-smi), C(nvidia-ctk) and C(nvidia-container-runtime) ("" when not found).
  returned: always
  type: dict
  sample:
    nvidia-smi: /usr/bin/nvidia-smi
    nvidia-ctk: /usr/bin/nvidia-ctk
    nvidia-container-runtime: /usr/bin/nvidia-container-runtime
k3s_containerd:
  description: The containerd configuration k3s generated (C(path), C(exists)), its C(version) (2 or 3; 0 when
    absent) and whether it offers the C(nvidia) runtime (C(nvidia_runtime)).
  returned: always
  type: dict
  sample:
    path: /var/lib/rancher/k3s/agent/etc/containerd/config.toml
    exists: true
    version: 3
    nvidia_runtime: true
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule

NVIDIA_VENDOR = "0x10de"
EXECUTABLES = ("nvidia-smi", "nvidia-ctk", "nvidia-container-runtime")
SEARCH_PATHS = ["/usr/local/nvidia/toolkit", "/usr/bin", "/usr/local/bin", "/usr/sbin"]
# containerd config v2: [plugins."io.containerd.grpc.v1.cri".containerd.runtimes."nvidia"]
# containerd config v3: [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.'nvidia']
NVIDIA_RUNTIME = re.compile(r"""^\s*\[plugins\..*\.runtimes\.["']?nvidia["']?\]\s*$""", re.M)
CONFIG_VERSION = re.compile(r"^\s*version\s*=\s*(\d+)\s*$", re.M)
DRIVER_VERSION = re.compile(r"Kernel Module\s+(?:for \S+\s+)?(\d+\.\d+(?:\.\d+)?)")


def read(path):
    try:
        with open(path) as handle:
            return handle.read().strip()
    except (IOError, OSError):
        return ""


def pci_gpus(sysfs):
    root = os.path.join(sysfs, "bus", "pci", "devices")
    gpus = []
    for address in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        device = os.path.join(root, address)
        if read(os.path.join(device, "vendor")).lower() != NVIDIA_VENDOR:
            continue
        pci_class = read(os.path.join(device, "class")).lower()
        if not pci_class.startswith("0x03"):
            continue  # the GPU's audio and USB functions, NVSwitches
        driver = os.path.join(device, "driver")
        gpus.append({
            "address": address,
            "device_id": read(os.path.join(device, "device")).lower(),
            "class": pci_class,
            "kernel_driver": os.path.basename(os.path.realpath(driver)) if os.path.exists(driver) else "",
        })
    return gpus


def driver_state(procfs):
    text = read(os.path.join(procfs, "driver", "nvidia", "version"))
    match = DRIVER_VERSION.search(text)
    return {"loaded": bool(text), "version": match.group(1) if match else ""}


def find_executable(module, name, search_paths):
    found = module.get_bin_path(name, required=False, opt_dirs=search_paths)
    return found or ""


def containerd_state(data_dir):
    path = os.path.join(data_dir, "agent", "etc", "containerd", "config.toml")
    text = read(path)
    version = CONFIG_VERSION.search(text)
    return {
        "path": path,
        "exists": os.path.exists(path),
        "version": int(version.group(1)) if version else (2 if text else 0),
        "nvidia_runtime": bool(NVIDIA_RUNTIME.search(text)),
    }


def main():
    module = AnsibleModule(
        argument_spec=dict(
            sysfs=dict(type="path", default="/sys"),
            procfs=dict(type="path", default="/proc"),
            k3s_data_dir=dict(type="path", default="/var/lib/rancher/k3s"),
            extra_paths=dict(type="list", elements="path", default=[]),
        ),
        supports_check_mode=True,
    )
    params = module.params
    module.exit_json(
        changed=False,
        gpus=pci_gpus(params["sysfs"]),
        nouveau_loaded=os.path.isdir(os.path.join(params["sysfs"], "module", "nouveau")),
        driver=driver_state(params["procfs"]),
        executables=dict((name, find_executable(module, name, params["extra_paths"] + SEARCH_PATHS)) for name in EXECUTABLES),
        k3s_containerd=containerd_state(params["k3s_data_dir"]),
    )


if __name__ == "__main__":
    main()
