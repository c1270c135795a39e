"""What the GPU tests put on a test host (tests/testhosts) to stand in for GPU hardware, its driver and k3s'
containerd, and the stand-in NVIDIA packages served to it. None of it is NVIDIA software; docs/gpu.md says what
only a real GPU machine verifies.

- fake_gpu(): a sysfs tree with one NVIDIA A100 (vendor 0x10de, class 0x0302) and its audio function, and an empty
  procfs tree; role nvidia_gpu reads them through nvidia_gpu_sysfs / nvidia_gpu_procfs. driver_loaded() writes
  /proc/driver/nvidia/version into that tree, as the loaded module would after a reboot.
- K3S_CONTAINERD: a k3s-agent unit that does what k3s does with containerd's configuration when it starts: looks
  for nvidia-container-runtime where k3s looks, generates config.toml (v3) with the nvidia runtime when found, or
  renders config-v3.toml.tmpl (its {{ template "base" . }}) when present; logs each start.
- package_repo(): stand-in .deb packages (dpkg-deb) with the names and versions the role installs, and their flat
  apt repository index.
"""

from __future__ import annotations

import hashlib
import os
import subprocess

SYSFS = "/srv/fake-sys"
PROCFS = "/srv/fake-proc"
A100 = "0000:3b:00.0"


def fake_gpu():
    device = "%s/bus/pci/devices/%s" % (SYSFS, A100)
    audio = "%s/bus/pci/devices/0000:3b:00.1" % SYSFS
    return ("mkdir -p %(d)s %(a)s %(p)s && echo 0x10de > %(d)s/vendor && echo 0x20b0 > %(d)s/device && "
            "echo 0x030200 > %(d)s/class && echo 0x10de > %(a)s/vendor && echo 0x1aef > %(a)s/device && "
            "echo 0x040300 > %(a)s/class" % {"d": device, "a": audio, "p": PROCFS})


def driver_loaded(version="580.95.05"):
    return ("mkdir -p %s/driver/nvidia && echo 'NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  %s  "
            "Release Build' > %s/driver/nvidia/version" % (PROCFS, version, PROCFS))


K3S_CONTAINERD = r'''
import os, signal, time
DIR = "/var/lib/rancher/k3s/agent/etc/containerd"
BASE = ("version = 3\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.'runc']\n"
        "  runtime_type = \"io.containerd.runc.v2\"\n")
NVIDIA = ("[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.'nvidia']\n"
          "  runtime_type = \"io.containerd.runc.v2\"\n"
          "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.'nvidia'.options]\n  BinaryName = \"%s\"\n")
os.makedirs(DIR, exist_ok=True)
found = [p for p in ("/usr/local/nvidia/toolkit/nvidia-container-runtime", "/usr/bin/nvidia-container-runtime")
         if os.path.exists(p)]
text = BASE + (NVIDIA % found[0] if found else "")
if os.path.exists(DIR + "/config-v3.toml.tmpl"):
    with open(DIR + "/config-v3.toml.tmpl") as f:
        text = f.read().replace('{{ template "base" . }}', BASE)
with open(DIR + "/config.toml", "w") as f:
    f.write(text)
with open("/var/log/k3s-containerd-standin.log", "a") as f:
    f.write("start nvidia=%s\n" % bool(found))
signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
while True:
    time.sleep(3600)
'''

K3S_UNIT = """[Unit]
Description=k3s agent (stand-in: containerd configuration only)
[Service]
ExecStart=/usr/bin/python3 /usr/local/lib/k3s-containerd-standin.py
[Install]
WantedBy=multi-user.target
"""

SCRIPT = "#!/bin/sh\necho '%s'\n"
# name -> (version, {path: content}); the versions the role pins
PACKAGES = {
    "dkms": ("3.0.10-8", {}),
    "cuda-drivers-580": ("580.95.05-1", {"usr/bin/nvidia-smi": SCRIPT % "GPU 0: NVIDIA A100-PCIE-40GB (stand-in)"}),
    "nvidia-container-toolkit": ("1.18.0-1", {
        "usr/bin/nvidia-ctk": SCRIPT % "NVIDIA Container Toolkit CLI version 1.18.0 (stand-in)",
        "usr/bin/nvidia-container-runtime": SCRIPT % "stand-in runtime"}),
    "nvidia-container-toolkit-base": ("1.18.0-1", {}),
    "libnvidia-container-tools": ("1.18.0-1", {}),
    "libnvidia-container1": ("1.18.0-1", {}),
}


def package_repo(path, kernel):
    """Build the stand-in packages (and linux-headers-<kernel>) into path with their Packages index."""
    packages = dict(PACKAGES, **{"linux-headers-%s" % kernel: ("1", {})})
    path.mkdir(parents=True, exist_ok=True)
    index = []
    for name, (version, files) in sorted(packages.items()):
        root = path.parent / ("build-" + name)
        (root / "DEBIAN").mkdir(parents=True, exist_ok=True)
        control = ("Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: nebari.platform tests <tests@localhost>\n"
                   "Description: stand-in for %s (tests only; installs no NVIDIA software)\n" % (name, version, name))
        (root / "DEBIAN" / "control").write_text(control)
        for relative, content in files.items():
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
            os.chmod(str(target), 0o755)
        deb = path / ("%s_%s_all.deb" % (name, version))
        subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(root), str(deb)], check=True, capture_output=True)
        data = deb.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        index.append(control + "Filename: ./%s\nSize: %d\nSHA256: %s\n" % (deb.name, len(data), digest))
    (path / "Packages").write_text("\n".join(index))
    return str(path)
