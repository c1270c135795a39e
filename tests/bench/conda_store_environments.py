"""Benchmark: N environments across M namespaces against the test bed's conda-store, whole ansible-playbook wall time.

Runs, in one go and against the same conda-store: nebari.platform.conda_store_environments creating the
environments then no-op re-runs (--noop-runs), and (unless --skip-loop) loops of ansible.builtin.uri doing the
same in namespaces of their own. Before each no-op run it waits until conda-store's worker has no queued build left
(the builds of the creation fail here, as nothing can be downloaded), so the no-op is timed on an idle server, as a
later run would be. Prints each time and the ratios of the medians. The test bed must be up (make testbed-up).

usage: .venv/bin/python tests/bench/conda_store_environments.py [--environments 200] [--namespaces 10]
       [--noop-runs 3] [--loop-noop-runs 1] [--skip-loop]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from condastore import CondaStore  # noqa: E402  pylint: disable=wrong-import-position
from playbook_timer import run  # noqa: E402  pylint: disable=wrong-import-position

STATE = os.environ.get("TESTBED_STATE", os.path.join(ROOT, ".testbed"))
URL = "http://127.0.0.1:%s/conda-store" % os.environ.get("TB_CONDA_STORE_PORT", "18181")
PACKAGES = ["numpy", "pandas", "scipy", "scikit-learn", "matplotlib", "xarray", "dask", "polars"]


def environments(prefix, count, namespaces):
    envs = []
    for i in range(count):
        env = {"namespace": "%s-%02d" % (prefix, i % namespaces), "name": "env-%03d" % i, "channels": ["conda-forge"],
               "dependencies": ["python=3.12"] + PACKAGES[i % 4:i % 4 + 3], "description": "bench %d" % i}
        if i % 3 == 0:
            env["dependencies"].append({"pip": ["requests==2.32.3"]})
        envs.append(env)
    return envs


def wait_idle(store, timeout=900):
    """Until no build is queued or building (the worker fails each in a second or two here)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = [store.call("GET", "/build/?status=%s&size=1" % status) for status in ("QUEUED", "BUILDING")]
        if not any(busy):
            return
        time.sleep(2)


def measure(name, playbook, store, token, args, noop_runs):
    prefix = "bench-%s-%d" % (os.path.basename(playbook)[13:-4], os.getpid())
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"environments": environments(prefix, args.environments, args.namespaces)}, f)
    variables = {"bench_url": URL, "bench_token": token, "bench_environments_file": f.name,
                 "ansible_python_interpreter": os.path.join(ROOT, ".venv", "bin", "python")}
    create, create_recap = run(playbook, variables)
    print("%-46s create %7.1f s (%s)" % (name, create, " ".join(create_recap[1:2])), flush=True)
    noops = []
    for dummy in range(noop_runs):
        wait_idle(store)
        noops.append(run(playbook, variables))
    noop = sorted(t for t, dummy in noops)[len(noops) // 2]
    print("%-46s no-op  %7.1f s median, runs %s (%s)"
          % (name, noop, " ".join("%.1f" % t for t, dummy in noops), " ".join(noops[-1][1][1:2])), flush=True)
    wait_idle(store)
    for i in range(args.namespaces):
        store.call("DELETE", "/namespace/%s-%02d/" % (prefix, i))
    os.unlink(f.name)
    return create, noop


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--environments", type=int, default=200)
    parser.add_argument("--namespaces", type=int, default=10)
    parser.add_argument("--noop-runs", type=int, default=3)
    parser.add_argument("--loop-noop-runs", type=int, default=1, help="no-op runs of the (slow) uri loops")
    parser.add_argument("--skip-loop", action="store_true")
    args = parser.parse_args()
    with open(os.path.join(STATE, "secrets", "conda-store-token")) as f:
        token = f.read().strip()
    store = CondaStore(URL, token)
    print("%d environments in %d namespaces, conda-store at %s" % (args.environments, args.namespaces, URL),
          flush=True)
    ours = measure("nebari.platform.conda_store_environments", "tests/bench/playbooks/environments_ours.yml", store,
                   token, args, args.noop_runs)
    if not args.skip_loop:
        loop = measure("loops of ansible.builtin.uri", "tests/bench/playbooks/environments_uri.yml", store, token,
                       args, args.loop_noop_runs)
        print("speed-up: create %.1fx, no-op %.1fx" % (loop[0] / ours[0], loop[1] / ours[1]))


if __name__ == "__main__":
    main()
