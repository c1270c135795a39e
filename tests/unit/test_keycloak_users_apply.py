"""keycloak_users' read-plan-apply-report against an in-memory Keycloak: the result says what was really done."""

from ansible_collections.nebari.platform.plugins.module_utils.keycloak.client import KeycloakError
from ansible_collections.nebari.platform.plugins.module_utils.keycloak.reconcile import reconcile_users
from ansible_collections.nebari.platform.plugins.module_utils.keycloak.users import MARKER

GROUPS = {"/analyst": "g-analyst", "/users": "g-users"}


class FakeAdmin:
    """The admin API calls reconcile_users makes, over a dict of users; `refuse` maps a username to the HTTP status
    Keycloak answers its creation with."""

    url = "http://kc.test/auth"

    def __init__(self, refuse=None, refuse_leave=()):
        self.users = {}
        self.refuse = refuse or {}
        self.refuse_leave = set(refuse_leave)

    def realm_path(self, realm, *parts):
        return "/" + "/".join((realm,) + parts)

    def paged(self, path, params=None):
        if path == "/nebari/groups":
            return [{"id": gid, "path": gpath} for gpath, gid in GROUPS.items()]
        if path == "/nebari/users":
            return [dict(u) for u in self.users.values()
                    if "q" not in (params or {}) or (u.get("attributes") or {}).get(MARKER)]
        return []  # group members

    def get(self, path, params=None):
        if path == "/nebari/default-groups":
            return [{"id": "g-users", "path": "/users"}]
        found = self.users.get((params or {}).get("username"))
        return [dict(found)] if found else []

    def request(self, method, path, body=None, params=None):
        if method == "POST" and path == "/nebari/users":
            if body["username"] in self.refuse:
                raise KeycloakError("POST %s: HTTP %d unknown_error" % (path, self.refuse[body["username"]]),
                                    status=self.refuse[body["username"]])
            self.users[body["username"]] = dict(body, id="id-" + body["username"])
        elif method == "DELETE" and path.startswith("/nebari/users/id-"):
            if path.split("/")[3][3:] in self.refuse_leave:
                raise KeycloakError("DELETE %s: HTTP 403 forbidden" % path, status=403)


def test_after_a_partial_failure_the_result_counts_and_lists_only_what_was_done():
    """Issue 23 item 13: three users planned, one created, two refused: summary said created: 3."""
    desired = [{"username": name, "groups": ["analyst"]} for name in ("alia", "blake", "casey")]
    admin = FakeAdmin(refuse={"blake": 500, "casey": 400})
    result = reconcile_users(admin, "nebari", desired, workers=1, diff=True)
    assert sorted(admin.users) == ["alia"]
    assert result["failed"] is True and result["changed"] is True
    assert result["summary"] == {"created": 1, "failed": 2}
    assert [(u["username"], u["action"], u.get("planned")) for u in result["users"]] == [
        ("alia", "created", None), ("blake", "failed", "created"), ("casey", "failed", "created")]
    assert "2 of 3 users" in result["msg"] and "blake: POST" in result["msg"]
    assert sorted(result["diff"]["after"]) == ["alia"]


def test_many_failures_make_a_short_result_that_names_every_failed_user():
    """Issue 21: Keycloak out of reach during a 2,000-user create ended in a 9,067-line result."""
    desired = [{"username": "user%04d" % i} for i in range(2000)]
    down = "Keycloak at http://kc did not answer after 6 attempts: [Errno 111] Connection refused"

    class DownAdmin(FakeAdmin):
        def request(self, method, path, body=None, params=None):
            if method == "POST" and body["username"] >= "user1991":
                raise KeycloakError("POST %s: HTTP 409 User exists with same email" % path, status=409)
            if method == "POST" and body["username"] != "user0000":
                raise KeycloakError("POST %s: %s" % (path, down))
            return FakeAdmin.request(self, method, path, body, params)
    admin = DownAdmin()
    result = reconcile_users(admin, "nebari", desired, workers=1)
    assert result["summary"] == {"created": 1, "failed": 1999}
    assert len(result["failed_users"]) == 1999 and result["failed_users"][0] == "user0001"
    assert [u["action"] for u in result["users"]] == ["created"] + ["failed"] * 20
    assert result["msg"].startswith("1999 of 2000 users could not be reconciled (all their names in failed_users): "
                                    "1990 users: %s (user0001, user0002," % down)
    assert "user0010 and 1980 more); 9 users: HTTP 409 User exists with same email (user1991," in result["msg"]
    assert len(result["msg"]) < 600


def test_a_user_created_whose_default_groups_could_not_be_left_is_failed_and_still_a_change():
    admin = FakeAdmin(refuse_leave={"alia"})
    result = reconcile_users(admin, "nebari", [{"username": "alia", "groups": ["analyst"]}], workers=1)
    assert result["summary"] == {"failed": 1} and result["changed"] is True
    (report,) = result["users"]
    assert report["planned"] == "created" and report["msg"].startswith("created only in part: DELETE")


def test_nothing_applied_nothing_changed():
    admin = FakeAdmin(refuse={"alia": 409})
    result = reconcile_users(admin, "nebari", [{"username": "alia"}], workers=1)
    assert result["summary"] == {"failed": 1} and result["changed"] is False and result["failed"] is True
