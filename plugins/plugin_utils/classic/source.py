# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading a Classic config and its users from files (shared by the inventory plugin and the writer), and the
import report the writer leaves beside the inventory."""

from __future__ import annotations

import os

import yaml

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.nebari.platform.plugins.plugin_utils.classic import users as classic_users
from ansible_collections.nebari.platform.plugins.plugin_utils.classic.convert import convert
from ansible_collections.nebari.platform.plugins.plugin_utils.classic.errors import ClassicError


def load(config_path, users_path=None, group_separator=";", keys=("classic_config", "classic_users")):
    """Read and convert a Classic config (and a users file): ClassicError for anything bad. keys: how the caller
    names the two paths in errors."""
    text = read(os.path.expanduser(config_path))
    if text is None:
        raise ClassicError(keys[0], "no such file: %s" % config_path)
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ClassicError(os.path.basename(config_path), "is not YAML: %s" % e)
    users, groups, notes = None, (), ()
    if users_path:
        users_text = read(os.path.expanduser(users_path))
        if users_text is None:
            raise ClassicError(keys[1], "no such file: %s" % users_path)
        users, groups, notes = classic_users.parse(users_text, os.path.basename(users_path), group_separator)
    return convert(config, users, groups, notes)


def report_text(conversion):
    """IMPORT-REPORT.md; it does not name the input file, so that importing a renamed copy changes nothing."""
    lines = ["# Import report: Nebari Classic's nebari-config.yaml", "",
             "Keys of the Classic file with no counterpart in the inventory, and why. Secrets among them are kept in "
             "group_vars/all/vault.yml.", ""]
    lines += ["- `%s`: %s" % (u["key"], u["reason"]) for u in conversion.unmapped] or ["(none)"]
    lines += ["", "## Notes", ""] + (["- %s" % n for n in conversion.notes] or ["(none)"])
    return "\n".join(lines) + "\n"


def read(path, binary=False):
    """A file's content (text or bytes), None when it cannot be read."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except (IOError, OSError):
        return None
    return data if binary else to_text(data)
