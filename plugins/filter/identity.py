# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the identity layer: groups with the roles they grant, and users from a CSV file."""

from __future__ import annotations

import csv
import io

from ansible.errors import AnsibleFilterError

from ansible_collections.nebari.platform.plugins.module_utils.keycloak.users import group_path


def realm_groups(custom_groups, builtin):
    """Built-in groups, then the custom ones, each {name, grants: {client id: [client roles]}}.

    builtin maps a built-in group to its grants (client id -> roles of that client, realm-management included).
    A custom group gets the union of the grants of the built-in groups named in its `roles`.
    """
    groups = [{"name": name, "grants": dict((client, sorted(roles)) for client, roles in (grants or {}).items())}
              for name, grants in builtin.items()]
    for group in custom_groups or []:
        grants = {}
        for role in group.get("roles") or []:
            if role not in builtin:
                raise AnsibleFilterError("group %s: unknown role %r (built-in groups: %s)"
                                         % (group["name"], role, ", ".join(builtin)))
            for client, roles in (builtin[role] or {}).items():
                grants[client] = sorted(set(grants.get(client, [])) | set(roles))
        groups.append({"name": group["name"], "grants": grants})
    return groups


def client_role_groups(custom_groups, builtin, client, roles, also=()):
    """Paths of the groups whose members hold one of `roles` of `client`: the built-in groups that grant one (or that
    `also` names), then the custom groups whose `roles` name one of those built-in groups, as the services see them
    in the groups claim (/name)."""
    wanted = set(roles or [])
    granting = [name for name, grants in builtin.items()
                if name in (also or []) or wanted & set((grants or {}).get(client) or [])]
    custom = [group["name"] for group in custom_groups or [] if set(group.get("roles") or []) & set(granting)]
    return [group_path(name) for name in dict.fromkeys(granting + custom)]


def role_mappings(groups):
    """realm_groups' output -> one {group, client_id, roles} per group and client with roles to map."""
    return [{"group": group["name"], "client_id": client, "roles": roles}
            for group in groups for client, roles in sorted(group["grants"].items()) if roles]


def realm_default_groups(wanted, current=None):
    """The default groups to give community.general.keycloak_realm: `current` (the realm's defaultGroups, as
    Keycloak returns them) unchanged when it holds the same groups as `wanted`, else `wanted` as group paths.

    Keycloak answers paths (/users) in its own order; the inventory gives names (users). keycloak_realm compares the
    lists as they are, so the same groups otherwise show as a change on every run, in check mode above all.
    """
    wanted_paths = sorted(set(group_path(group) for group in wanted or []))
    if current is not None and sorted(set(group_path(group) for group in current)) == wanted_paths:
        return current
    return wanted_paths


CSV_FIELDS = ("username", "email", "first_name", "last_name", "groups", "enabled")


def users_from_csv(text, group_separator=";"):
    """CSV text with a header row (username, email, first_name, last_name, groups, enabled) -> nebari_users.

    groups holds group names separated by group_separator; enabled is true unless it says false, no or 0. Empty
    cells are left out, so Keycloak keeps what it has for them.
    """
    reader = csv.DictReader(io.StringIO(text))
    unknown = sorted(set(reader.fieldnames or ()) - set(CSV_FIELDS))
    if unknown or "username" not in (reader.fieldnames or ()):
        raise AnsibleFilterError("users_from_csv: the header must name username and only these columns: %s%s"
                                 % (", ".join(CSV_FIELDS), "; unknown: " + ", ".join(unknown) if unknown else ""))
    users = []
    for line, row in enumerate(reader, start=2):
        if not any((value or "").strip() for value in row.values()):
            continue
        user = {}
        for key, value in row.items():
            value = (value or "").strip()
            if not value:
                continue
            if key == "groups":
                user[key] = [g.strip() for g in value.split(group_separator) if g.strip()]
            elif key == "enabled":
                user[key] = value.lower() not in ("false", "no", "0")
            else:
                user[key] = value
        if "username" not in user:
            raise AnsibleFilterError("users_from_csv: line %d has no username" % line)
        users.append(user)
    return users


class FilterModule:
    def filters(self):
        return {"realm_groups": realm_groups, "client_role_groups": client_role_groups, "role_mappings": role_mappings,
                "users_from_csv": users_from_csv,
                "realm_default_groups": realm_default_groups}
