"""The inventory plugin nebari.platform.nebari_config, as ansible-inventory runs it (in a process of its own: the
plugin loader of Ansible must not be set up inside the unit tests' process)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

CONFIGS = os.path.join(os.path.dirname(__file__), "classic_configs")
COLLECTIONS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".collections"))
ENABLED = "nebari.platform.nebari_config, host_list, script, auto, yaml, ini, toml"  # as docs/classic.md says


@pytest.fixture
def inventory(tmp_path):
    """inventory(fixture name, command): the command (ansible-inventory --list) on the fixture copied to
    <tmp>/nebari-config.yaml."""
    def run(name, command=("ansible-inventory", "--list")):
        shutil.copy(os.path.join(CONFIGS, name), str(tmp_path / "nebari-config.yaml"))
        (tmp_path / "ansible.cfg").write_text("[inventory]\nenable_plugins = %s\n" % ENABLED)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_HOME=str(tmp_path / ".ansible"),
                   ANSIBLE_CONFIG=str(tmp_path / "ansible.cfg"), NO_COLOR="1")
        command = [os.path.join(os.path.dirname(sys.executable), command[0]), "-i", "nebari-config.yaml"] + \
            list(command[1:])
        return subprocess.run(command, cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=120,
                              check=False)
    return run


def test_a_classic_file_is_the_inventory_and_a_refused_one_fails_naming_the_key(inventory):
    done = inventory("init-aws.yaml")
    assert done.returncode == 0, done.stderr
    provider = json.loads(done.stdout)["_meta"]["hostvars"]["localhost"]["nebari_cluster_provider"]
    assert provider == {"__ansible_unsafe": "eks"}  # --list marks values not to be templated so
    # not a warning and an empty inventory (Ansible's yaml plugin would take the file): an error naming the key
    refused = inventory(os.path.join("bad", "unknown-provider.yaml"))
    assert refused.returncode != 0
    assert "provider: 'do' is not a provider" in refused.stderr, refused.stderr


def test_classic_values_are_data_and_the_references_templates(inventory):
    """Helm's {{ .Release.Name }} in values reaches the play as it is; the vault references resolve."""
    done = inventory("templates-existing.yaml", ("ansible", "localhost", "-m", "debug", "-a", "msg={{ "
                     "nebari_keycloak_admin_password }}|{{ nebari_extra_releases[0]['values']['fullnameOverride'] }}"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"msg": "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9|{{ .Release.Name }}-mlflow"' in done.stdout, done.stdout
