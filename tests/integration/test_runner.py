"""site.yml run the way AWX runs a job: ansible_runner.run with a private data directory (env/extravars,
env/envvars), the checkout as the project and the sandbox as the inventory, artifacts under
artifacts/<ident>/. The assertions read the job events, as AWX does: no failed or unreachable task, changes on
the first run, none on the second, and the summary report among the run's artifacts."""

from __future__ import annotations

import json
import os

import ansible_runner

from conftest import BIN, ROOT, SANDBOX, standin_components


def job(private, ident):
    result = ansible_runner.run(private_data_dir=str(private), project_dir=ROOT, playbook="site.yml",
                                inventory=SANDBOX, ident=ident, quiet=True)
    failed = [(event["event_data"].get("task"), event["event_data"].get("res", {}).get("msg"))
              for event in result.events
              if event["event"] in ("runner_on_failed", "runner_on_unreachable")
              and not event["event_data"].get("ignore_errors")]
    return result, failed


def test_site_as_an_awx_job(testbed, sandbox_vars, tmp_path):
    private = tmp_path / "runner"
    (private / "env").mkdir(parents=True)
    # AWX writes the job's extra vars and environment here; the secrets would come from its credentials
    # (the stand-in chart for every upstream chart: this is about how the job runs, not what it installs)
    (private / "env" / "extravars").write_text(json.dumps(dict(
        sandbox_vars, nebari_components=standin_components(sandbox_vars["nebari_namespace"]))))
    # (ansible-playbook found on PATH, as in an execution environment: here the checkout's venv)
    (private / "env" / "envvars").write_text(json.dumps({
        "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"),
        "PATH": os.pathsep.join([BIN, os.environ.get("PATH", "")])}))

    first, failed = job(private, "first")
    assert (first.status, first.rc, failed) == ("successful", 0, [])
    assert first.stats["changed"].get("localhost", 0) > 0
    starts = [e["event_data"]["task"] for e in first.events if e["event"] == "playbook_on_task_start"]
    assert any("Validate the inventory" in task for task in starts), starts[:5]
    artifacts = private / "artifacts" / "first"
    assert (artifacts / "rc").read_text().strip() == "0" and (artifacts / "status").read_text() == "successful"
    assert os.listdir(str(artifacts / "job_events")) and (artifacts / "stdout").read_text()
    report = json.loads((tmp_path / "artifacts" / "summary.json").read_text())
    assert {rel["status"] for rel in report["releases"]} == {"deployed"}

    second, failed = job(private, "second")
    assert (second.status, failed) == ("successful", [])
    assert second.stats["changed"].get("localhost", 0) == 0, [
        e["event_data"].get("task") for e in second.events if e["event"] == "runner_on_ok"
        and e["event_data"].get("res", {}).get("changed")]
