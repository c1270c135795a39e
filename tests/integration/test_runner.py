"""site.yml run the way AWX runs a job from an execution environment: the collection built and installed from its
tarball (as ansible-builder puts it in the image), a project as a deployment repository holds it (a site.yml that
imports nebari.platform.site), ansible_runner.run with a private data directory (env/extravars, env/envvars), the
sandbox as the inventory, artifacts under artifacts/<ident>/. The assertions read the job events, as AWX does: no
failed or unreachable task, changes on the first run, none on the second, the roles run from the installed
collection, and the summary report among the run's artifacts."""

from __future__ import annotations

import glob
import json
import os
import subprocess

import ansible_runner

from conftest import BIN, ROOT, SANDBOX, standin_components


def install_collection(tmp_path):
    """ansible-galaxy collection build, then install the tarball offline; return the collections path."""
    dist, installed = tmp_path / "dist", tmp_path / "collections"
    # away from the checkout's ansible.cfg, whose collections path holds the checkout itself
    env = {k: v for k, v in os.environ.items() if k != "ANSIBLE_CONFIG"}
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", str(dist), ROOT],
                   check=True, capture_output=True, cwd=tmp_path, env=env)
    tarball = glob.glob(str(dist / "nebari-platform-*.tar.gz"))
    assert len(tarball) == 1
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--offline", "--no-deps", "-p",
                    str(installed), tarball[0]], check=True, capture_output=True, cwd=tmp_path, env=env)
    assert (installed / "ansible_collections" / "nebari" / "platform" / "playbooks" / "site.yml").is_file()
    return installed


def job(private, project, ident):
    result = ansible_runner.run(private_data_dir=str(private), project_dir=str(project), playbook="site.yml",
                                inventory=SANDBOX, ident=ident, quiet=True)
    failed = [(event["event_data"].get("task"), event["event_data"].get("res", {}).get("msg"))
              for event in result.events
              if event["event"] in ("runner_on_failed", "runner_on_unreachable")
              and not event["event_data"].get("ignore_errors")]
    return result, failed


def test_installed_collection_as_an_awx_job(testbed, sandbox_vars, k8s, tmp_path):
    installed = install_collection(tmp_path)
    project = tmp_path / "project"  # the deployment repository AWX's project checks out
    project.mkdir()
    (project / "site.yml").write_text("- name: Nebari\n  ansible.builtin.import_playbook: nebari.platform.site\n")
    private = tmp_path / "runner"
    (private / "env").mkdir(parents=True)
    # AWX writes the job's extra vars and environment here; the secrets would come from its credentials
    # (the stand-in chart for every upstream chart: this is about how the job runs, not what it installs)
    (private / "env" / "extravars").write_text(json.dumps(dict(
        sandbox_vars, nebari_components=standin_components(sandbox_vars["nebari_namespace"]))))
    # ansible-playbook found on PATH, as in an execution environment (here the checkout's venv); the collection
    # from where the image installs it, not from the checkout
    (private / "env" / "envvars").write_text(json.dumps({
        "ANSIBLE_COLLECTIONS_PATH": str(installed),
        "PATH": os.pathsep.join([BIN, os.environ.get("PATH", "")])}))

    first, failed = job(private, project, "first")
    assert (first.status, first.rc, failed) == ("successful", 0, [])
    assert first.stats["changed"].get("localhost", 0) > 0
    starts = [e["event_data"]["task"] for e in first.events if e["event"] == "playbook_on_task_start"]
    assert any("Validate the inventory" in task for task in starts), starts[:5]
    artifacts = private / "artifacts" / "first"
    assert (artifacts / "rc").read_text().strip() == "0" and (artifacts / "status").read_text() == "successful"
    assert os.listdir(str(artifacts / "job_events"))
    stdout = (artifacts / "stdout").read_text()
    assert str(installed) + "/ansible_collections/nebari/platform/roles/" in stdout  # not the checkout
    assert ROOT + "/roles/" not in stdout and ROOT + "/.collections/" not in stdout
    report = json.loads((tmp_path / "artifacts" / "summary.json").read_text())
    assert {rel["status"] for rel in report["releases"]} == {"deployed"}
    assert k8s.read_namespace(sandbox_vars["nebari_namespace"])

    second, failed = job(private, project, "second")
    assert (second.status, failed) == ("successful", [])
    assert second.stats["changed"].get("localhost", 0) == 0, [
        e["event_data"].get("task") for e in second.events if e["event"] == "runner_on_ok"
        and e["event_data"].get("res", {}).get("changed")]
