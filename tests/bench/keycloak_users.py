"""Benchmark: N inventory users against the test bed's Keycloak, whole ansible-playbook wall time.

Runs, in one go and against the same Keycloak: nebari.platform.keycloak_users creating N users then no-op re-runs
(--noop-runs, the first right after the creation), and (unless --skip-loop) a loop over
community.general.keycloak_user doing the same in a fresh realm. Prints each time and the ratios of the medians.
The test bed must be up (make testbed-up).

usage: .venv/bin/python tests/bench/keycloak_users.py [--users 1000] [--noop-runs 3] [--skip-loop]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keycloak import Admin  # noqa: E402  pylint: disable=wrong-import-position
from playbook_timer import run  # noqa: E402  pylint: disable=wrong-import-position

STATE = os.environ.get("TESTBED_STATE", os.path.join(ROOT, ".testbed"))
URL = "http://127.0.0.1:%s/auth" % os.environ.get("TB_KEYCLOAK_PORT", "18080")
GROUPS = ["superadmin", "admin", "developer", "analyst", "users"]
COMBOS = [["analyst"], ["developer"], ["admin", "developer"]]


def users(count):
    return [{"username": "u%05d" % i, "email": "u%05d@example.test" % i, "first_name": "First%d" % i,
             "last_name": "Last%d" % i, "groups": COMBOS[i % 3]} for i in range(1, count + 1)]


def measure(name, playbook, admin, password, users_file, noop_runs):
    realm = "bench-%s-%d" % (os.path.basename(playbook)[:-4].replace("_", "-"), os.getpid())
    admin.delete_realm(realm)
    admin.create_realm(realm, GROUPS)
    variables = {"bench_url": URL, "bench_password": password, "bench_realm": realm, "bench_users_file": users_file,
                 "ansible_python_interpreter": os.path.join(ROOT, ".venv", "bin", "python")}
    create, create_recap = run(playbook, variables)
    print("%-42s create %7.1f s (%s)" % (name, create, " ".join(create_recap[1:2])), flush=True)
    noops = [run(playbook, variables) for dummy in range(noop_runs)]
    noop = sorted(t for t, dummy in noops)[len(noops) // 2]
    print("%-42s no-op  %7.1f s median, runs %s (%s)"
          % (name, noop, " ".join("%.1f" % t for t, dummy in noops), " ".join(noops[-1][1][1:2])), flush=True)
    admin.delete_realm(realm)
    return create, noop


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--noop-runs", type=int, default=3)
    parser.add_argument("--skip-loop", action="store_true")
    args = parser.parse_args()
    with open(os.path.join(STATE, "secrets", "keycloak-admin-password")) as f:
        password = f.read().strip()
    admin = Admin(URL, password)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"users": users(args.users)}, f)
        users_file = f.name
    print("%d users, Keycloak at %s" % (args.users, URL), flush=True)
    ours = measure("nebari.platform.keycloak_users", "tests/bench/playbooks/users_ours.yml", admin, password,
                   users_file, args.noop_runs)
    if not args.skip_loop:
        admin = Admin(URL, password)  # the first token may have expired
        loop = measure("loop over community.general.keycloak_user", "tests/bench/playbooks/users_loop.yml", admin,
                       password, users_file, 1)
        print("speed-up: create %.0fx, no-op %.0fx" % (loop[0] / ours[0], loop[1] / ours[1]))
    os.unlink(users_file)


if __name__ == "__main__":
    main()
