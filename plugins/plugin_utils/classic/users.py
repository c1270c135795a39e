# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Users of a Nebari Classic deployment as nebari_users: the JSON `nebari keycloak export-users` prints
({"realm": ..., "users": [Keycloak UserRepresentation, ...]}), a bare list of users, a Keycloak realm export, or a
CSV (header username, email, first_name, last_name, groups, enabled)."""

from __future__ import annotations

import json

from ansible.errors import AnsibleFilterError

from ansible_collections.nebari.platform.plugins.filter.identity import users_from_csv
from ansible_collections.nebari.platform.plugins.plugin_utils.classic.errors import ClassicError
from ansible_collections.nebari.platform.plugins.plugin_utils.preflight.users import BUILTIN_GROUPS

# Keycloak's field -> nebari_users' key
FIELDS = {"username": "username", "email": "email", "firstName": "first_name", "lastName": "last_name",
          "enabled": "enabled", "emailVerified": "email_verified"}
# Fields Keycloak reports that are its own bookkeeping, or credentials the export never holds
NOT_IMPORTED = ("id", "createdTimestamp", "totp", "disableableCredentialTypes", "requiredActions", "notBefore",
                "access", "federatedIdentities", "credentials", "realmRoles", "clientRoles", "origin", "self",
                "federationLink", "serviceAccountClientId", "clientConsents", "socialLinks", "userProfileMetadata")


def parse(text, source, group_separator=";"):
    """(nebari_users, custom group names, notes) from the text of a users file; source names it in errors."""
    stripped = text.lstrip()
    if not stripped.startswith(("{", "[")):
        try:
            users = users_from_csv(text, group_separator)
        except AnsibleFilterError as e:
            raise ClassicError(source, str(e).replace("users_from_csv: ", ""))
        return users, _custom_groups(users), []
    try:
        data = json.loads(text)
    except ValueError as e:
        raise ClassicError(source, "is neither JSON (%s) nor CSV" % e)
    entries = data.get("users") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise ClassicError(source, "must hold a list of users, or an object with a users list (as nebari keycloak "
                           "export-users prints it)")
    users, skipped, dropped = [], [], set()
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("username"), str):
            raise ClassicError("%s: users[%d]" % (source, i), "must be a user with a username")
        if entry.get("serviceAccountClientId") or entry["username"].startswith("service-account-"):
            skipped.append(entry["username"])
            continue
        user = dict((ours, entry[theirs]) for theirs, ours in FIELDS.items() if entry.get(theirs) is not None)
        if isinstance(entry.get("attributes"), dict) and entry["attributes"]:
            user["attributes"] = entry["attributes"]
        if isinstance(entry.get("groups"), list):  # realm exports list group paths: /analyst, /projects/ml
            user["groups"] = [g.rstrip("/").rsplit("/", 1)[-1] for g in entry["groups"] if isinstance(g, str)]
        dropped.update(k for k in entry if k not in FIELDS and k not in ("attributes", "groups"))
        users.append(user)
    notes = []
    if skipped:
        notes.append("%s: service accounts left out (Keycloak's clients own them): %s" % (source, ", ".join(skipped)))
    if dropped:
        notes.append("%s: Keycloak's own fields not imported: %s" % (source, ", ".join(sorted(dropped))))
    if users and not any("groups" in u for u in users):
        notes.append("%s: holds no group memberships (export-users does not list them): the users layer leaves each "
                     "existing user's groups as they are, and a new user gets the realm's default groups; add groups "
                     "to an entry to manage them from the inventory" % source)
    if len(entries) == 100:
        notes.append("%s: holds exactly 100 users, the most one export-users request returns: check that none is "
                     "missing" % source)
    return users, _custom_groups(users), notes


def _custom_groups(users):
    names = []
    for user in users:
        for group in user.get("groups", []):
            if group not in BUILTIN_GROUPS and group not in names:
                names.append(group)
    return names
