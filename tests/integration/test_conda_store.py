"""The conda_store modules against the test bed's conda-store: create, no-op on reordered specifications, one build
per real change, delete, namespace lifecycle, check mode, diff, failed builds, bad specifications, conda-store out
of reach, and the environments layer from the sandbox inventory.

Builds from conda-forge cannot download packages here: they fail (no channel is reachable), so most tests assert on
what conda-store records (specifications, builds and their status, the log of a failed build). Builds from the test
bed's own channel (tests/testbed/conda-store/channel.py) really complete."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid

import pytest

from condastore import CondaStore

PLAYBOOK = "tests/integration/playbooks/conda_store.yml"


@pytest.fixture(scope="module")
def store(testbed):
    return CondaStore(testbed["conda_store_url"], testbed["conda_store_token"])


@pytest.fixture
def ns():
    return "it-%s" % uuid.uuid4().hex[:8]


@pytest.fixture
def conda_store(playbook, testbed):
    def run(module, args=(), **extra):
        variables = {"cs_url": testbed["conda_store_url"], "cs_token": testbed["conda_store_token"],
                     "cs_module": module}
        variables.update({"cs_" + key: value for key, value in extra.items()})
        result = playbook(PLAYBOOK, extra_vars=variables, args=args)
        task = {"environments": "Reconcile environments", "environment": "One environment",
                "namespace": "Namespace"}[module]
        return result, next((r for name, r in result.results() if name == task), {})
    return run


def envs(ns):
    return [
        {"namespace": ns, "name": "data-science", "channels": ["conda-forge", "bioconda"],
         "dependencies": ["python=3.12", "pandas", {"pip": ["requests", "rich"]}], "variables": {"MODE": "shared"},
         "description": "shared"},
        {"namespace": ns, "name": "ml", "dependencies": ["numpy"]},
    ]


def actions(module):
    return {e["name"]: e["action"] for e in module["environments"]}


def test_create_then_no_change_whatever_the_order(conda_store, store, ns):
    run, module = conda_store("environments", environments=envs(ns))
    assert run.rc == 0, run.failure_messages()
    assert actions(module) == {"data-science": "created", "ml": "created"} and module["namespaces_created"] == [ns]
    recorded = store.builds(ns, "data-science")[0]["specification"]["spec"]
    assert sorted(recorded["dependencies"], key=str) == sorted(["python=3.12", "pandas", {"pip": ["requests", "rich"]}],
                                                               key=str)
    assert recorded["variables"] == {"MODE": "shared"} and recorded["description"] == "shared"

    reordered = envs(ns)
    reordered[0]["channels"].reverse()
    reordered[0]["dependencies"] = [{"pip": ["rich", "requests"]}, "pandas", "python=3.12"]
    run, module = conda_store("environments", environments=list(reversed(reordered)))
    assert run.rc == 0 and run.changed == 0, run.failure_messages()
    assert set(actions(module).values()) == {"unchanged"}
    assert [len(store.builds(ns, name)) for name in ("data-science", "ml")] == [1, 1]


def test_a_change_makes_exactly_one_new_build_and_reruns_converge(conda_store, store, ns):
    conda_store("environments", environments=envs(ns))
    changed = envs(ns)
    changed[1]["dependencies"] = ["numpy", "scipy"]
    run, module = conda_store("environments", environments=changed)
    assert run.rc == 0 and actions(module) == {"data-science": "unchanged", "ml": "updated"}
    assert module["environments"][1]["changes"] == ["conda"]
    run, module = conda_store("environments", environments=changed)
    assert run.changed == 0
    builds = store.builds(ns, "ml")
    assert len(builds) == 2 and sorted(builds[-1]["specification"]["spec"]["dependencies"]) == ["numpy", "scipy"]


def test_a_specification_changed_in_conda_store_is_put_back(conda_store, store, ns):
    conda_store("environments", environments=envs(ns))
    store.submit(ns, {"name": "ml", "dependencies": ["numpy", "pytorch"]})  # as from the conda-store UI
    run, module = conda_store("environments", environments=envs(ns))
    assert run.rc == 0 and actions(module) == {"data-science": "unchanged", "ml": "updated"}
    builds = store.builds(ns, "ml")
    assert len(builds) == 3 and builds[-1]["specification"]["spec"]["dependencies"] == ["numpy"]
    assert conda_store("environments", environments=envs(ns))[0].changed == 0


def test_check_mode_and_diff(conda_store, store, ns):
    run, module = conda_store("environments", environments=envs(ns), args=["--check", "--diff"])
    assert run.rc == 0 and run.changed == 1 and actions(module)["ml"] == "created"
    assert not store.namespace_exists(ns)
    assert module["diff"]["after"]["%s/ml" % ns]["dependencies"] == ["numpy"]
    conda_store("environments", environments=envs(ns))
    changed = envs(ns)
    changed[0]["variables"] = {"MODE": "private"}
    run, module = conda_store("environments", environments=changed, args=["--check", "--diff"])
    key = "%s/data-science" % ns
    assert module["diff"]["before"][key]["variables"] == {"MODE": "shared"}
    assert module["diff"]["after"][key]["variables"] == {"MODE": "private"}
    assert len(store.builds(ns, "data-science")) == 1


def test_delete_only_what_is_listed_absent(conda_store, store, ns):
    conda_store("environments", environments=envs(ns))
    store.submit(ns, {"name": "by-hand", "dependencies": ["python"]})
    run, module = conda_store("environments", environments=[dict(envs(ns)[1], state="absent")])
    assert run.rc == 0 and actions(module) == {"ml": "deleted"}
    assert sorted(store.environments(ns)) == ["by-hand", "data-science"]
    run, module = conda_store("environments", environments=[dict(envs(ns)[1], state="absent")])
    assert run.changed == 0


def test_a_failed_build_names_the_environment_the_build_and_why(conda_store, store, ns):
    # the builds queue behind the earlier tests' on the test bed's one worker: a loaded machine needs more than 120 s
    run, module = conda_store("environments", environments=envs(ns), wait=True, wait_timeout=600)
    assert run.rc != 0
    message = run.failure_messages()[0]
    assert "2 of 2 environments did not reconcile" in message and "%s/ml: build " % ns in message
    report = module["environments"][1]
    assert report["build_status"] == "FAILED" and report["build_id"] == store.builds(ns, "ml")[0]["id"]
    assert "Traceback" in report["log_tail"] or "Error" in report["log_tail"]
    # a re-run converges: nothing new is submitted for a specification whose build failed, it is reported
    run, module = conda_store("environments", environments=envs(ns))
    assert run.rc == 0 and run.changed == 0
    assert module["environments"][0]["build_status"] == "FAILED"
    assert any("rebuild_failed" in w for w in module.get("warnings", []))
    run, module = conda_store("environments", environments=envs(ns)[1:], rebuild_failed=True)
    assert actions(module) == {"ml": "rebuilt"} and len(store.builds(ns, "ml")) == 2


def test_a_build_from_the_test_beds_channel_completes_and_a_new_pin_becomes_current(conda_store, store, ns, testbed):
    """conda-store solves, downloads and installs for real: the environment's current build is the new one, its
    packages are what the spec asked for, resolved with its dependency."""
    def local(pin):
        return [{"namespace": ns, "name": "tools", "channels": [testbed["conda_channel"]],
                 "dependencies": ["nebari-tools=%s" % pin]}]

    def locked(build_id):
        return sorted((p["name"], p["version"]) for p in store.call("GET", "/build/%d/packages/?size=100" % build_id))

    run, module = conda_store("environments", environments=local("2.1"), wait=True)
    assert run.rc == 0, run.failure_messages()
    first = module["environments"][0]
    assert (first["action"], first["build_status"]) == ("created", "COMPLETED"), first
    assert store.environments(ns)["tools"]["current_build_id"] == first["build_id"]
    assert locked(first["build_id"]) == [("nebari-hello", "1.0.0"), ("nebari-tools", "2.1.0")]

    run, module = conda_store("environments", environments=local("2.0"), wait=True)
    assert run.rc == 0, run.failure_messages()
    second = module["environments"][0]
    assert second["build_status"] == "COMPLETED" and second["build_id"] != first["build_id"]
    assert store.environments(ns)["tools"]["current_build_id"] == second["build_id"]
    assert locked(second["build_id"]) == [("nebari-hello", "1.0.0"), ("nebari-tools", "2.0.0")]
    run, module = conda_store("environments", environments=local("2.0"))
    assert run.rc == 0 and run.changed == 0


def children(pid):
    return [int(child) for child in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True,
                                                   check=False).stdout.split()]


def celery_worker(testbed):
    """The test bed's conda-store worker and its pool: standalone conda-store runs its Celery worker as a child
    process of the server, the one with children of its own (the prefork pool); the API is another child."""
    with open(os.path.join(testbed["state"], "run", "conda-store.pid")) as f:
        server = int(f.read().strip())
    worker = [pid for pid in children(server) if children(pid)]
    assert len(worker) == 1, "conda-store's worker process was not found among %s" % children(server)
    return worker + children(worker[0])


def test_a_build_a_stopped_worker_leaves_queued_is_submitted_again(conda_store, store, ns, testbed):
    """conda-store's worker stopped (as a killed worker leaves the builds it held): the build stays QUEUED; once it
    has been for longer than stale_build_timeout, a run says so, naming it, and submits the specification again;
    with the worker back, that build completes and is what wait follows."""
    env = [{"namespace": ns, "name": "tools", "channels": [testbed["conda_channel"]],
            "dependencies": ["nebari-hello"]}]
    workers = celery_worker(testbed)
    for pid in workers:
        os.kill(pid, signal.SIGSTOP)
    try:
        run, module = conda_store("environments", environments=env)
        assert run.rc == 0, run.failure_messages()
        lost = module["environments"][0]["build_id"]
        time.sleep(3)
        run, module = conda_store("environments", environments=env, stale_build_timeout=2)
        assert run.rc == 0, run.failure_messages()
        report = module["environments"][0]
        assert (report["action"], report["previous_build_id"], report["previous_build_status"]) == (
            "rebuilt", lost, "QUEUED")
        assert any("build %d was QUEUED for" % lost in w and "submitted again as build %d" % report["build_id"] in w
                   for w in module["warnings"]), module.get("warnings")
    finally:
        for pid in workers:
            os.kill(pid, signal.SIGCONT)
    run, module = conda_store("environments", environments=env, wait=True)
    assert run.rc == 0 and run.changed == 0, run.failure_messages()
    assert (module["environments"][0]["build_id"], module["environments"][0]["build_status"]) == (
        report["build_id"], "COMPLETED")


def test_bad_specifications_are_all_refused_before_any_request(conda_store, store, ns):
    bad = [{"namespace": ns, "name": "ok", "dependencies": ["python"]},
           {"namespace": ns, "name": "bad name!"},
           {"namespace": ns, "name": "deps", "dependencies": ["python", {"pip": "requests"}]},
           {"namespace": ns, "name": "ok", "dependencies": ["python"]}]
    run, dummy = conda_store("environments", environments=bad)
    assert run.rc != 0
    message = run.failure_messages()[0]
    assert "3 problems in the environments, nothing was changed" in message
    assert "(%s/bad name!): name 'bad name!' has characters conda-store refuses" % ns in message
    assert "dependencies[1]: pip must be a list" in message and "duplicate of environments[0]" in message
    assert not store.namespace_exists(ns)


def test_conda_store_out_of_reach_is_a_clear_error(conda_store, ns):
    run, dummy = conda_store("environments", environments=envs(ns), url="http://127.0.0.1:9/conda-store", retries=1)
    assert run.rc != 0
    assert "conda-store at http://127.0.0.1:9/conda-store did not answer after 2 attempts" in run.failure_messages()[0]


def test_one_environment_and_the_namespace_lifecycle(conda_store, store, ns):
    run, module = conda_store("namespace", namespace=ns)
    assert run.rc == 0 and run.changed == 1 and store.namespace_exists(ns)
    run, module = conda_store("namespace", namespace=ns)
    assert run.changed == 0
    env = {"namespace": ns, "name": "solo", "dependencies": ["python=3.12"]}
    run, module = conda_store("environment", environment=env)
    assert run.rc == 0 and module["environment"]["action"] == "created" and not module["namespace_created"]
    run, module = conda_store("environment", environment=env)
    assert run.changed == 0 and module["environment"]["action"] == "unchanged"

    run, module = conda_store("namespace", namespace=ns, state="absent")
    assert run.rc != 0 and "holds 1 environments (solo)" in run.failure_messages()[0]
    assert store.namespace_exists(ns)
    run, module = conda_store("namespace", namespace=ns, state="absent", force=True, args=["--check"])
    assert run.changed == 1 and store.namespace_exists(ns)
    run, module = conda_store("namespace", namespace=ns, state="absent", force=True)
    assert run.rc == 0 and run.changed == 1 and not store.namespace_exists(ns)
    run, module = conda_store("namespace", namespace=ns, state="absent")
    assert run.changed == 0


def test_environments_layer_from_the_sandbox_inventory(playbook, store):
    run = playbook("playbooks/environments.yml")
    assert run.rc == 0, run.failure_messages()
    assert "data-science" in store.environments("global") and "torch-gpu" in store.environments("ml-team")
    # the one from the test bed's channel really builds, and becomes current
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        builds = store.builds("global", "sandbox-tools")
        if builds and builds[-1]["status"] in ("COMPLETED", "FAILED"):
            break
        time.sleep(2)
    assert builds[-1]["status"] == "COMPLETED", builds[-1]
    assert store.environments("global")["sandbox-tools"]["current_build_id"] == builds[-1]["id"]
    again = playbook("playbooks/environments.yml")
    assert again.rc == 0 and again.changed == 0


def test_no_token_in_verbose_output(playbook, testbed, ns):
    variables = {"cs_url": testbed["conda_store_url"], "cs_token": testbed["conda_store_token"],
                 "cs_module": "environments", "cs_environments": envs(ns)[1:]}
    run = playbook(PLAYBOOK, extra_vars=variables, args=["-vvv", "--diff"], env={"ANSIBLE_STDOUT_CALLBACK": "default"},
                   raw=True)
    assert run.rc == 0
    assert testbed["conda_store_token"] not in run.output and "Bearer " not in run.output
