"""The integration tier: runs the collection against the real test bed (tests/testbed).

The test bed is brought up once per session and shared; a test bed that was already running is reused and left
running. Tests isolate themselves by Kubernetes namespace and by their own artifacts directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTBED = os.path.join(ROOT, "tests", "testbed", "testbed")
STATE = os.environ.get("TESTBED_STATE", os.path.join(ROOT, ".testbed"))
SANDBOX = os.path.join(ROOT, "inventories", "sandbox")
BIN = os.path.join(ROOT, ".venv", "bin")
# the sandbox's Keycloak: the one its stack deploys, at the LoadBalancer address inventories/sandbox gives it
SANDBOX_KEYCLOAK_URL = "http://%s.1.200/auth" % os.environ.get("TB_NET", "10.250")


UP_FAILURE: list[str] = []


def pytest_unconfigure(config):
    if UP_FAILURE:
        print("\n=== the test bed did not come up; the end of `tests/testbed/testbed up`:\n%s" % UP_FAILURE[0],
              file=sys.stderr)


@pytest.fixture(scope="session")
def testbed():
    """Bring the test bed up (or reuse a running one); yield its endpoints; stop it if this session started it."""
    running = subprocess.run([TESTBED, "status"], capture_output=True, check=False).returncode == 0
    if not running:
        up = subprocess.run([TESTBED, "up"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
        print(up.stdout)
        if up.returncode != 0:
            subprocess.run([TESTBED, "down"], check=False)
            # every test that needs the test bed errors with this; the reason is printed once more at the very end
            # (pytest_unconfigure), where a CI log's tail shows it
            UP_FAILURE.append("\n".join(up.stdout.splitlines()[-30:]))
            pytest.fail("the test bed did not come up (exit %d); see its logs in %s/logs:\n%s"
                        % (up.returncode, STATE, UP_FAILURE[0]))
    with open(os.path.join(STATE, "secrets", "keycloak-admin-password")) as f:
        keycloak_password = f.read().strip()
    with open(os.path.join(STATE, "secrets", "conda-store-token")) as f:
        conda_store_token = f.read().strip()
    with open(os.path.join(STATE, "conda-store", "channel-url")) as f:
        conda_channel = f.read().strip()
    yield {
        "state": STATE,
        "kubeconfig": os.path.join(STATE, "kubeconfig"),
        "helm": os.path.join(STATE, "bin", "helm"),
        "kubectl": os.path.join(STATE, "bin", "kubectl"),
        "keycloak_url": "http://127.0.0.1:%s/auth" % os.environ.get("TB_KEYCLOAK_PORT", "18080"),
        "keycloak_password": keycloak_password,
        "conda_store_url": "http://127.0.0.1:%s/conda-store" % os.environ.get("TB_CONDA_STORE_PORT", "18181"),
        "conda_store_token": conda_store_token,
        "conda_channel": conda_channel,
    }
    if not running:
        subprocess.run([TESTBED, "down"], check=True)


@pytest.fixture(scope="session")
def k8s(testbed):
    from kubernetes import client, config

    api = config.new_client_from_config(config_file=testbed["kubeconfig"])
    return client.CoreV1Api(api)


@pytest.fixture
def namespace(k8s, testbed):
    """A unique namespace name for the test; deleted afterwards if the test created it, its Helm releases uninstalled
    first: the real charts' cluster-wide objects (IngressClass, ClusterRoles, webhooks) belong to their release and
    would stop the next test's release of the same chart in another namespace."""
    name = "it-%s" % uuid.uuid4().hex[:8]
    yield name
    from kubernetes.client.exceptions import ApiException

    helm = [testbed["helm"], "--kubeconfig", testbed["kubeconfig"], "-n", name]
    releases = subprocess.run(helm + ["list", "-a", "-q"], capture_output=True, text=True, check=False).stdout.split()
    if releases:
        subprocess.run(helm + ["uninstall", "--no-hooks", "--timeout", "60s"] + releases, capture_output=True,
                       check=False)
    try:
        k8s.delete_namespace(name)
    except ApiException as exc:
        if exc.status != 404:
            raise


class PlaybookRun:
    """The result of one ansible-playbook run with the json callback: rc, stats and every task result."""

    def __init__(self, proc, raw=False):
        self.rc = proc.returncode
        self.stderr = proc.stderr
        self.output = proc.stdout + proc.stderr
        start = proc.stdout.find("{")
        self.data = json.loads(proc.stdout[start:]) if start >= 0 and not raw else {}
        self.stats = self.data.get("stats", {}).get("localhost", {})

    @property
    def changed(self):
        return self.stats.get("changed", 0)

    @property
    def failed(self):
        return self.stats.get("failures", 0)

    def results(self):
        """(task name, result) for every task run on localhost."""
        for play in self.data.get("plays", []):
            for task in play.get("tasks", []):
                result = task.get("hosts", {}).get("localhost")
                if result is not None:
                    yield task["task"]["name"], result

    def failure_messages(self):
        """msg of every failed task, and of every failed item of a failed loop."""
        messages = []
        for dummy, result in self.results():
            if result.get("failed"):
                messages.append(str(result.get("msg")))
                messages.extend(str(item.get("msg")) for item in result.get("results") or [] if item.get("failed"))
        return messages

    def changed_tasks(self):
        return [name for name, result in self.results() if result.get("changed")]


@pytest.fixture
def playbook(testbed, tmp_path):
    """Run a playbook of the checkout against an inventory (default: the sandbox) with extra vars."""

    def run(playbook="site.yml", inventory=SANDBOX, extra_vars=None, args=(), env=None, cwd=ROOT, raw=False):
        command = [os.path.join(BIN, "ansible-playbook"), playbook, "-i", inventory]
        if extra_vars:
            path = tmp_path / ("extra-vars-%s.json" % uuid.uuid4().hex[:6])
            path.write_text(json.dumps(extra_vars))
            command += ["-e", "@%s" % path]
        command += list(args)
        environment = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1",
                           ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"))
        environment.update(env or {})
        proc = subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=900,
                              check=False)
        return PlaybookRun(proc, raw=raw)

    return run


def standin_components(namespace):
    """nebari_components that put the test bed's stand-in chart in place of every upstream chart of the catalog: for
    the tests of the collection's mechanics (AWX, the installed collection), which need no real chart and leave no
    cluster-wide objects (the real charts' CRDs and ClusterRoles belong to one namespace at a time)."""
    import yaml

    standin = os.path.join(ROOT, "tests", "testbed", "charts", "standin")
    with open(os.path.join(ROOT, "roles", "nebari", "vars", "main.yml")) as f:
        catalog = yaml.safe_load(f)["nebari_component_catalog"]
    components = {name: {"chart": {"path": standin}, "timeout": "2m"} for name, entry in catalog.items()
                  if "path" not in entry["chart"]}
    # the device plugin lives in a namespace of its own by default: keep it in the test's, which is deleted after
    components["nvidia-device-plugin"]["namespace"] = namespace
    return components


@pytest.fixture
def sandbox_vars(testbed, namespace, tmp_path):
    """Extra vars that point a sandbox run at the test's own namespace, Keycloak realm and artifacts directory, and
    at the test bed's Keycloak process (the sandbox's own Keycloak is the one its stack deploys, which these runs
    do not)."""
    from keycloak import Admin

    yield {"nebari_namespace": namespace, "nebari_kubeconfig": str(tmp_path / "artifacts" / "kubeconfig"),
           "keycloak_realm_name": namespace, "nebari_users_realm": namespace,
           "nebari_keycloak_url": testbed["keycloak_url"]}
    Admin(testbed["keycloak_url"], testbed["keycloak_password"]).delete_realm(namespace)
