# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight check that secrets are not written in plain text in the inventory.

A secret variable must be a reference to another variable (by convention vault_<name>, kept in an ansible-vault
encrypted file), a lookup, or an inline !vault value. A literal string or number is refused. The check reads the
raw inventory value, before templating, and never prints the secret itself. The Helm values of nebari_components
and nebari_extra_releases are searched too, at any depth, for the keys charts keep secrets under (SECRET_VALUE_KEYS).
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
    "nebari_identity_providers": ("client_secret",),
    "nebari_user_federation": ("bind_credential",),
}
# Mappings whose every value is a secret
SECRET_MAPPINGS = ("nebari_keycloak_client_secrets",)
# Releases whose Helm values are searched for secret keys: variable -> True when it is a list of releases
RELEASE_VARIABLES = {"nebari_components": False, "nebari_extra_releases": True}
# Keys of Helm values that hold a secret, compared lower-case without - and _ (adminPassword, api_key, ...)
SECRET_VALUE_KEYS = frozenset((
    "password", "adminpassword", "rootpassword", "userpassword", "postgrespassword", "replicationpassword",
    "apikey", "apitoken", "authtoken", "token", "secrettoken", "clientsecret", "cookiesecret", "secretkey",
    "secretaccesskey", "accesskeysecret", "privatekey", "sharedsecret",
))

VARIABLES = SECRET_VARIABLES + tuple(SECRET_ENTRY_KEYS) + SECRET_MAPPINGS + tuple(RELEASE_VARIABLES)


def is_plain_text(value, vaulted):
    """True when value is a literal: a non-empty string that is no template, or a number; not inline-vaulted."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return True
    if vaulted(value) or not isinstance(value, str) or not value:
        return False
    return "{{" not in value and "{%" not in value


def is_secret_key(key):
    return isinstance(key, str) and key.lower().replace("-", "").replace("_", "") in SECRET_VALUE_KEYS


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
                    label = entry.get("username") or entry.get("name") or entry.get("alias") or ""
                    problems.add(name, "%s is in plain text; reference a vault variable instead, e.g. "
                                 '%s: "{{ vault_%s_%s }}"' % (key, key, name, key),
                                 "[%d]%s" % (i, " (%s)" % label if isinstance(label, str) and label else ""))
    for name, is_list in RELEASE_VARIABLES.items():
        releases = inv.raw.get(name)
        if is_list:
            releases = dict((("[%d]" % i, r) for i, r in enumerate(releases))) if isinstance(releases, list) else {}
        elif isinstance(releases, dict):
            releases = dict((".%s" % key, r) for key, r in releases.items())
        else:
            continue
        for entry, release in releases.items():
            if isinstance(release, dict):
                label = release.get("name") if is_list and isinstance(release.get("name"), str) else ""
                _values(name, "%s%s.values" % (entry, " (%s)" % label if label else ""), release.get("values"),
                        inv.vaulted, problems)


def _values(name, path, value, vaulted, problems):
    """Flag every secret key of Helm values, at any depth, whose value is in plain text."""
    if isinstance(value, dict):
        for key, item in value.items():
            where = "%s.%s" % (path, key)
            if is_secret_key(key) and is_plain_text(item, vaulted):
                problems.add(name, 'is in plain text; reference a vault variable instead, e.g. "{{ vault_%s }}"'
                             % str(key).replace("-", "_"), where)
            else:
                _values(name, where, item, vaulted, problems)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _values(name, "%s[%d]" % (path, i), item, vaulted, problems)
