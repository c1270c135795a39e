# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight check that secrets are not written in plain text in the inventory.

A secret variable must be a reference to another variable (by convention vault_<name>, kept in an ansible-vault
encrypted file), a lookup, or an inline !vault value. A literal string is refused. The check reads the raw
inventory value, before templating, and never prints the secret itself.
"""

from __future__ import annotations

# Variables of the contract that hold secrets.
SECRET_VARIABLES = (
    "k3s_token",
    "nebari_keycloak_admin_password",
    "nebari_conda_store_token",
)
# Keys inside list entries that hold secrets: variable -> keys of each entry
SECRET_ENTRY_KEYS = {
    "nebari_users": ("password",),
}
# Mappings whose every value is a secret
SECRET_MAPPINGS = ("nebari_keycloak_client_secrets",)

VARIABLES = SECRET_VARIABLES + tuple(SECRET_ENTRY_KEYS) + SECRET_MAPPINGS


def is_plain_text(value, vaulted):
    """True when value is a literal, non-empty string: not a template, not inline-vaulted."""
    if vaulted(value) or not isinstance(value, str) or not value:
        return False
    return "{{" not in value and "{%" not in value


def check(inv, problems):
    for name in SECRET_VARIABLES:
        if name in inv.raw and is_plain_text(inv.raw[name], inv.vaulted):
            problems.add(name, 'holds a secret in plain text; set %s: "{{ vault_%s }}" and define vault_%s in a file '
                         'encrypted with ansible-vault' % (name, name, name))
    for name in SECRET_MAPPINGS:
        mapping = inv.raw.get(name)
        if isinstance(mapping, dict):
            for key, value in mapping.items():
                if is_plain_text(value, inv.vaulted):
                    problems.add(name, 'is in plain text; reference a vault variable instead, e.g. "{{ vault_%s }}"'
                                 % str(key).replace("-", "_"), ".%s" % key)
    for name, keys in SECRET_ENTRY_KEYS.items():
        entries = inv.raw.get(name)
        if not isinstance(entries, list):
            continue
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                continue
            for key in keys:
                if is_plain_text(entry.get(key), inv.vaulted):
                    label = entry.get("username") or entry.get("name") or ""
                    problems.add(name, "%s is in plain text; reference a vault variable instead, e.g. "
                                 '%s: "{{ vault_%s_%s }}"' % (key, key, name, key),
                                 "[%d]%s" % (i, " (%s)" % label if isinstance(label, str) and label else ""))
