"""Benchmark: restore of N users with their password hashes into the test bed's Keycloak, whole ansible-playbook
wall time.

Writes a backup as nebari.platform.backup does (the realm's export with N users, each with a pbkdf2-sha512 hash,
vault-encrypted; the manifest with checksums), then, each into a fresh realm: playbooks/restore.yml (check of the
backup, one partialImport) and a no-op re-run, against (unless --skip-loop) loops of ansible.builtin.uri (a GET per
user, a POST per missing one, access token of 60 s: keep N so that the loop fits) in the same run; ratios of the
times. The test bed must be up (make testbed-up).

usage: .venv/bin/python tests/bench/restore.py [--users 1000] [--skip-loop]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
import tempfile

import yaml
from ansible.parsing.vault import VaultLib, VaultSecret

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keycloak import Admin  # noqa: E402  pylint: disable=wrong-import-position
from playbook_timer import changed, run  # noqa: E402  pylint: disable=wrong-import-position

STATE = os.environ.get("TESTBED_STATE", os.path.join(ROOT, ".testbed"))
URL = "http://127.0.0.1:%s/auth" % os.environ.get("TB_KEYCLOAK_PORT", "18080")
GROUPS = ["analyst", "developer"]
PASSWORD = "bench-backup-password"


def credential():
    salt = os.urandom(16)
    key = hashlib.pbkdf2_hmac("sha512", b"bench-user-password", salt, 27500, 64)
    return {"type": "password", "secretData": json.dumps({"value": base64.b64encode(key).decode(),
                                                          "salt": base64.b64encode(salt).decode(),
                                                          "additionalParameters": {}}),
            "credentialData": json.dumps({"hashIterations": 27500, "algorithm": "pbkdf2-sha512",
                                          "additionalParameters": {}})}


def users(count):
    hashed = credential()
    return [{"username": "u%05d" % i, "email": "u%05d@example.test" % i, "firstName": "First%d" % i,
             "lastName": "Last%d" % i, "enabled": True, "groups": ["/" + GROUPS[i % 2]], "credentials": [hashed]}
            for i in range(1, count + 1)]


def write_backup(directory, realm, people):
    export = {"realm": realm, "groups": [{"name": g, "path": "/" + g} for g in GROUPS], "users": people}
    path = os.path.join(directory, "keycloak", "%s-realm.json.vault" % realm)
    os.makedirs(os.path.dirname(path))
    data = VaultLib([("default", VaultSecret(PASSWORD.encode()))]).encrypt(json.dumps(export))
    with open(path, "wb") as f:
        f.write(data)
    manifest = {"format": 1, "parts": ["keycloak"], "releases": {}, "files": [
        {"path": "keycloak/%s-realm.json.vault" % realm, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}]}
    with open(os.path.join(directory, "manifest.yml"), "w") as f:
        yaml.safe_dump(manifest, f)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--skip-loop", action="store_true")
    args = parser.parse_args()
    with open(os.path.join(STATE, "secrets", "keycloak-admin-password")) as f:
        password = f.read().strip()
    people = users(args.users)
    realm = "bench-restore-%d" % os.getpid()
    admin = Admin(URL, password)
    print("%d users with password hashes, Keycloak at %s" % (args.users, URL), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        backup = os.path.join(tmp, "nebari-20261201T000000Z")
        write_backup(backup, realm, people)
        admin.delete_realm(realm)
        admin.create_realm(realm, [])
        variables = {"nebari_keycloak_url": URL, "nebari_keycloak_admin_password": password,
                     "nebari_keycloak_validate_certs": False, "restore_from": backup, "restore_password": PASSWORD,
                     "restore_keycloak_realm": realm, "nebari_domain": "nebari.bench.localhost",
                     "ansible_python_interpreter": os.path.join(ROOT, ".venv", "bin", "python")}
        first, recap = run("playbooks/restore.yml", variables)
        print("%-34s restore %7.1f s (%s)" % ("playbooks/restore.yml", first, " ".join(recap[1:2])), flush=True)
        again, recap = run("playbooks/restore.yml", variables)
        print("%-34s no-op   %7.1f s (changed=%d)" % ("playbooks/restore.yml", again, changed(recap)), flush=True)
        admin = Admin(URL, password)
        admin.delete_realm(realm)
        if not args.skip_loop:
            # the loop outlives the admin token's 60 s: the master realm's tokens live an hour meanwhile
            master = admin.call("GET", "/master")
            admin.call("PUT", "/master", {"realm": "master", "accessTokenLifespan": 3600})
            try:
                loop_baseline(admin, password, realm, people, tmp, first, again)
            finally:
                lifespan = {"realm": "master", "accessTokenLifespan": master["accessTokenLifespan"]}
                Admin(URL, password).call("PUT", "/master", lifespan)


def loop_baseline(admin, password, realm, people, tmp, first, again):
    """The same users through loops of ansible.builtin.uri, create then no-op; the speed-ups over restore.yml."""
    admin.create_realm(realm, GROUPS)
    users_file = os.path.join(tmp, "users.json")
    with open(users_file, "w") as f:
        json.dump({"users": people}, f)
    loop_vars = {"bench_url": URL, "bench_password": password, "bench_realm": realm, "bench_users_file": users_file,
                 "ansible_python_interpreter": os.path.join(ROOT, ".venv", "bin", "python")}
    loop, recap = run("tests/bench/playbooks/restore_uri.yml", loop_vars)
    print("%-34s restore %7.1f s (%s)" % ("loops of ansible.builtin.uri", loop, " ".join(recap[1:2])), flush=True)
    loop_noop, recap = run("tests/bench/playbooks/restore_uri.yml", loop_vars)
    print("%-34s no-op   %7.1f s" % ("loops of ansible.builtin.uri", loop_noop), flush=True)
    print("speed-up: restore %.1fx, no-op %.1fx" % (loop / first, loop_noop / again))
    Admin(URL, password).delete_realm(realm)


if __name__ == "__main__":
    main()
