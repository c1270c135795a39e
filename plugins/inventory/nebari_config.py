# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: nebari_config
short_description: Use a Nebari Classic nebari-config.yaml as the inventory
version_added: 0.1.0
description:
  - Reads a Nebari Classic C(nebari-config.yaml) and gives the inventory nebari.platform's playbooks need - the
    controller (localhost) and the variables of the inventory contract (provider, domain, TLS, node groups,
    profiles, environments, component settings, users).
  - Either name the Classic file itself as the inventory source (its file name must be C(nebari-config.yaml) or
    C(nebari-config.yml), and C(enable_plugins) in ansible.cfg must list nebari.platform.nebari_config), or a YAML
    file ending in C(nebari_config.yml) that sets O(plugin) to C(nebari.platform.nebari_config), with the options
    below.
  - Keys with no counterpart are reported in one warning, each with the reason; nothing is dropped silently.
  - Classic's C(initial_root_password) becomes C(vault_keycloak_admin_password); the conda-store token and the
    services' client secrets are derived from it (HMAC-SHA256), the same as the writer (playbook
    C(nebari.platform.import_classic)) writes to its vault file.
  - Bad input (not YAML, a provider it does not know, a Classic release older than 2024.1.1, a profile whose fields
    contradict each other) stops the run (exit code 4) with an error naming the key, not with a warning (Ansible would
    otherwise let its yaml plugin read the file as an inventory without hosts).
author:
  - nebari.platform maintainers (@nebari-dev)
options:
  plugin:
    description: The name of this plugin, when the source is a configuration file of the plugin.
    type: str
    choices: [nebari.platform.nebari_config]
  config_file:
    description: The Classic file, relative to the plugin's configuration file.
    type: str
    default: nebari-config.yaml
  users_file:
    description:
      - Users to import - the JSON C(nebari keycloak export-users) prints, or a CSV (username, email, first_name,
        last_name, groups, enabled), relative to the plugin's configuration file.
    type: str
    env:
      - name: NEBARI_CLASSIC_USERS
  group_separator:
    description: Separator of the group names in the CSV's groups column.
    type: str
    default: ";"
"""

EXAMPLES = r"""
# inventories/classic/nebari_config.yml, used as: ansible-playbook nebari.platform.site -i inventories/classic
plugin: nebari.platform.nebari_config
config_file: ../../nebari-config.yaml
users_file: users.json

# Or the Classic file itself, with ansible.cfg:
#   [inventory]
#   enable_plugins = nebari.platform.nebari_config, host_list, script, auto, yaml, ini, toml
# and: ansible-playbook nebari.platform.preflight -i nebari-config.yaml
"""

import os

from ansible.plugins.inventory import BaseInventoryPlugin
from ansible.template import trust_as_template
from ansible.utils.display import Display
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.nebari.platform.plugins.plugin_utils.classic.errors import ClassicError
from ansible_collections.nebari.platform.plugins.plugin_utils.classic.source import load
from ansible_collections.nebari.platform.plugins.plugin_utils.inventory_files import Template

CLASSIC_NAMES = ("nebari-config.yaml", "nebari-config.yml")
display = Display()


def data(value):
    """A value of the conversion as Ansible must see it: its own references (Template) are templated, everything
    taken from the Classic file is data, never templated (Helm's {{ .Release.Name }} in a chart's values)."""
    if isinstance(value, dict):
        return dict((k, data(v)) for k, v in value.items())
    if isinstance(value, list):
        return [data(v) for v in value]
    if isinstance(value, Template):
        return trust_as_template(str(value))
    return wrap_var(value)


def refuse(message):
    """Stop the run: Ansible turns any exception of a plugin into a warning and tries the next plugin (the yaml
    plugin then reads a Classic file as an empty inventory, and the run goes on with no hosts)."""
    display.error("%s: %s" % (InventoryModule.NAME, message))
    raise SystemExit(4)  # ansible's exit code of a parser error


class InventoryModule(BaseInventoryPlugin):
    NAME = "nebari.platform.nebari_config"

    def verify_file(self, path):
        name = os.path.basename(path)
        return super().verify_file(path) and (name in CLASSIC_NAMES or name.endswith(("nebari_config.yml",
                                                                                      "nebari_config.yaml")))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        base = os.path.dirname(os.path.abspath(path))
        users, separator = os.environ.get("NEBARI_CLASSIC_USERS") or None, ";"
        if os.path.basename(path) in CLASSIC_NAMES:
            config = path
        else:
            self._read_config_data(path)
            config = os.path.join(base, os.path.expanduser(self.get_option("config_file")))
            users = self.get_option("users_file")
            separator = self.get_option("group_separator")
        if users:
            users = os.path.join(base, os.path.expanduser(users))
        try:
            conversion = load(config, users, separator, keys=("config_file", "users_file"))
        except ClassicError as e:
            refuse("%s: %s" % (config, e))
        self.inventory.add_host("localhost")
        self.inventory.set_variable("localhost", "ansible_connection", "local")
        self.inventory.set_variable("localhost", "ansible_python_interpreter",
                                    trust_as_template("{{ ansible_playbook_python }}"))
        for name, value in conversion.variables.items():
            self.inventory.set_variable("all", name, data(value))
        for name, value in conversion.secrets.items():
            if value is not None:
                self.inventory.set_variable("all", name, wrap_var(value))
        if conversion.unmapped:
            display.warning("%s: %d key(s) have no counterpart in nebari.platform and are not used:\n%s" % (
                config, len(conversion.unmapped),
                "\n".join("- %s: %s" % (u["key"], u["reason"]) for u in conversion.unmapped)))
        for note in conversion.notes:
            display.v("%s: %s" % (config, note))
