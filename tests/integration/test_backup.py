"""playbooks/backup.yml against the test bed's conda-store and API server: environments come back as inventory that
the reconcile takes as unchanged, a release's values are written encrypted (its secret never in clear, in the files
or the run's output), the manifest's checksums are the files', and only the newest complete backups are kept."""

from __future__ import annotations

import hashlib
import os
import subprocess
import uuid

import yaml

from condastore import CondaStore

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STANDIN = os.path.join(ROOT, "tests", "testbed", "charts", "standin")
CONDA_STORE_PLAYBOOK = os.path.join(ROOT, "tests", "integration", "playbooks", "conda_store.yml")
PASSWORD = "correct-horse-battery-staple"


def test_backup_reads_the_platform_encrypts_its_secrets_and_keeps_the_newest(playbook, testbed, namespace, tmp_path):
    store = CondaStore(testbed["conda_store_url"], testbed["conda_store_token"])
    environments = [
        {"namespace": namespace, "name": "analysis", "channels": ["conda-forge"],
         "dependencies": ["python=3.12", "pandas", {"pip": ["rich"]}], "variables": {"MODE": "shared"},
         "description": "Team analysis"},
        {"namespace": namespace, "name": "plain", "dependencies": ["numpy"]},
    ]
    conda_store = {"cs_url": testbed["conda_store_url"], "cs_token": testbed["conda_store_token"],
                   "cs_module": "environments"}
    assert playbook(CONDA_STORE_PLAYBOOK, extra_vars=dict(conda_store, cs_environments=environments)).rc == 0
    # a release of the stack (the stand-in chart as jupyterhub) whose values hold a secret
    secret = uuid.uuid4().hex
    subprocess.run([testbed["helm"], "--kubeconfig", testbed["kubeconfig"], "-n", namespace, "install", "jupyterhub",
                    STANDIN, "--create-namespace", "--set", "hub.cookieSecret=" + secret], check=True,
                   capture_output=True)
    backups = tmp_path / "backups"
    # two earlier complete backups and an incomplete one (no manifest): with retention 2 the oldest complete one goes
    for name, manifest in (("nebari-20200101T000000Z", True), ("nebari-20210101T000000Z", True),
                           ("nebari-20190101T000000Z", False)):
        (backups / name).mkdir(parents=True)
        if manifest:
            (backups / name / "manifest.yml").write_text("format: 1\n")

    run = playbook("playbooks/backup.yml", extra_vars={
        "nebari_namespace": namespace, "nebari_kubeconfig": testbed["kubeconfig"],
        "nebari_conda_store_url": testbed["conda_store_url"], "nebari_conda_store_token": testbed["conda_store_token"],
        "nebari_conda_store_validate_certs": False, "backup_dir": str(backups), "backup_password": PASSWORD,
        "backup_retention": 2, "backup_parts": ["conda_store", "helm"]}, args=["-v"])
    assert run.rc == 0, run.output[-3000:]
    assert secret not in run.output and PASSWORD not in run.output
    kept = sorted(p.name for p in backups.iterdir())
    new = [name for name in kept if name > "nebari-2022"]
    assert len(new) == 1 and kept == sorted(["nebari-20190101T000000Z", "nebari-20210101T000000Z"] + new), kept
    backup = backups / new[0]

    # the manifest: every file with its size and checksum, the release's chart
    manifest = yaml.safe_load((backup / "manifest.yml").read_text())
    assert manifest["namespace"] == namespace and manifest["parts"] == ["conda_store", "helm"]
    assert manifest["releases"] == {"%s/jupyterhub" % namespace: "nebari-standin-0.1.0"}
    listed = {f["path"]: f for f in manifest["files"]}
    on_disk = sorted(str(p.relative_to(backup)) for p in backup.rglob("*") if p.is_file() and p.name != "manifest.yml")
    assert sorted(listed) == on_disk
    for path, entry in listed.items():
        data = (backup / path).read_bytes()
        assert entry["bytes"] == len(data) and entry["sha256"] == hashlib.sha256(data).hexdigest(), path
    for path in backup.rglob("*"):
        assert path.is_dir() or secret not in path.read_text(), path

    # the values, encrypted: ansible-vault reads them with the password
    vaulted = backup / "helm" / ("%s.jupyterhub.values.yml.vault" % namespace)
    assert vaulted.read_text().startswith("$ANSIBLE_VAULT;")
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD)
    clear = subprocess.run([os.path.join(ROOT, ".venv", "bin", "ansible-vault"), "view", "--vault-password-file",
                            str(password_file), str(vaulted)], check=True, capture_output=True, text=True).stdout
    assert yaml.safe_load(clear)["hub"]["cookieSecret"] == secret

    # the environments, as inventory: exactly what conda-store holds, and the reconcile finds nothing to do
    exported = yaml.safe_load((backup / "conda-store" / "environments.yml").read_text())["nebari_environments"]
    mine = [env for env in exported if env["namespace"] == namespace]
    assert [env["name"] for env in mine] == ["analysis", "plain"]
    assert mine[0]["variables"] == {"MODE": "shared"} and {"pip": ["rich"]} in mine[0]["dependencies"]
    builds = yaml.safe_load((backup / "conda-store" / "builds.yml").read_text())["builds"]
    current = {env: store.environments(namespace)[env]["current_build_id"] for env in ("analysis", "plain")}
    assert {b["name"]: b["build_id"] for b in builds if b["namespace"] == namespace} == current
    again = playbook(CONDA_STORE_PLAYBOOK, extra_vars=dict(conda_store, cs_environments=mine))
    assert again.rc == 0 and again.changed_tasks() == [], again.output[-3000:]
