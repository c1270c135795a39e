"""JupyterHub offboarding: the plan and its application against a fake hub answering the REST API."""

import io
import json
from urllib.error import HTTPError

from ansible_collections.nebari.platform.plugins.module_utils.jupyterhub import offboard
from ansible_collections.nebari.platform.plugins.module_utils.jupyterhub.client import JupyterHubClient


class FakeHub:
    """Users with their active servers and tokens; a path fragment in `fail` answers 403 once."""

    def __init__(self, users):
        self.users, self.calls, self.fail = users, [], []

    def __call__(self, url, data=None, headers=None, method=None):
        assert headers["Authorization"] == "token tok"
        path = url.split("/hub/api", 1)[1]
        self.calls.append((method, path))
        for fragment in list(self.fail):
            if fragment in path:
                self.fail.remove(fragment)
                raise HTTPError(url, 403, "Forbidden", {}, io.BytesIO(b'{"message": "Action is not authorized"}'))
        parts = path.strip("/").split("/")
        user = self.users.get(parts[1])
        if user is None:
            raise HTTPError(url, 404, "Not Found", {}, io.BytesIO(b'{"message": "No such user"}'))
        if method == "GET" and len(parts) == 2:
            return answer({"name": parts[1], "servers": {s: {"ready": True} for s in user["servers"]}})
        if method == "GET" and parts[2:] == ["tokens"]:
            return answer({"api_tokens": [{"id": t, "note": "note " + t} for t in user["tokens"]]})
        if method == "DELETE" and parts[2] in ("server", "servers"):
            server = parts[3] if parts[2] == "servers" else ""
            user["servers"].remove(server)
            user["tokens"] = [t for t in user["tokens"] if t != "server-token-" + server]  # as the hub does
            return answer(None)
        if method == "DELETE" and parts[2] == "tokens":
            if parts[3] not in user["tokens"]:
                raise HTTPError(url, 404, "Not Found", {}, io.BytesIO(b'{"message": "No such token"}'))
            user["tokens"].remove(parts[3])
            return answer(None)
        raise AssertionError("unexpected %s %s" % (method, path))


def answer(data):
    return io.BytesIO(json.dumps(data).encode() if data is not None else b"")


def hub(users):
    fake = FakeHub(users)
    return fake, JupyterHubClient("http://hub.test/", "tok", opener=fake, retries=0)


def test_servers_are_stopped_and_tokens_revoked_then_nothing_is_left():
    fake, client = hub({"alia": {"servers": ["", "gpu"], "tokens": ["a1", "server-token-gpu"]},
                        "blake": {"servers": [], "tokens": []}})
    planned = offboard.plan(client, ["alia", "blake", "casey", "alia"])  # casey never logged in
    assert planned == [{"username": "alia", "servers": ["", "gpu"],
                        "tokens": [{"id": "a1", "note": "note a1"},
                                   {"id": "server-token-gpu", "note": "note server-token-gpu"}]}]
    assert offboard.diff(planned) == {"before": {"alia": {"servers": ["", "gpu"], "tokens": 2}},
                                      "after": {"alia": {"servers": [], "tokens": 0}}}
    done, error = offboard.apply(client, planned)
    assert (done, error) == (planned, None)
    assert ("DELETE", "/users/alia/server") in fake.calls and ("DELETE", "/users/alia/servers/gpu") in fake.calls
    # the server's own token went with it: its revocation (404) is no error
    assert offboard.plan(client, ["alia", "blake", "casey"]) == []


def test_an_error_stops_and_says_what_was_done_until_then():
    fake, client = hub({"alia": {"servers": [""], "tokens": ["a1", "a2"]}})
    fake.fail.append("/tokens/a2")
    done, error = offboard.apply(client, offboard.plan(client, ["alia"]))
    assert done == [{"username": "alia", "servers": [""], "tokens": [{"id": "a1", "note": "note a1"}]}]
    assert error.status == 403 and "Action is not authorized" in error.message
    assert fake.users["alia"] == {"servers": [], "tokens": ["a2"]}
