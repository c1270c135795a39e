"""The ways in: the guided init and the Classic import write inventories that pass preflight as written, a second
run changes nothing, bad input writes nothing; the nebari_config inventory plugin gives the same inventory."""

from __future__ import annotations

import fcntl
import glob
import os
import pty
import select
import subprocess
import sys
import termios
import time

import pytest
import yaml

from conftest import BIN, ROOT

CONFIGS = os.path.join(ROOT, "tests", "unit", "classic_configs")
GOOD = sorted(os.path.basename(p) for p in glob.glob(os.path.join(CONFIGS, "*.yaml")))
BAD = {
    "not-yaml.yaml": "is not YAML",
    "old-version.yaml": "nebari_version: 2023.7.2 is older than the importer knows",
    "unknown-provider.yaml": "provider: 'do' is not a provider",
    "contradicting-profile.yaml": "cpu_guarantee: ",
    "users-without-yaml-access.yaml": "users and groups are only allowed with access: yaml",
    "qhub.yaml": "qhub_version: this is a QHub configuration",
}
K3S_ANSWERS = {"provider": "k3s", "domain": "nebari.example.com", "servers": "192.168.10.11, 192.168.10.12, 192.168.10.13",
               "agents": "user=192.168.10.21,worker=192.168.10.31 192.168.10.32,gpu=192.168.10.41",
               "metallb_addresses": "192.168.10.240-192.168.10.250", "tls": "letsencrypt",
               "acme_email": "ops@example.com", "admin_username": "alia", "admin_email": "alia@example.com"}
ANSWERS = {
    "k3s": K3S_ANSWERS,
    "eks": {"provider": "eks", "domain": "nebari.example.com", "cluster": "nebari-prod", "region": "eu-west-1",
            "gpu_pools": "gpu-a100"},
    "gke": {"provider": "gke", "domain": "nebari.example.com", "cluster": "nebari-prod", "project": "my-project",
            "location": "europe-west1"},
    "aks": {"provider": "aks", "domain": "nebari.example.com", "cluster": "nebari-prod", "resource_group": "rg"},
    "existing": {"provider": "existing", "domain": "nebari.example.com", "kubeconfig": "KUBECONFIG"},
}


@pytest.fixture
def preflight(playbook, testbed, tmp_path):
    """Preflight on an inventory, with what this machine lacks pointed elsewhere (as for the sample inventories)."""

    def run(inventory, password_file):
        return playbook("playbooks/preflight.yml", inventory=str(inventory), extra_vars={
            "nebari_cloud_clis": {"eks": sys.executable, "gke": sys.executable, "aks": sys.executable},
            "nebari_helm_binary": testbed["helm"], "nebari_existing_kubeconfig": testbed["kubeconfig"],
            "nebari_kubeconfig": str(tmp_path / "artifacts" / "kubeconfig")},
            args=["--skip-tags", "gpu", "--vault-password-file", str(password_file)])

    return run


def _init(playbook, tmp_path, answers, dest, force=False):
    return playbook("playbooks/init.yml", inventory="localhost,", extra_vars={
        "init_answers": answers, "init_dest": str(dest), "vault_password_file": str(tmp_path / "vault-pass"),
        "init_interactive": False, "init_force": force})


@pytest.mark.parametrize("provider", sorted(ANSWERS))
def test_init_writes_an_inventory_that_passes_preflight_and_lint(provider, playbook, preflight, testbed, tmp_path):
    answers = dict(ANSWERS[provider])
    if provider == "existing":
        answers["kubeconfig"] = testbed["kubeconfig"]
    dest = tmp_path / "prod"
    first = _init(playbook, tmp_path, answers, dest)
    assert first.rc == 0, first.failure_messages() or first.stderr
    assert first.changed == 1
    assert (tmp_path / "vault-pass").stat().st_mode & 0o777 == 0o600
    vault = (dest / "group_vars" / "all" / "vault.yml").read_text()
    assert vault.startswith("$ANSIBLE_VAULT;1.1;AES256")
    plain = [p.read_text() for p in dest.rglob("*.yml") if p.name not in ("vault.yml", "secrets.yml")]
    assert "vault_keycloak_admin_password" not in "".join(plain)
    run = preflight(dest, tmp_path / "vault-pass")
    assert run.rc == 0, run.failure_messages() or run.stderr
    lint = subprocess.run([os.path.join(BIN, "ansible-lint"), "--offline", "--format", "pep8", "--profile", "production", "."],
                          cwd=dest, capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    again = _init(playbook, tmp_path, answers, dest, force=True)
    assert again.rc == 0 and again.changed == 0, again.failure_messages()
    assert (dest / "group_vars" / "all" / "vault.yml").read_text() == vault


def test_init_refuses_a_directory_that_is_not_empty(playbook, tmp_path):
    dest = tmp_path / "prod"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine\n")
    run = _init(playbook, tmp_path, K3S_ANSWERS, dest)
    assert run.rc != 0
    assert "exists and is not empty" in run.failure_messages()[0]
    assert sorted(p.name for p in dest.iterdir()) == ["notes.txt"]


def test_init_lists_every_missing_answer_and_writes_nothing(playbook, tmp_path):
    run = _init(playbook, tmp_path, {"provider": "k3s", "tls": "letsencrypt", "servers": "10.0.0.1,10.0.0.2"},
                tmp_path / "prod")
    assert run.rc != 0
    message = run.failure_messages()[0]
    for text in ("domain: required", "metallb_addresses: required", "acme_email: required",
                 "servers: give 1 server, or 3"):
        assert text in message
    assert not (tmp_path / "prod").exists()
    assert not (tmp_path / "vault-pass").exists()


def _import(playbook, tmp_path, config, dest, users=None, force=False, args=()):
    extra = {"classic_config": os.path.join(CONFIGS, config), "classic_dest": str(dest),
             "vault_password_file": str(tmp_path / "vault-pass"), "classic_force": force}
    if users:
        extra["classic_users"] = os.path.join(CONFIGS, users)
    return playbook("playbooks/import_classic.yml", inventory="localhost,", extra_vars=extra, args=args)


@pytest.mark.parametrize("config", GOOD)
def test_import_passes_preflight_and_a_second_run_changes_nothing(config, playbook, preflight, tmp_path):
    dest = tmp_path / "prod"
    users = "users-export.json" if config.startswith("rich") else None
    first = _import(playbook, tmp_path, config, dest, users)
    assert first.rc == 0, first.failure_messages() or first.stderr
    report = (dest / "IMPORT-REPORT.md").read_text()
    classic = yaml.safe_load(open(os.path.join(CONFIGS, config)))
    password = classic["security"]["keycloak"]["initial_root_password"]
    for path in dest.rglob("*"):
        if path.is_file() and path.name != "vault.yml":
            assert password not in path.read_text(), path
    for key in ("ci_cd", "terraform_state"):
        if key in classic:
            assert "`%s`" % key in report
    run = preflight(dest, tmp_path / "vault-pass")
    assert run.rc == 0, run.failure_messages() or run.stderr
    again = _import(playbook, tmp_path, config, dest, users, force=True, args=["--check", "--diff"])
    assert again.rc == 0 and again.changed == 0, again.changed_tasks()
    again = _import(playbook, tmp_path, config, dest, users, force=True)
    assert again.rc == 0 and again.changed == 0, again.changed_tasks()


@pytest.mark.parametrize("config", sorted(BAD))
def test_bad_classic_config_names_the_key_and_writes_nothing(config, playbook, tmp_path):
    run = _import(playbook, tmp_path, os.path.join("bad", config), tmp_path / "prod")
    assert run.rc != 0
    message = run.failure_messages()[0]
    assert message.startswith("Nothing written.")
    assert BAD[config] in message
    assert not (tmp_path / "prod").exists()


def test_inventory_plugin_reads_the_classic_file_as_the_writer_does(playbook, preflight, tmp_path):
    """The plugin's inventory passes preflight and holds the variables (secrets included) the writer wrote."""
    source = tmp_path / "classic"
    source.mkdir()
    (source / "nebari-config.yaml").write_text(open(os.path.join(CONFIGS, "rich-aws-gpu.yaml")).read())
    (source / "users.json").write_text(open(os.path.join(CONFIGS, "users-export.json")).read())
    (source / "nebari_config.yml").write_text("plugin: nebari.platform.nebari_config\nusers_file: users.json\n")
    (tmp_path / "unused-pass").write_text("no vault file in this inventory\n")
    run = preflight(source / "nebari_config.yml", tmp_path / "unused-pass")
    assert run.rc == 0, run.failure_messages() or run.stderr
    inventory = subprocess.run([os.path.join(BIN, "ansible-inventory"), "-i", str(source / "nebari_config.yml"),
                                "--list", "--export"], capture_output=True, text=True, check=True,
                               env=dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg")))
    plugin_vars = _plain(yaml.safe_load(inventory.stdout)["all"]["vars"])
    assert "terraform_state" in inventory.stderr  # the unmapped keys are reported
    dest = tmp_path / "prod"
    written = _import(playbook, tmp_path, "rich-aws-gpu.yaml", dest, "users-export.json")
    assert written.rc == 0
    files = {}
    for path in (dest / "group_vars" / "all").glob("*.yml"):
        if path.name != "vault.yml":
            files.update(yaml.safe_load(path.read_text()))
    view = subprocess.run([os.path.join(BIN, "ansible-vault"), "view", "--vault-password-file",
                           str(tmp_path / "vault-pass"), str(dest / "group_vars" / "all" / "vault.yml")],
                          capture_output=True, text=True, check=True)
    files.update(yaml.safe_load(view.stdout))
    assert plugin_vars == files


def _plain(data):
    """ansible-inventory's JSON with its {"__ansible_unsafe": value} markers unwrapped."""
    if isinstance(data, dict):
        if set(data) == {"__ansible_unsafe"}:
            return data["__ansible_unsafe"]
        return dict((k, _plain(v)) for k, v in data.items())
    if isinstance(data, list):
        return [_plain(v) for v in data]
    return data


def test_init_asks_what_the_answers_leave_out(testbed, tmp_path):
    """The prompts on a terminal: only the questions of the provider and TLS mode chosen, defaults on Enter."""
    master, slave = pty.openpty()
    dest = tmp_path / "prod"
    proc = subprocess.Popen([os.path.join(BIN, "ansible-playbook"), "playbooks/init.yml", "-i", "localhost,",
                             "-e", "init_dest=%s" % dest, "-e", "vault_password_file=%s" % (tmp_path / "pass"),
                             "-e", '{"init_answers": {"domain": "nebari.example.com"}}'],
                            cwd=ROOT, stdin=slave, stdout=slave, stderr=slave, close_fds=True,
                            preexec_fn=lambda: _controlling_terminal(slave),
                            env=dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1"))
    os.close(slave)
    replies = [("Where does Nebari run?", "existing"), ("TLS certificate", ""),
               ("Path of the cluster's kubeconfig", testbed["kubeconfig"]), ("first Nebari admin", "")]
    seen, output = [], ""
    try:
        while replies or proc.poll() is None:
            ready, dummy, dummy = select.select([master], [], [], 60)
            assert ready, "no prompt within 60 s:\n" + output
            try:
                output += os.read(master, 4096).decode(errors="replace")
            except OSError:  # the playbook ended and closed the terminal
                break
            if replies and replies[0][0] in output.rsplit("[Ask", 1)[-1]:
                prompt, reply = replies.pop(0)
                seen.append(prompt)
                time.sleep(1)  # pause discards what was typed before it listens, as a terminal user's typeahead
                os.write(master, (reply + "\r").encode())
    finally:
        os.close(master)
        proc.wait(timeout=60)
    assert proc.returncode == 0, output
    assert seen == ["Where does Nebari run?", "TLS certificate", "Path of the cluster's kubeconfig",
                    "first Nebari admin"]
    for prompt in ("DNS name users reach Nebari at", "E-mail Let's Encrypt", "k3s servers", "E-mail of the first"):
        assert prompt not in output  # given, or not a question of provider existing, TLS selfsigned, no admin
    written = yaml.safe_load((dest / "group_vars" / "all" / "nebari.yml").read_text())
    assert written["nebari_cluster_provider"] == "existing" and written["nebari_tls"] == {"mode": "selfsigned"}
    assert written["nebari_existing_kubeconfig"] == testbed["kubeconfig"]


def _controlling_terminal(fd):
    """In the child: a session of its own with the pseudo-terminal as its terminal, as ansible's pause needs."""
    os.setsid()
    fcntl.ioctl(fd, termios.TIOCSCTTY, 0)
