"""The pure plan step of keycloak_users: desired list + current realm state -> one action per user."""

import json

from ansible_collections.nebari.platform.plugins.module_utils.actions import summary
from ansible_collections.nebari.platform.plugins.module_utils.keycloak.users import MARKER, plan

GROUPS = {"/admin", "/developer", "/analyst", "/users", "/ml-team"}


def kc_user(username, uid=None, managed=True, **fields):
    user = {"id": uid or "id-" + username, "username": username, "enabled": True, "emailVerified": False,
            "attributes": {MARKER: ["true"]} if managed else {}}
    user.update(fields)
    return user


def by_user(actions):
    return {a["username"]: a for a in actions}


def test_missing_user_is_created_with_groups_marker_and_temporary_password():
    actions = plan([{"username": "Alia", "email": "Alia@Example.com", "first_name": "Alia", "groups": ["analyst"],
                     "password": "s3cret-initial"}], [], {}, known_groups=GROUPS)
    (action,) = actions
    assert action.kind == "created"
    rep = action["representation"]
    assert rep["username"] == "alia" and rep["email"] == "alia@example.com" and rep["enabled"] is True
    assert rep["groups"] == ["/analyst"]
    assert rep["attributes"] == {MARKER: ["true"]}
    assert rep["credentials"] == [{"type": "password", "value": "s3cret-initial", "temporary": True}]
    assert "s3cret-initial" not in json.dumps(action["after"])


def test_a_created_user_leaves_the_default_groups_its_list_does_not_name():
    (action,) = plan([{"username": "alia", "groups": ["analyst", "ml-team"]}], [], {}, known_groups=GROUPS,
                     default_groups=["/analyst", "/users"])
    assert action["representation"]["groups"] == ["/analyst", "/ml-team"] and action["leave"] == ["/users"]


def test_an_identical_user_is_unchanged_whatever_the_case_of_its_email():
    current = [kc_user("alia", email="alia@example.com", firstName="Alia")]
    actions = plan([{"username": "alia", "email": "ALIA@example.com", "first_name": "Alia", "groups": ["/analyst"]}],
                   current, {"id-alia": {"/analyst"}}, known_groups=GROUPS)
    assert [a.kind for a in actions] == ["unchanged"]


def test_changed_fields_and_exact_group_membership():
    current = [kc_user("alia", email="alia@example.com", attributes={MARKER: ["true"], "team": ["a"], "keep": ["x"]})]
    actions = plan([{"username": "alia", "email": "alia@new.example.com", "groups": ["developer", "ml-team"],
                     "attributes": {"team": "b"}, "enabled": False}],
                   current, {"id-alia": {"/analyst", "/developer"}}, known_groups=GROUPS)
    (action,) = actions
    assert action.kind == "updated"
    assert action["changes"] == ["attributes", "email", "enabled"]
    assert action["join"] == ["/ml-team"] and action["leave"] == ["/analyst"]
    assert action["fields"] == {"email": "alia@new.example.com", "enabled": False}
    assert action["attributes"] == {"team": ["b"]}  # only what changes; "keep" stays as it is
    assert action["after"]["attributes"] == {MARKER: ["true"], "team": ["b"], "keep": ["x"]}
    assert action["before"]["groups"] == ["/analyst", "/developer"]
    assert action["after"]["groups"] == ["/developer", "/ml-team"]


def test_fields_not_given_are_left_alone_and_membership_only_changes_need_no_put():
    current = [kc_user("alia", email="alia@example.com", firstName="Alia")]
    (action,) = plan([{"username": "alia", "groups": ["admin"]}], current, {}, known_groups=GROUPS)
    assert action.kind == "updated" and action["changes"] == [] and not action["fields"] and not action["attributes"]
    assert action["join"] == ["/admin"]


def test_unmanaged_users_are_adopted_only_when_allowed():
    current = [kc_user("hand", managed=False, email="hand@example.com")]
    desired = [{"username": "hand", "email": "hand@example.com"}]
    (adopted,) = plan(desired, current, {}, known_groups=GROUPS)
    assert adopted.kind == "updated" and adopted["changes"] == ["attributes"]
    (skipped,) = plan(desired, current, {}, adopt=False, known_groups=GROUPS)
    assert skipped.kind == "skipped"


def test_removal_touches_managed_users_only():
    current = [kc_user("gone"), kc_user("hand", managed=False)]
    actions = by_user(plan([], current, {}, absent=["GONE", "hand", "never-existed"]))
    assert actions["gone"].kind == "removed"
    assert actions["hand"].kind == "skipped"
    assert "never-existed" not in actions


def test_prune_disables_missing_managed_users_and_never_deletes_or_touches_others():
    current = [kc_user("kept"), kc_user("stale"), kc_user("already-off", enabled=False),
               kc_user("hand", managed=False)]
    actions = by_user(plan([{"username": "kept"}], current, {}, prune=True))
    assert actions["stale"].kind == "disabled"
    assert actions["stale"]["fields"] == {"enabled": False}
    assert set(actions) == {"kept", "stale"}
    assert summary(actions.values()) == {"unchanged": 1, "disabled": 1}


def test_without_prune_missing_users_are_left_alone():
    assert plan([], [kc_user("stale")], {}) == []


def test_a_group_that_does_not_exist_fails_that_user_only():
    actions = by_user(plan([{"username": "alia", "groups": ["wizards"]}, {"username": "blake"}], [], {},
                           known_groups=GROUPS))
    assert actions["alia"].kind == "failed" and "/wizards" in actions["alia"]["msg"]
    assert actions["blake"].kind == "created"


def test_an_entry_without_groups_keeps_memberships_and_a_new_user_keeps_the_default_groups():
    """Imported users (nebari keycloak export-users has no memberships) must not lose their groups."""
    current = [kc_user("alia")]
    actions = by_user(plan([{"username": "alia"}, {"username": "blake"}], current, {"id-alia": ["/admin"]},
                           known_groups=GROUPS, default_groups=["/analyst", "/users"]))
    assert actions["alia"].kind == "unchanged"
    assert "groups" not in actions["blake"]["representation"] and not actions["blake"].get("leave")
    assert actions["blake"]["after"]["groups"] == ["/analyst", "/users"]
    (empty,) = plan([{"username": "alia", "groups": []}], current, {"id-alia": ["/admin"]}, known_groups=GROUPS)
    assert empty["leave"] == ["/admin"]  # groups: [] still means no group
