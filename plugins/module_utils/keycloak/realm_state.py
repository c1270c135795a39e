# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read what a realm holds in a few requests: its users, which of them the collection manages, its groups by path,
and who is in which group."""

from __future__ import annotations

from ansible_collections.nebari.platform.plugins.module_utils.keycloak.users import MARKER, MARKER_VALUE


def groups_by_path(client, realm):
    """Every group of the realm, subgroups included: path -> id."""
    paths = {}
    pending = client.paged(client.realm_path(realm, "groups"), {"briefRepresentation": "true"})
    while pending:
        group = pending.pop()
        paths[group["path"]] = group["id"]
        pending.extend(group.get("subGroups") or [])
        if group.get("subGroupCount") and not group.get("subGroups"):
            pending.extend(client.paged(client.realm_path(realm, "groups", group["id"], "children"),
                                        {"briefRepresentation": "true"}))
    return paths


def memberships(client, realm, group_ids):
    """user id -> set of group paths, read per group (a handful of requests, not one per user)."""
    members = {}
    for path, group_id in group_ids.items():
        for user in client.paged(client.realm_path(realm, "groups", group_id, "members"),
                                 {"briefRepresentation": "true"}):
            members.setdefault(user["id"], set()).add(path)
    return members


def users(client, realm, full_for=()):
    """Every user of the realm. Brief representations (fast, without attributes) carry only the managed marker, read
    with one attribute search; users named in full_for get all their attributes, one request each."""
    path = client.realm_path(realm, "users")
    listed = client.paged(path, {"briefRepresentation": "true"})
    managed = set(user["id"] for user in client.paged(path, {"briefRepresentation": "true",
                                                             "q": "%s:%s" % (MARKER, MARKER_VALUE)}))
    full_for = set(name.lower() for name in full_for)
    for user in listed:
        user.pop("access", None)
        if user["username"] in full_for:
            user["attributes"] = client.get(client.realm_path(realm, "users", user["id"])).get("attributes") or {}
        else:
            user["attributes"] = {MARKER: [MARKER_VALUE]} if user["id"] in managed else {}
    return listed
