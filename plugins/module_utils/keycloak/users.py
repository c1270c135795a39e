# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reconcile Keycloak users with a desired list: a pure plan step and an apply step.

plan(desired, current, ...) compares the inventory's users with what Keycloak holds and returns one action per
user, with no I/O: create, update, disable, remove, unchanged, or skipped (with the reason). Check mode is the plan
without apply; the diff and the per-user result come from the plan. apply(client, realm, actions) carries them out.

Users the collection manages carry the attribute MARKER. Users without it are never changed, disabled or removed
unless the inventory names them and adoption is allowed.
"""

from __future__ import annotations

import copy

from ansible_collections.nebari.platform.plugins.module_utils.actions import Action, pool_map
from ansible_collections.nebari.platform.plugins.module_utils.keycloak.client import KeycloakError

MARKER = "nebari-platform-managed"
MARKER_VALUE = "true"
# inventory field -> Keycloak representation field, for the scalar fields the module manages
FIELDS = (("email", "email"), ("first_name", "firstName"), ("last_name", "lastName"), ("enabled", "enabled"),
          ("email_verified", "emailVerified"))
REDACTED = "********"


def user_argument_spec():
    """The options of one user, shared by keycloak_users (each entry of `users`) and keycloak_user."""
    return dict(
        username=dict(type="str", required=True),
        email=dict(type="str"),
        first_name=dict(type="str"),
        last_name=dict(type="str"),
        enabled=dict(type="bool", default=True),
        email_verified=dict(type="bool"),
        groups=dict(type="list", elements="str"),
        attributes=dict(type="dict", default={}),
        password=dict(type="str", no_log=True),
    )


def normalize_user(user):
    """An inventory user -> the comparable desired state. Keycloak stores usernames and e-mails in lower case."""
    desired = {"username": user["username"].lower()}
    for key, field in FIELDS:
        value = user.get(key)
        if value is not None:
            desired[field] = value.lower() if key == "email" else value
    desired.setdefault("enabled", True)
    attributes = {}
    for name, value in (user.get("attributes") or {}).items():
        attributes[name] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    attributes[MARKER] = [MARKER_VALUE]
    desired["attributes"] = attributes
    # no groups: an existing user's memberships are left as they are, a new user gets the realm's default groups
    groups = user.get("groups")
    desired["groups"] = None if groups is None else sorted(set(group_path(g) for g in groups))
    if user.get("password"):
        desired["password"] = user["password"]
    return desired


def group_path(group):
    """A group name or path -> its path (/name, or /parent/child as given)."""
    return group if group.startswith("/") else "/" + group


def is_managed(user):
    return MARKER_VALUE in ((user.get("attributes") or {}).get(MARKER) or [])


def plan(desired_users, current_users, memberships, absent=(), prune=False, adopt=True, known_groups=None,
         default_groups=()):
    """Compare desired and current users; return the list of actions, one per user concerned.

    desired_users: inventory users (dicts with username, email, first_name, last_name, enabled, groups, attributes,
      password); current_users: Keycloak user representations (with id, attributes); memberships: user id -> set
      of group paths; absent: usernames to remove; prune: disable managed users missing from desired_users;
      adopt: take over unmanaged users that desired_users names; known_groups: group paths that exist (None: do
      not check); default_groups: paths of the realm's default groups, which Keycloak adds to every new user and
      which a created user leaves again unless its list names them (membership is exact).
    """
    by_name = {user["username"].lower(): user for user in current_users}
    wanted = [normalize_user(user) for user in desired_users]
    wanted_names = set(user["username"] for user in wanted)
    actions = []
    for want in wanted:
        missing = [g for g in want["groups"] or () if known_groups is not None and g not in known_groups]
        if missing:
            actions.append(Action(action="failed", username=want["username"],
                                  msg="groups do not exist in the realm: %s" % ", ".join(missing)))
            continue
        have = by_name.get(want["username"])
        if have is None:
            actions.append(_create(want, default_groups))
        elif not is_managed(have) and not adopt:
            actions.append(Action(action="skipped", username=want["username"], id=have["id"],
                                  msg="exists in Keycloak but is not managed by nebari.platform and adopt is false"))
        else:
            actions.append(_update(want, have, set(memberships.get(have["id"], ()))))
    for username in sorted(set(name.lower() for name in absent)):
        have = by_name.get(username)
        if username in wanted_names or have is None:
            continue
        if not is_managed(have):
            actions.append(Action(action="skipped", username=username, id=have["id"],
                                  msg="listed for removal but not managed by nebari.platform: left alone"))
        else:
            actions.append(Action(action="removed", username=username, id=have["id"],
                                  before=_view(have, memberships.get(have["id"], ())), after=None))
    if prune:
        absent_names = set(name.lower() for name in absent)
        for username, have in sorted(by_name.items()):
            if username in wanted_names or username in absent_names or not is_managed(have) or not have.get("enabled", True):
                continue
            after = dict(have, enabled=False)
            actions.append(Action(action="disabled", username=username, id=have["id"], fields={"enabled": False},
                                  before=_view(have, memberships.get(have["id"], ())),
                                  after=_view(after, memberships.get(have["id"], ()))))
    return actions


def _create(want, default_groups=()):
    representation = {key: copy.deepcopy(value) for key, value in want.items()
                      if key != "password" and value is not None}
    groups = default_groups if want["groups"] is None else want["groups"]
    leave = sorted(set(default_groups) - set(groups))
    if want.get("password"):
        representation["credentials"] = [{"type": "password", "value": want["password"], "temporary": True}]
    after = _view(representation, groups)
    if want.get("password"):
        after["password"] = REDACTED
    return Action(action="created", username=want["username"], representation=representation, before=None,
                  after=after, leave=leave)


def _update(want, have, groups):
    fields = dict((field, want[field]) for dummy, field in FIELDS if field in want and have.get(field) != want[field])
    current_attributes = have.get("attributes") or {}
    attributes = dict((name, value) for name, value in want["attributes"].items()
                      if current_attributes.get(name) != value)
    wanted_groups = groups if want["groups"] is None else set(want["groups"])
    join = sorted(wanted_groups - groups)
    leave = sorted(groups - wanted_groups)
    if not fields and not attributes and not join and not leave:
        return Action(action="unchanged", username=want["username"], id=have["id"])
    after = dict(have, **fields)
    after["attributes"] = dict(current_attributes, **attributes)
    return Action(action="updated", username=want["username"], id=have["id"], fields=fields, attributes=attributes,
                  changes=sorted(list(fields) + (["attributes"] if attributes else [])), join=join, leave=leave,
                  before=_view(have, groups), after=_view(after, wanted_groups))


def _view(user, groups):
    """What the diff shows of a user: the managed fields, attributes and groups; never a credential."""
    view = {"username": user.get("username")}
    for dummy, field in FIELDS:
        if field in user:
            view[field] = user[field]
    view["attributes"] = dict(sorted((user.get("attributes") or {}).items()))
    view["groups"] = sorted(groups)
    return view


def apply(client, realm, actions, group_ids, workers=4):
    """Carry out the actions; returns them with `failed` and `msg` set on those that failed.

    A user is created with its groups in one request (the representation's group paths), so it never exists
    without them. Membership changes of an existing user are applied group by group. Independent users go in
    parallel (workers threads); a failure is recorded on its user and the others go on: its action becomes
    `failed` (`planned` says what it was to be), so the summary counts only what was done.
    """
    def run(action):
        try:
            _apply_one(client, realm, action, group_ids)
        except KeycloakError as exc:
            _failed(action, exc.message)
        return action

    pool_map(workers, run, [a for a in actions if a.kind in ("created", "updated", "disabled", "removed")])
    return actions


def _failed(action, msg):
    """A planned action that could not be carried out (or only in part, as its message says) is reported failed."""
    if action.get("partial"):
        msg = "%s only in part: %s" % (action.kind, msg)
    action.update(planned=action.kind, action="failed", failed=True, msg=msg)


def _apply_one(client, realm, action, group_ids):
    users = client.realm_path(realm, "users")
    if action.kind == "created":
        body = {k: v for k, v in action["representation"].items() if k != "groups"}
        if "groups" in action["representation"]:
            body["groups"] = action["representation"]["groups"]
        try:
            client.request("POST", users, body)
        except KeycloakError as exc:
            if exc.status != 409:
                raise
            # created by an earlier request whose answer was lost (Keycloak restarted, say): converge on it
            found = client.get(users, {"username": action["username"], "exact": "true"}) or []
            if not found or not is_managed(found[0]):
                raise
        action["partial"] = True  # the user exists from here on
        if action.get("leave"):
            # Keycloak put the new user in the realm's default groups too; membership is exact
            user_id = client.get(users, {"username": action["username"], "exact": "true",
                                         "briefRepresentation": "true"})[0]["id"]
            for path in action["leave"]:
                client.request("DELETE", client.realm_path(realm, "users", user_id, "groups", group_ids[path]))
    elif action.kind in ("updated", "disabled"):
        user = client.realm_path(realm, "users", action["id"])
        if action.get("fields") or action.get("attributes"):
            # the whole representation goes back: Keycloak treats what a PUT leaves out as removed
            representation = client.get(user)
            representation.update(action.get("fields") or {})
            representation["attributes"] = dict(representation.get("attributes") or {}, **(action.get("attributes") or {}))
            client.request("PUT", user, representation)
            action["partial"] = True
        for path in action.get("join", ()):
            client.request("PUT", client.realm_path(realm, "users", action["id"], "groups", group_ids[path]))
            action["partial"] = True
        for path in action.get("leave", ()):
            if path in group_ids:
                client.request("DELETE", client.realm_path(realm, "users", action["id"], "groups", group_ids[path]))
                action["partial"] = True
    elif action.kind == "removed":
        client.request("DELETE", client.realm_path(realm, "users", action["id"]))
