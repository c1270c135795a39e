# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for nebari.platform.inventory_write: writes an inventory directory on the controller, from the
guided init's answers or from a Nebari Classic nebari-config.yaml. Everything is checked before a file is written;
only files whose content changes are written; the vault file is compared decrypted, so a second run changes
nothing."""

from __future__ import annotations

import os
import secrets as random_secrets

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_bytes
from ansible.parsing.vault import VaultLib, VaultSecret
from ansible.plugins.action import ActionBase

from ansible_collections.nebari.platform.plugins.plugin_utils import init_answers, inventory_files
from ansible_collections.nebari.platform.plugins.plugin_utils.classic.errors import ClassicError
from ansible_collections.nebari.platform.plugins.plugin_utils.classic.source import load, read, report_text

ARGS = {
    "dest": {"type": "path", "required": True},
    "source": {"type": "str", "required": True, "choices": ["init", "classic"]},
    "answers": {"type": "dict", "default": {}},
    "classic_config": {"type": "path"},
    "classic_users": {"type": "path"},
    "group_separator": {"type": "str", "default": ";"},
    "vault_password_file": {"type": "path", "required": True},
    "force": {"type": "bool", "default": False},
}
README = """# Nebari deployment: {domain}

Inventory of [nebari.platform](https://github.com/nebari-dev/nebari-platform) for provider {provider}, {origin}.
Edit the files, commit, and run (the vault password file stays out of git):

```sh
ansible-playbook nebari.platform.preflight -i . --vault-password-file {password_file}
ansible-playbook nebari.platform.site -i . --vault-password-file {password_file}
```

- `hosts.yml`: the controller{hosts_note}.
- `group_vars/all/`: one file per layer (nebari, nodes, stack, users, environments) and `secrets.yml`, which
  references the secrets of `vault.yml` (encrypted: `ansible-vault edit group_vars/all/vault.yml`).
- `artifacts/` (kubeconfig, summary) is written by the runs and ignored by git.
"""


class ActionModule(ActionBase):
    _supports_check_mode = True
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=ARGS)
        dest = os.path.abspath(args["dest"])
        try:
            variables, groups, secrets, extra, summary = self._model(args)
        except (ClassicError, init_answers.AnswerError) as e:
            return dict(result, failed=True, changed=False, msg="Nothing written. %s" % e)
        if os.path.exists(dest) and not os.path.isdir(dest):
            return dict(result, failed=True, changed=False, msg="Nothing written: %s exists and is not a directory."
                        % dest)
        if os.path.isdir(dest) and os.listdir(dest) and not args["force"]:
            return dict(result, failed=True, changed=False, msg="Nothing written: %s exists and is not empty. Choose "
                        "a new directory, or set force (init_force / classic_force) to update the files this writes "
                        "there (others are left alone)." % dest)
        password_file = os.path.abspath(os.path.expanduser(args["vault_password_file"]))
        password, created = self._password(password_file)
        vault = VaultLib([("default", VaultSecret(to_bytes(password)))])
        old_secrets = self._old_secrets(os.path.join(dest, inventory_files.VAULT), vault)
        for name, value in secrets.items():
            secrets[name] = value or old_secrets.get(name) or random_secrets.token_urlsafe(24)
        for name, value in old_secrets.items():
            secrets.setdefault(name, value)  # nothing in the vault is lost

        header = "Written by nebari.platform.inventory_write (%s); edit freely." % summary["origin"]
        files = dict(inventory_files.group_vars(variables, header))
        files["hosts.yml"] = inventory_files.hosts_file(groups, header)
        files[".gitignore"] = inventory_files.GITIGNORE
        files.update(extra)
        files["README.md"] = README.format(password_file=password_file, hosts_note=" and the k3s hosts with their "
                                           "node groups" if groups.get("k3s_servers") else "", **summary)
        changed, diffs = [], []
        for relpath, text in sorted(files.items()):
            path = os.path.join(dest, relpath)
            old = read(path)
            if old != text:
                changed.append(relpath)
                diffs.append({"before_header": path, "after_header": path, "before": old or "", "after": text})
        vault_path = os.path.join(dest, inventory_files.VAULT)
        if secrets != old_secrets:
            changed.append(inventory_files.VAULT)
            names = sorted(n for n in secrets if secrets[n] != old_secrets.get(n))
            diffs.append({"prepared": "%s: secrets written (values not shown): %s" % (vault_path, ", ".join(names))})
        if not self._task.check_mode:
            for relpath in changed:
                path = os.path.join(dest, relpath)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                if relpath == inventory_files.VAULT:
                    data = vault.encrypt(to_bytes(inventory_files.vault_text(secrets)))
                    _write(path, data, 0o600)
                else:
                    _write(path, to_bytes(files[relpath]), 0o644)
        result.update(changed=bool(changed), dest=dest, files=changed, unmapped=summary.get("unmapped", []),
                      notes=summary.get("notes", []), password_file_created=created)
        if self._task.diff and diffs:
            result["diff"] = diffs
        return result

    def _model(self, args):
        """(variables, host groups, secrets, extra files, summary) from the init's answers or a Classic config."""
        if args["source"] == "init":
            variables, groups, secrets, notes = init_answers.build(args["answers"])
            return variables, groups, secrets, {}, {
                "origin": "from the guided init", "provider": variables["nebari_cluster_provider"],
                "domain": variables["nebari_domain"], "notes": notes}
        config_path = args.get("classic_config")
        if not config_path:
            raise ClassicError("classic_config", "required: the path of nebari-config.yaml")
        conversion = load(config_path, args.get("classic_users"), args["group_separator"])
        report = report_text(conversion)
        origin = "imported from Nebari Classic's nebari-config.yaml"  # not the file's name: a renamed copy is the same
        # Classic's values are data: a Helm template in them ({{ .Release.Name }}) is written with !unsafe
        variables = inventory_files.untemplated(conversion.variables)
        return variables, {}, dict(conversion.secrets), {"IMPORT-REPORT.md": report}, {
            "origin": origin, "provider": conversion.variables["nebari_cluster_provider"],
            "domain": conversion.variables["nebari_domain"], "unmapped": conversion.unmapped,
            "notes": conversion.notes}

    def _password(self, path):
        if os.path.exists(path):  # never replaced, even when it cannot be read
            password = (read(path, binary=True) or b"").strip()
            if not password:
                raise AnsibleError("vault_password_file %s is empty or cannot be read" % path)
            return password, False
        password = to_bytes(random_secrets.token_urlsafe(32))
        if not self._task.check_mode:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            _write(path, password + b"\n", 0o600)
        return password, True

    def _old_secrets(self, path, vault):
        data = read(path, binary=True)
        if data is None:
            return {}
        try:
            plain = vault.decrypt(data)
        except AnsibleError as e:
            raise AnsibleError("%s cannot be decrypted with vault_password_file (%s): nothing written" % (path, e))
        return dict((inventory_files.load(plain) or {}).items())


def _write(path, data, mode):
    tmp = path + ".tmp"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
