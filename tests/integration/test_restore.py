"""playbooks/restore.yml against the test bed's Keycloak and conda-store, from backups written as the backup
playbook writes them: what the platform lacks comes back (users who log in with their own passwords, groups,
clients, environments), what exists is left as it is, a second run changes nothing, and a damaged backup or a wrong
password stops the run before any change, naming the file."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
import yaml
from ansible.parsing.vault import VaultLib, VaultSecret

from condastore import CondaStore
from keycloak import Admin

PASSWORD = "correct-horse-battery-staple"
CONDA_STORE_PLAYBOOK = os.path.join("tests", "integration", "playbooks", "conda_store.yml")


def hashed(password, iterations=27500):
    """A password credential as Keycloak's export holds it (pbkdf2-sha512): the hash, never the password."""
    salt = os.urandom(16)
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, 64)
    return {"type": "password", "createdDate": 1764547200000,
            "secretData": json.dumps({"value": base64.b64encode(key).decode(), "salt": base64.b64encode(salt).decode(),
                                      "additionalParameters": {}}),
            "credentialData": json.dumps({"hashIterations": iterations, "algorithm": "pbkdf2-sha512",
                                          "additionalParameters": {}})}


def write_backup(directory, parts, files):
    """A backup directory as nebari.platform.backup writes it: the files, then the manifest with their checksums."""
    directory.mkdir(parents=True)
    listed = []
    for path, data in sorted(files.items()):
        (directory / path).parent.mkdir(parents=True, exist_ok=True)
        (directory / path).write_bytes(data)
        listed.append({"path": path, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    (directory / "manifest.yml").write_text(yaml.safe_dump({"format": 1, "name": directory.name, "parts": parts,
                                                            "releases": {}, "files": listed}))
    return directory


def vault(text):
    return VaultLib([("default", VaultSecret(PASSWORD.encode()))]).encrypt(text)


def logs_in(url, realm, username, password):
    body = urllib.parse.urlencode({"grant_type": "password", "client_id": "admin-cli", "username": username,
                                   "password": password}).encode()
    try:
        with urllib.request.urlopen("%s/realms/%s/protocol/openid-connect/token" % (url, realm), body, timeout=30):
            return True
    except urllib.error.HTTPError as exc:
        if exc.code in (400, 401):
            return False
        raise


@pytest.fixture
def realm(testbed):
    admin = Admin(testbed["keycloak_url"], testbed["keycloak_password"])
    name = "it-restore-%s" % uuid.uuid4().hex[:6]
    admin.create_realm(name, ["analyst"])
    yield admin, name
    admin.delete_realm(name)


def test_keycloak_comes_back_with_the_users_own_passwords(playbook, testbed, realm, tmp_path):
    admin, name = realm
    alia_password, vera_password = "alia-own-%s" % uuid.uuid4().hex[:8], "vera-own-%s" % uuid.uuid4().hex[:8]
    client_secret = uuid.uuid4().hex
    person = {"enabled": True, "firstName": "A", "lastName": "B"}
    export = {
        "realm": name,
        "roles": {"realm": [{"name": "auditor"}], "client": {"reports": [{"name": "viewer"}]}},
        "groups": [{"name": "analyst", "path": "/analyst"}, {"name": "ml-team", "path": "/ml-team"}],
        "clients": [{"clientId": "reports", "enabled": True, "protocol": "openid-connect", "publicClient": False,
                     "secret": client_secret, "redirectUris": ["https://nebari.example.com/reports/*"]}],
        "users": [
            dict(person, username="alia", email="alia@example.com", credentials=[hashed(alia_password)],
                 groups=["/analyst", "/ml-team"]),
            dict(person, username="vera", email="vera@example.com", credentials=[hashed(vera_password)],
                 groups=["/ml-team"], realmRoles=["auditor"], clientRoles={"reports": ["viewer"]},
                 attributes={"team": ["vision"]}),
        ],
    }
    backup = write_backup(tmp_path / "nebari-20261201T000000Z", ["keycloak"],
                          {"keycloak/%s-realm.json.vault" % name: vault(json.dumps(export))})
    # site.yml made alia again from the inventory, without a password; vera, ml-team and the client are gone
    admin.call("POST", "/%s/users" % name, dict(person, username="alia", email="alia@example.com",
                                                groups=["/analyst"]))
    variables = {"nebari_keycloak_url": testbed["keycloak_url"], "nebari_keycloak_admin_password":
                 testbed["keycloak_password"], "nebari_keycloak_validate_certs": False, "restore_from": str(backup),
                 "restore_password": PASSWORD, "restore_keycloak_realm": name}

    check = playbook("playbooks/restore.yml", extra_vars=variables, args=["--check", "--diff"])
    assert check.rc == 0, check.output[-3000:]
    assert "user vera: added with its password" in check.output and "user alia: password restored" in check.output
    assert admin.user(name, "vera") is None and not logs_in(testbed["keycloak_url"], name, "alia", alia_password)

    run = playbook("playbooks/restore.yml", extra_vars=variables, args=["-v"])
    assert run.rc == 0, run.output[-3000:]
    assert client_secret not in run.output and PASSWORD not in run.output
    assert json.loads(export["users"][0]["credentials"][0]["secretData"])["value"] not in run.output
    assert logs_in(testbed["keycloak_url"], name, "alia", alia_password)
    assert logs_in(testbed["keycloak_url"], name, "vera", vera_password)
    vera = admin.user(name, "vera")
    assert vera["groups"] == ["/ml-team"] and vera["attributes"]["team"] == ["vision"]
    assert admin.user(name, "alia")["groups"] == ["/analyst"]  # an existing user's memberships are the inventory's
    client = admin.call("GET", "/%s/clients?clientId=reports" % name)[0]
    assert admin.call("GET", "/%s/clients/%s/client-secret" % (name, client["id"]))["value"] == client_secret
    assert [r["name"] for r in admin.call("GET", "/%s/users/%s/role-mappings/realm" % (name, vera["id"]))
            if r["name"] == "auditor"] == ["auditor"]

    again = playbook("playbooks/restore.yml", extra_vars=variables)
    assert again.rc == 0 and again.changed_tasks() == [], again.output[-3000:]

    # a wrong password, then a truncated export: the run stops before the restore, naming the file
    wrong = playbook("playbooks/restore.yml", extra_vars=dict(variables, restore_password="not-the-password"))
    assert wrong.rc != 0 and "%s-realm.json.vault cannot be read with restore_password" % name in wrong.output
    vaulted = backup / "keycloak" / ("%s-realm.json.vault" % name)
    vaulted.write_bytes(vaulted.read_bytes()[:200])
    damaged = playbook("playbooks/restore.yml", extra_vars=variables)
    assert damaged.rc != 0, damaged.output[-2000:]
    assert "keycloak/%s-realm.json.vault: 200 bytes, the manifest says" % name in damaged.output
    assert "nothing was changed" in damaged.output and damaged.changed_tasks() == []


def test_conda_store_gets_the_environments_it_lacks_and_keeps_the_others(playbook, testbed, namespace, tmp_path):
    store = CondaStore(testbed["conda_store_url"], testbed["conda_store_token"])
    conda_store = {"cs_url": testbed["conda_store_url"], "cs_token": testbed["conda_store_token"],
                   "cs_module": "environments"}
    live = {"namespace": namespace, "name": "kept", "dependencies": ["numpy", "scipy"]}
    assert playbook(CONDA_STORE_PLAYBOOK, extra_vars=dict(conda_store, cs_environments=[live])).rc == 0
    build = store.environments(namespace)["kept"]["current_build_id"]
    environments = [{"namespace": namespace, "name": "kept", "dependencies": ["numpy"]},
                    {"namespace": namespace, "name": "gone", "channels": ["conda-forge"],
                     "dependencies": ["python=3.12", {"pip": ["rich"]}], "description": "Team analysis"}]
    backup = write_backup(tmp_path / "nebari-20261201T000000Z", ["conda_store"], {
        "conda-store/environments.yml": yaml.safe_dump({"nebari_environments": environments}).encode()})
    variables = {"nebari_conda_store_url": testbed["conda_store_url"],
                 "nebari_conda_store_token": testbed["conda_store_token"],
                 "nebari_conda_store_validate_certs": False, "restore_from": str(backup)}

    run = playbook("playbooks/restore.yml", extra_vars=variables)
    assert run.rc == 0, run.output[-3000:]
    assert "1 of 2 environments created (%s/gone)" % namespace in run.output
    held = store.environments(namespace)
    assert sorted(held) == ["gone", "kept"] and held["kept"]["current_build_id"] == build
    again = playbook("playbooks/restore.yml", extra_vars=variables)
    assert again.rc == 0 and again.changed_tasks() == [], again.output[-3000:]
