"""Benchmark: the realm's shape (keycloak_realm role) on the sandbox, no-op runs, against an earlier commit's role.

Runs `playbooks/identity.yml --skip-tags users` (preflight, then the keycloak_realm role) against the test bed's
Keycloak, from this checkout and from a copy of an earlier commit (--baseline, default 7abdc3c: the role as ~52
community.general.keycloak_* calls), each in a realm of its own: a first run that creates the realm, then --runs
no-op re-runs of each, taken in turns so that both see the same load, each checked for changed=0. Prints every
time and the medians. The test bed must be up (make testbed-up).

usage: .venv/bin/python tests/bench/keycloak_realm.py [--runs 5] [--baseline 7abdc3c] [--skip-baseline]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keycloak import Admin  # noqa: E402  pylint: disable=wrong-import-position
from playbook_timer import changed, checkout, compare_noops, run  # noqa: E402  pylint: disable=wrong-import-position

STATE = os.environ.get("TESTBED_STATE", os.path.join(ROOT, ".testbed"))
URL = "http://127.0.0.1:%s/auth" % os.environ.get("TB_KEYCLOAK_PORT", "18080")
PLAYBOOK = "playbooks/identity.yml"
ARGS = ["--skip-tags", "users"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="no-op runs of each")
    parser.add_argument("--baseline", default="7abdc3c", help="the earlier commit to compare with")
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    with open(os.path.join(STATE, "secrets", "keycloak-admin-password")) as f:
        password = f.read().strip()
    scratch = tempfile.mkdtemp(prefix="bench-realm-")
    roots = {"module": ROOT}
    if not args.skip_baseline:
        roots[args.baseline] = os.path.join(scratch, "baseline")
        os.makedirs(roots[args.baseline])
        checkout(args.baseline, roots[args.baseline])
    realms = dict((label, "bench-realm-%d-%d" % (index, os.getpid())) for index, label in enumerate(roots))
    try:
        def once(label):
            variables = {"nebari_namespace": realms[label], "keycloak_realm_name": realms[label],
                         "nebari_users_realm": realms[label], "nebari_keycloak_url": URL,
                         "nebari_kubeconfig": os.path.join(scratch, label + "-artifacts", "kubeconfig")}
            return run(PLAYBOOK, variables, os.path.join(roots[label], "inventories", "sandbox"), ARGS,
                       root=roots[label])

        for label in roots:
            seconds, recap = once(label)
            print("%-8s create %6.1f s  changed=%d" % (label, seconds, changed(recap)), flush=True)
        compare_noops(args.runs, once, list(roots), args.baseline, "module")
    finally:
        admin = Admin(URL, password)
        for realm in realms.values():
            admin.delete_realm(realm)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
