"""Benchmark: preflight of an inventory with N users, whole ansible-playbook wall and CPU time.

Copies the sandbox inventory (inventories/sandbox) into a temporary directory, puts N users in nebari_users and
points the test bed's paths at stand-in files there (no test bed, no cluster, airgap off), then runs
playbooks/preflight.yml --runs times and prints each run's wall time and CPU time (user + system of ansible-playbook
and its workers: less sensitive to other load on the machine than the wall time), and their medians. With
--users 0 it times the same inventory with the sandbox's own users, the run's fixed cost.

usage: .venv/bin/python tests/bench/preflight_users.py [--users 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from playbook_timer import ROOT, run  # noqa: E402  pylint: disable=wrong-import-position

COMBOS = [["analyst"], ["developer"], ["admin", "developer"]]
SECRETS = ("keycloak-admin-password", "conda-store-token", "jupyterhub-client-secret", "alia-initial-password")


def users(count):
    return [{"username": "u%05d" % i, "email": "u%05d@example.test" % i, "first_name": "First%d" % i,
             "last_name": "Last%d" % i, "groups": COMBOS[i % 3]} for i in range(1, count + 1)]


def inventory(workdir, count):
    """The sandbox inventory with `count` more users, its test-bed paths pointing at stand-ins under workdir."""
    inv = os.path.join(workdir, "inventory")
    shutil.copytree(os.path.join(ROOT, "inventories", "sandbox"), inv)
    state = os.path.join(workdir, "state")
    os.makedirs(os.path.join(state, "secrets"))
    os.makedirs(os.path.join(state, "bin"))
    for name in SECRETS:
        with open(os.path.join(state, "secrets", name), "w") as f:
            f.write("stand-in\n")
    open(os.path.join(state, "kubeconfig"), "w").close()
    with open(os.path.join(state, "bin", "helm"), "w") as f:
        f.write("#!/bin/sh\n")
    os.chmod(os.path.join(state, "bin", "helm"), 0o755)
    with open(os.path.join(inv, "group_vars", "all", "zz_bench.yml"), "w") as f:
        yaml.safe_dump({"sandbox_state_dir": state, "nebari_airgap": False}, f)
    path = os.path.join(inv, "group_vars", "all", "users.yml")
    with open(path) as f:
        data = yaml.safe_load(f)
    data["nebari_users"] = data["nebari_users"] + users(count)
    with open(path, "w") as f:
        yaml.safe_dump(data, f)
    return inv


def cpu_of_children():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="bench-preflight-")
    try:
        inv = inventory(workdir, args.users)
        walls, cpus = [], []
        for dummy in range(args.runs):
            cpu = cpu_of_children()
            wall, recap = run("playbooks/preflight.yml", {}, inventory=inv)
            walls.append(wall)
            cpus.append(cpu_of_children() - cpu)
            print("preflight, %d users: %6.2f s wall, %6.2f s CPU (%s)" % (args.users, wall, cpus[-1],
                                                                           " ".join(recap[:1])), flush=True)
        print("median: %.2f s wall, %.2f s CPU over %d runs" % (sorted(walls)[len(walls) // 2],
                                                                sorted(cpus)[len(cpus) // 2], args.runs))
    finally:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
