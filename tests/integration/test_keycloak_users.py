"""keycloak_users against the test bed's Keycloak: create, no-op, update, group moves, disable, removal, prune
safety, check mode, diff, and no secret in -vvv output. Each test works in a realm of its own."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from faultproxy import FaultProxy
from keycloak import Admin

PLAYBOOK = "tests/integration/playbooks/keycloak_users.yml"
GROUPS = ["superadmin", "admin", "developer", "analyst", "users", "ml-team"]
INITIAL_PASSWORD = "initial-Pw-%s" % uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def admin(testbed):
    return Admin(testbed["keycloak_url"], testbed["keycloak_password"])


@pytest.fixture
def realm(admin):
    name = "it-users-%s" % uuid.uuid4().hex[:6]
    admin.create_realm(name, GROUPS)
    yield name
    admin.delete_realm(name)


@pytest.fixture
def reconcile(playbook, testbed, realm):
    def run(users, args=(), **extra):
        variables = {"kc_url": testbed["keycloak_url"], "kc_password": testbed["keycloak_password"],
                     "kc_realm": realm, "kc_users": users}
        variables.update({"kc_" + key: value for key, value in extra.items()})
        result = playbook(PLAYBOOK, extra_vars=variables, args=args)
        module = next((r for name, r in result.results() if name == "Reconcile the users of the test realm"), {})
        return result, module

    return run


USERS = [
    {"username": "alia", "email": "Alia@Example.com", "first_name": "Alia", "groups": ["analyst", "ml-team"],
     "password": INITIAL_PASSWORD},
    {"username": "blake", "email": "blake@example.com", "groups": ["developer"]},
    {"username": "casey", "email": "casey@example.com", "groups": ["admin", "developer"],
     "attributes": {"team": "platform"}},
]


def actions(module):
    return {u["username"]: u["action"] for u in module["users"]}


def test_create_then_no_change(reconcile, admin, realm):
    first, module = reconcile(USERS)
    assert first.rc == 0, first.failure_messages()
    assert actions(module) == {"alia": "created", "blake": "created", "casey": "created"}
    alia = admin.user(realm, "alia")
    assert alia["email"] == "alia@example.com" and alia["firstName"] == "Alia"
    assert alia["groups"] == ["/analyst", "/ml-team"]
    assert alia["attributes"]["nebari-platform-managed"] == ["true"]
    assert [c["type"] for c in alia["credentials"]] == ["password"]
    assert alia["requiredActions"] == ["UPDATE_PASSWORD"]  # the initial password is temporary
    assert admin.user(realm, "casey")["attributes"]["team"] == ["platform"]

    second, module = reconcile(USERS)
    assert second.rc == 0 and second.changed == 0
    assert module["summary"] == {"unchanged": 3} and module["users"] == []  # unchanged users are only counted


def test_update_fields_move_groups_and_disable(reconcile, admin, realm):
    reconcile(USERS)
    changed = [dict(USERS[0], email="alia@new.example.com", groups=["developer"]),
               dict(USERS[1], enabled=False), USERS[2]]
    run, module = reconcile(changed)
    assert run.rc == 0 and run.changed == 1
    assert actions(module) == {"alia": "updated", "blake": "updated"}
    assert module["summary"] == {"updated": 2, "unchanged": 1}
    alia = admin.user(realm, "alia")
    assert alia["email"] == "alia@new.example.com" and alia["groups"] == ["/developer"]
    assert admin.user(realm, "blake")["enabled"] is False
    assert reconcile(changed)[0].changed == 0


def test_removal_and_prune_never_touch_users_made_by_hand(reconcile, admin, realm):
    reconcile(USERS)
    admin.call("POST", "/%s/users" % realm, {"username": "by-hand", "enabled": True})
    run, module = reconcile([USERS[0]], absent=["blake", "by-hand"], prune=True)
    assert run.rc == 0, run.failure_messages()
    assert actions(module) == {"blake": "removed", "by-hand": "skipped", "casey": "disabled"}
    assert module["summary"]["unchanged"] == 1
    assert admin.user(realm, "blake") is None
    assert admin.user(realm, "casey")["enabled"] is False  # disabled, not deleted
    hand = admin.user(realm, "by-hand")
    assert hand is not None and hand["enabled"] is True


def test_check_mode_reports_and_changes_nothing(reconcile, admin, realm):
    run, module = reconcile(USERS, args=["--check", "--diff"])
    assert run.rc == 0 and run.changed == 1
    assert actions(module) == {"alia": "created", "blake": "created", "casey": "created"}
    assert admin.user(realm, "alia") is None
    assert module["diff"]["after"]["alia"]["groups"] == ["/analyst", "/ml-team"]
    assert module["diff"]["after"]["alia"]["password"] == "********"


def test_diff_shows_before_and_after(reconcile, realm):
    reconcile(USERS)
    run, module = reconcile([dict(USERS[0], groups=["analyst"]), USERS[1], USERS[2]], args=["--diff"])
    assert module["diff"]["before"]["alia"]["groups"] == ["/analyst", "/ml-team"]
    assert module["diff"]["after"]["alia"]["groups"] == ["/analyst"]


def test_an_unknown_group_fails_that_user_and_the_others_converge(reconcile, admin, realm):
    run, module = reconcile([dict(USERS[0], groups=["wizards"]), USERS[1]])
    assert run.rc != 0
    assert "alia: groups do not exist in the realm: /wizards" in run.failure_messages()[0]
    assert admin.user(realm, "alia") is None and admin.user(realm, "blake") is not None


def test_keycloak_out_of_reach_is_a_clear_error(reconcile):
    run, dummy = reconcile(USERS, url="http://127.0.0.1:9/auth", retries=1)
    assert run.rc != 0
    assert "Keycloak at http://127.0.0.1:9/auth did not answer after 2 attempts" in run.failure_messages()[0]


def test_an_outage_mid_run_is_ridden_out_or_fails_clearly_and_a_rerun_converges(reconcile, testbed, admin, realm):
    """Keycloak cut off in the middle of creating 300 users (connections refused and open ones cut, as when it
    restarts): a short outage is retried through; a long one fails naming the users, and a re-run converges. No
    user ever exists without its groups."""
    combos = [["analyst"], ["developer"], ["admin", "developer"]]
    users = [{"username": "o%03d" % i, "email": "o%03d@example.com" % i, "groups": combos[i % 3]} for i in range(300)]
    expected = {u["username"]: ["/" + g for g in u["groups"]] for u in users}
    port = int(testbed["keycloak_url"].split(":")[2].split("/")[0])

    short = FaultProxy(port, down_after=100)
    restore = threading.Thread(target=lambda: short.down.wait(60) and (time.sleep(2), short.restore()), daemon=True)
    restore.start()
    run, module = reconcile(users[:150], url="http://127.0.0.1:%d/auth" % short.port)
    short.close()
    assert short.connections > 100  # the outage did happen in the middle of the run
    assert run.rc == 0, run.failure_messages()
    assert module["summary"] == {"created": 150}
    assert admin.memberships(realm) == {name: expected[name] for name in list(expected)[:150]}

    long = FaultProxy(port, down_after=60)
    run, module = reconcile(users, url="http://127.0.0.1:%d/auth" % long.port, retries=1)
    long.close()
    assert long.connections > 60 and run.rc != 0
    assert "Keycloak at http://127.0.0.1:%d/auth did not answer after 2 attempts" % long.port \
        in run.failure_messages()[0]
    # short however many failed: each reason once with a count, every failed user named in failed_users
    assert len(module["failed_users"]) > 20 and len(run.failure_messages()[0]) < 1000
    assert sum(1 for user in module["users"] if user["action"] == "failed") == 20
    created = admin.memberships(realm)
    assert all(created[name] == expected[name] for name in created)  # whoever exists has exactly its groups

    run, module = reconcile(users)
    assert run.rc == 0, run.failure_messages()
    assert admin.memberships(realm) == expected
    assert reconcile(users)[0].changed == 0


def test_no_secret_in_verbose_output(playbook, testbed, realm):
    variables = {"kc_url": testbed["keycloak_url"], "kc_password": testbed["keycloak_password"], "kc_realm": realm,
                 "kc_users": USERS}
    run = playbook(PLAYBOOK, extra_vars=variables, args=["-vvv", "--diff"], env={"ANSIBLE_STDOUT_CALLBACK": "default"},
                   raw=True)
    assert run.rc == 0
    for secret in (testbed["keycloak_password"], INITIAL_PASSWORD, "access_token", "Bearer "):
        assert secret not in run.output


def test_keycloak_user_one_user(playbook, testbed, admin, realm):
    def run(user, state="present"):
        result = playbook("tests/integration/playbooks/keycloak_user.yml", extra_vars={
            "kc_url": testbed["keycloak_url"], "kc_password": testbed["keycloak_password"], "kc_realm": realm,
            "kc_user": user, "kc_state": state})
        return result, next(r for name, r in result.results() if name == "Reconcile one user of the test realm")

    user = {"username": "Erin", "email": "erin@example.com", "groups": ["developer"]}
    assert run(user)[1]["user_action"] == "created"
    assert admin.user(realm, "erin")["groups"] == ["/developer"]
    again, module = run(user)
    assert module["user_action"] == "unchanged" and again.changed == 0
    assert run(dict(user, groups=["analyst"]))[1]["user"]["join"] == ["/analyst"]
    assert run(user, state="absent")[1]["user_action"] == "removed"
    assert admin.user(realm, "erin") is None


def test_an_entry_without_groups_keeps_the_users_memberships(reconcile, admin, realm):
    """As the Classic import writes users from export-users (which lists no memberships): nobody loses a group."""
    first, dummy = reconcile(USERS)
    assert first.rc == 0, first.failure_messages()
    bare = [dict((k, v) for k, v in user.items() if k not in ("groups", "password")) for user in USERS]
    second, module = reconcile(bare + [{"username": "dana", "email": "dana@example.com"}])
    assert second.rc == 0, second.failure_messages()
    assert actions(module) == {"dana": "created"}
    assert admin.user(realm, "casey")["groups"] == ["/admin", "/developer"]
    assert admin.user(realm, "dana")["groups"] == []  # the realm's default groups: this test realm has none
