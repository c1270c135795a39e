# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight checks of users and groups (nebari_users, nebari_groups, nebari_users_absent, nebari_users_prune)."""

from __future__ import annotations

import re

from ansible_collections.nebari.platform.plugins.plugin_utils.preflight.problems import EMAIL, describe
from ansible_collections.nebari.platform.plugins.plugin_utils.preflight.usernames import (
    describe_character,
    fold,
    foreign_characters,
)

# Nebari's built-in Keycloak groups; custom groups map onto their roles.
BUILTIN_GROUPS = ("superadmin", "admin", "developer", "analyst", "users")
USER_KEYS = ("username", "email", "first_name", "last_name", "groups", "enabled", "attributes", "password",
             "email_verified")
GROUP_KEYS = ("name", "roles", "description")
# Keycloak's default user profile: 3 to 255 characters and none of its prohibited characters.
USERNAME_PROHIBITED = re.compile(r"[<>&\"'\s$%!#?§,;:*~/\\|^=\[\]{}()`\x00-\x1f\x7f]")
GROUP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")

VARIABLES = ("nebari_users", "nebari_groups", "nebari_users_absent", "nebari_users_prune")


def check(inv, problems):
    known_groups = set(BUILTIN_GROUPS) | _groups(inv.get("nebari_groups", []), problems)
    present = _users(inv.get("nebari_users", []), known_groups, problems)
    _absent(inv.get("nebari_users_absent", []), present, problems)
    prune = inv.get("nebari_users_prune", False)
    problems.expect_type("nebari_users_prune", prune, bool, "true or false")


def _groups(groups, problems):
    names = set()
    if not problems.expect_type("nebari_groups", groups, list, "a list of {name, roles}"):
        return names
    seen = {}
    for i, group in enumerate(groups):
        entry = "[%d]" % i
        if not problems.expect_type("nebari_groups", group, dict, "a mapping {name, roles}", entry):
            continue
        problems.unknown_keys("nebari_groups", group, GROUP_KEYS, entry)
        name = group.get("name")
        if not isinstance(name, str) or not GROUP_NAME.match(name):
            problems.add("nebari_groups", "name must be 1-63 characters of letters, digits, '_', '.', '-', got %s"
                         % describe(name), entry)
            continue
        entry = "[%d] (%s)" % (i, name)
        if name.lower() in BUILTIN_GROUPS:
            problems.add("nebari_groups", "%r is a built-in Nebari group; give the custom group another name" % name, entry)
        elif name.lower() in seen:
            problems.add("nebari_groups", "duplicate of nebari_groups%s" % seen[name.lower()], entry)
        else:
            seen[name.lower()] = "[%d]" % i
            names.add(name)
        roles = group.get("roles", [])
        if problems.expect_type("nebari_groups", roles, list, "a list of built-in groups whose roles it gets",
                                entry + ".roles"):
            for role in roles:
                if role not in BUILTIN_GROUPS:
                    problems.add("nebari_groups", "unknown role %s (roles are those of the built-in groups: %s)"
                                 % (describe(role), ", ".join(BUILTIN_GROUPS)), entry + ".roles")
    return names


def _users(users, known_groups, problems):
    """Check every user entry; return the usernames defined, folded (usernames.fold) -> entry."""
    usernames, names = {}, {}
    if not problems.expect_type("nebari_users", users, list, "a list of users"):
        return usernames
    for i, user in enumerate(users):
        entry = "[%d]" % i
        if not problems.expect_type("nebari_users", user, dict, "a mapping with at least username", entry):
            continue
        username = user.get("username")
        if not isinstance(username, str) or not username:
            problems.add("nebari_users", "username is required", entry)
        else:
            entry = "[%d] (%s)" % (i, username)
            _username(username, entry, problems)
            first = usernames.setdefault(fold(username), entry)
            names.setdefault(first, username)
            if first != entry and names[first].lower() == username.lower():
                problems.add("nebari_users", "duplicate username: same as nebari_users%s (Keycloak compares usernames "
                             "case-insensitively)" % first, entry)
            elif first != entry:
                problems.add("nebari_users", "duplicate username: looks the same as nebari_users%s (its letters are "
                             "look-alikes from another script or compatibility forms)" % first, entry)
        problems.unknown_keys("nebari_users", user, USER_KEYS, entry)
        _user_fields(user, entry, known_groups, problems)
    return usernames


def _username(username, entry, problems):
    if not 3 <= len(username) <= 255:
        problems.add("nebari_users", "username must be 3 to 255 characters long (Keycloak's user profile)", entry)
    bad = sorted(set(USERNAME_PROHIBITED.findall(username)))
    if bad:
        problems.add("nebari_users", "username contains characters Keycloak refuses: %s" % " ".join(repr(c) for c in bad),
                     entry)
    foreign = foreign_characters(username)
    if foreign:
        problems.add("nebari_users", "username has characters outside the Latin and Common scripts, which Keycloak's "
                     "up-username-not-idn-homograph validator refuses: %s" % ", ".join(map(describe_character, foreign)),
                     entry)


def _user_fields(user, entry, known_groups, problems):
    if "email" in user and user["email"] is not None:
        email = user["email"]
        if not isinstance(email, str) or not EMAIL.match(email):
            problems.add("nebari_users", "email is not a valid address: %s" % describe(email), entry)
    for key in ("first_name", "last_name"):
        if user.get(key) is not None:
            problems.expect_type("nebari_users", user[key], str, "a string", "%s.%s" % (entry, key))
    for key in ("enabled", "email_verified"):
        if key in user:
            problems.expect_type("nebari_users", user[key], bool, "true or false", "%s.%s" % (entry, key))
    if "attributes" in user:
        problems.expect_type("nebari_users", user["attributes"], dict, "a mapping of attribute name to value(s)",
                             entry + ".attributes")
    groups = user.get("groups", [])
    if problems.expect_type("nebari_users", groups, list, "a list of group names", entry + ".groups"):
        for group in groups:
            if group not in known_groups:
                problems.add("nebari_users", "unknown group %s (built-in: %s; custom groups come from nebari_groups)"
                             % (describe(group), ", ".join(BUILTIN_GROUPS)), entry + ".groups")


def _absent(absent, present, problems):
    if not problems.expect_type("nebari_users_absent", absent, list, "a list of usernames"):
        return
    for i, username in enumerate(absent):
        entry = "[%d]" % i
        if not isinstance(username, str) or not username:
            problems.add("nebari_users_absent", "must be a username, got %s" % describe(username), entry)
        elif fold(username) in present:
            problems.add("nebari_users_absent", "%r is also listed in nebari_users%s: a user is either present or "
                         "absent" % (username, present[fold(username)]), entry)
