"""Every molecule scenario (molecule/*/) against the test bed: converge, idempotence, verify, cleanup."""

from __future__ import annotations

import glob
import os
import subprocess

import pytest

from conftest import BIN, ROOT

SCENARIOS = sorted(os.path.basename(os.path.dirname(path))
                   for path in glob.glob(os.path.join(ROOT, "molecule", "*", "molecule.yml")))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_scenario(testbed, scenario):
    env = {k: v for k, v in os.environ.items() if k != "ANSIBLE_CONFIG"}
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")  # molecule runs ansible-config and ansible-playbook
    env["NO_COLOR"] = "1"
    proc = subprocess.run([os.path.join(BIN, "molecule"), "test", "-s", scenario], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    assert "idempotence: Executed: Successful" in output.replace("➜ ", "")
