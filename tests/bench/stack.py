"""Benchmark: the stack layer on the sandbox (9 stand-in releases on the test bed), whole ansible-playbook wall time.

In a namespace of its own: a deploy (`site.yml --tags cluster,stack`, every release installed and waited for),
then no-op re-runs of `--tags stack` (what an operator runs after changing nothing, or only users), each checked
for changed=0. The test bed must be up (make testbed-up).

usage: .venv/bin/python tests/bench/stack.py [--noop-runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from playbook_timer import run  # noqa: E402  pylint: disable=wrong-import-position

STATE = os.environ.get("TESTBED_STATE", os.path.join(ROOT, ".testbed"))
SANDBOX = os.path.join(ROOT, "inventories", "sandbox")


def changed(recap):
    return int(next(field.split("=")[1] for field in recap if field.startswith("changed=")))


def measure(label, noop_runs, **variables):  # variables: extra vars, to compare settings
    namespace = "bench-stack-%s-%d" % (label, os.getpid())
    artifacts = tempfile.mkdtemp(prefix="bench-stack-")
    variables.update(nebari_namespace=namespace, nebari_kubeconfig=os.path.join(artifacts, "kubeconfig"))
    try:
        deploy, recap = run("site.yml", variables, SANDBOX, ["--tags", "cluster,stack"])
        print("%-10s deploy  %6.1f s  changed=%d" % (label, deploy, changed(recap)), flush=True)
        noops = []
        for dummy in range(noop_runs):
            seconds, recap = run("site.yml", variables, SANDBOX, ["--tags", "stack"])
            if changed(recap):
                sys.exit("%s: the no-op re-run changed %d tasks" % (label, changed(recap)))
            noops.append(seconds)
            print("%-10s no-op   %6.1f s  changed=0" % (label, seconds), flush=True)
        return deploy, statistics.median(noops)
    finally:
        subprocess.run([os.path.join(STATE, "bin", "kubectl"), "--kubeconfig", os.path.join(STATE, "kubeconfig"),
                        "delete", "namespace", namespace, "--wait=false"], capture_output=True, check=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--noop-runs", type=int, default=3)
    args = parser.parse_args()
    deploy, noop = measure("stack", args.noop_runs)
    print("stack: deploy %.1f s, no-op median %.1f s" % (deploy, noop))


if __name__ == "__main__":
    main()
