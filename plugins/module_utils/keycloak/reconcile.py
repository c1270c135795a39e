# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What keycloak_users and keycloak_user do with one realm: read, plan, apply (unless check mode), report."""

from __future__ import annotations

import re

from ansible_collections.nebari.platform.plugins.module_utils.keycloak import realm_state
from ansible_collections.nebari.platform.plugins.module_utils.keycloak.client import KeycloakError
from ansible_collections.nebari.platform.plugins.module_utils.actions import summary
from ansible_collections.nebari.platform.plugins.module_utils.keycloak.users import MARKER, apply, is_managed, plan

FAILED_LISTED = 20  # failed users listed in full, in users and in msg
NAMES_SHOWN = 10  # names shown per reason past that
REQUEST = re.compile(r"^(GET|POST|PUT|DELETE) \S+: ")  # the request a client error starts with

CHANGES = ("created", "updated", "disabled", "removed")


def reconcile_users(client, realm, users, absent=(), prune=False, adopt=True, workers=4, check_mode=False,
                    diff=False):
    try:
        group_ids = realm_state.groups_by_path(client, realm)
    except KeycloakError as exc:
        if exc.status != 404:
            raise
        if not check_mode:
            raise KeycloakError("realm %s does not exist in Keycloak at %s: the keycloak_realm role (the identity "
                                "layer) creates it" % (realm, client.url), status=404)
        group_ids = None  # check mode before the realm exists: every user would be created
    if group_ids is None:
        current, members, default_groups, known_groups = [], {}, [], None
    else:
        current = realm_state.users(client, realm, full_for=[u["username"] for u in users if u.get("attributes")])
        members = realm_state.memberships(client, realm, group_ids)
        default_groups = [group["path"] for group in client.get(client.realm_path(realm, "default-groups")) or []]
        known_groups = set(group_ids)
    actions = plan(users, current, members, absent=absent, prune=prune, adopt=adopt, known_groups=known_groups,
                   default_groups=default_groups)
    error = None
    if not check_mode:
        apply(client, realm, actions, group_ids, workers=workers)
        try:
            _check_marker_sticks(client, realm, actions)
        except KeycloakError as exc:
            error = exc.message  # the users are created or updated all the same: the result says so

    # an action that failed during apply has become "failed": the counts and lists are what was done
    failed = [a for a in actions if a.kind == "failed"]
    # unchanged users are only counted, and past FAILED_LISTED failures (Keycloak down at two thousand users) only
    # the first are listed in full: at a thousand users either list would be most of the result
    listed = set(id(a) for a in failed[:FAILED_LISTED])
    result = {
        "changed": any(a.kind in CHANGES or a.get("partial") for a in actions),
        "users": [_report(a) for a in actions if a.kind != "unchanged" and (a.kind != "failed" or id(a) in listed)],
        "summary": summary(actions),
    }
    messages = [error] if error else []
    if failed:
        result["failed_users"] = [a["username"] for a in failed]
        messages.append(failure_message(failed, len(actions)))
    if messages:
        result["failed"] = True
        result["msg"] = "; ".join(messages)
    if diff:
        changed = [a for a in actions if a.kind in CHANGES]
        result["diff"] = {
            "before": {a["username"]: a.get("before") for a in changed if a.get("before") is not None},
            "after": {a["username"]: a.get("after") for a in changed if a.get("after") is not None},
        }
    return result


def failure_message(failed, total):
    """Each failed user with its reason, or, past FAILED_LISTED, the reasons with how many users each and the
    first of their names (a reason is the message without its request: "POST /admin/...: ")."""
    if len(failed) <= FAILED_LISTED:
        return "%d of %d users could not be reconciled: %s" % (
            len(failed), total, "; ".join("%s: %s" % (a["username"], a.get("msg")) for a in failed))
    reasons = {}
    for action in failed:
        reasons.setdefault(REQUEST.sub("", action.get("msg") or "no reason given"), []).append(action["username"])
    return "%d of %d users could not be reconciled (all their names in failed_users): %s" % (len(failed), total, "; ".join(
        "%d users: %s (%s%s)" % (len(names), reason, ", ".join(names[:NAMES_SHOWN]),
                                 " and %d more" % (len(names) - NAMES_SHOWN) if len(names) > NAMES_SHOWN else "")
        for reason, names in sorted(reasons.items(), key=lambda item: -len(item[1]))))


def _report(action):
    report = {"username": action["username"], "action": action.kind}
    for key in ("planned", "changes", "join", "leave", "msg"):
        if action.get(key) is not None:
            report[key] = action[key]
    if action.get("failed"):
        report["failed"] = True
    return report


def _check_marker_sticks(client, realm, actions):
    """Keycloak 24+ silently drops attributes its user profile does not declare, unless the realm allows unmanaged
    attributes. Then nothing could ever be recognised as managed: say so instead of reporting a change every run."""
    marked = [a for a in actions if a.kind in ("created", "updated") and not a.get("failed")
              and (a.kind == "created" or "attributes" in (a.get("changes") or []))]
    if not marked:
        return
    found = client.get(client.realm_path(realm, "users"), {"username": marked[0]["username"], "exact": "true",
                                                           "briefRepresentation": "false"}) or []
    if found and not is_managed(found[0]):
        raise KeycloakError(
            "realm %s dropped the attribute %s of user %s: its user profile must allow unmanaged attributes "
            "(Realm settings > General > Unmanaged attributes: 'Only administrators can write', as the "
            "nebari.platform.keycloak_realm role sets it)" % (realm, MARKER, marked[0]["username"]))
