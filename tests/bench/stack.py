"""Benchmark: a no-op `--tags stack` run on the sandbox, this checkout against an earlier commit.

The sandbox's stack (the real charts from the airgap directory, as `make sandbox` deploys it) in its own namespace
(`dev`: the real charts' cluster-wide objects belong to one namespace at a time): a converge from this checkout
(`site.yml --tags cluster,stack`; quick when the sandbox is already deployed), then --runs no-op runs of
`site.yml --tags stack` from this checkout and from a copy of an earlier commit (--baseline, default edc5a05: one
kubernetes.core.helm task per release), taken in turns so that both see the same load, each checked for
changed=0. Prints every time and the medians. --skip-summary leaves the summary play (tagged stack too) out, to
time the stack layer alone. The test bed must be up (make testbed-up).

usage: .venv/bin/python tests/bench/stack.py [--runs 5] [--baseline edc5a05] [--skip-baseline] [--namespace dev]
                                             [--skip-summary]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from playbook_timer import changed, checkout, compare_noops, run  # noqa: E402  pylint: disable=wrong-import-position


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="no-op runs of each")
    parser.add_argument("--baseline", default="edc5a05", help="the earlier commit to compare with")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--namespace", default="dev")
    parser.add_argument("--skip-summary", action="store_true", help="--skip-tags summary in the no-op runs")
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="bench-stack-")
    roots = {"new": ROOT}
    if not args.skip_baseline:
        roots[args.baseline] = os.path.join(scratch, "baseline")
        os.makedirs(roots[args.baseline])
        checkout(args.baseline, roots[args.baseline])
    # one kubeconfig (the cluster layer writes it) for both checkouts
    variables = {"nebari_namespace": args.namespace, "nebari_kubeconfig": os.path.join(scratch, "kubeconfig")}
    try:
        seconds, recap = run("site.yml", variables, os.path.join(ROOT, "inventories", "sandbox"),
                             ["--tags", "cluster,stack"])
        print("%-8s converge %6.1f s  changed=%d" % ("new", seconds, changed(recap)), flush=True)

        def once(label):
            return run("site.yml", variables, os.path.join(roots[label], "inventories", "sandbox"),
                       ["--tags", "stack"] + (["--skip-tags", "summary"] if args.skip_summary else []),
                       root=roots[label])

        compare_noops(args.runs, once, list(roots), args.baseline, "new")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
