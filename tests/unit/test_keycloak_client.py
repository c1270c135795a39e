"""The Keycloak client against a scripted fake transport: login, refresh, 401, retries, paging, error messages."""

import io
import json
from urllib.error import HTTPError, URLError

import pytest

from ansible_collections.nebari.platform.plugins.module_utils.keycloak.client import KeycloakClient, KeycloakError


class FakeKeycloak:
    """Answers token and admin requests from scripted responses; records every call."""

    def __init__(self):
        self.calls = []
        self.script = []  # (predicate on path, response or exception) consumed in order when they match
        self.tokens = 0
        self.users = [{"username": "u%03d" % i} for i in range(1203)]

    def __call__(self, url, data=None, headers=None, method=None, **kwargs):
        path = url.split("/auth", 1)[1]
        self.calls.append((method, path, headers.get("Authorization")))
        for i, (match, outcome) in enumerate(self.script):
            if match in path:
                del self.script[i]
                if isinstance(outcome, Exception):
                    raise outcome
                return io.BytesIO(json.dumps(outcome).encode())
        if path.endswith("/token"):
            self.tokens += 1
            form = dict(p.split("=") for p in data.split("&"))
            assert form["grant_type"] in ("password", "refresh_token", "client_credentials")
            return io.BytesIO(json.dumps({"access_token": "t%d" % self.tokens, "expires_in": 60,
                                          "refresh_token": "r%d" % self.tokens, "refresh_expires_in": 1800}).encode())
        if "/users?" in path:
            query = dict(p.split("=") for p in path.split("?", 1)[1].split("&"))
            first, size = int(query["first"]), int(query["max"])
            return io.BytesIO(json.dumps(self.users[first:first + size]).encode())
        return io.BytesIO(b"{}")


def http_error(code, body=b'{"errorMessage": "nope"}'):
    return HTTPError("http://x", code, "error", {}, io.BytesIO(body))


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def fake():
    return FakeKeycloak()


@pytest.fixture
def clock():
    return Clock()


def client(fake, clock, sleeps=None, **kwargs):
    return KeycloakClient("http://kc.test/auth/", username="admin", password="pw", opener=fake, clock=clock,
                          sleep=(sleeps.append if sleeps is not None else lambda s: None), **kwargs)


def test_logs_in_once_and_reuses_the_token(fake, clock):
    kc = client(fake, clock)
    for dummy in range(5):
        kc.get("/nebari")
    assert fake.tokens == 1 and kc.logins == 1
    assert [c[2] for c in fake.calls[1:]] == ["Bearer t1"] * 5


def test_refreshes_before_expiry_with_the_refresh_token(fake, clock):
    kc = client(fake, clock)
    kc.get("/nebari")
    clock.now += 55  # past expires_in - 10 s
    kc.get("/nebari")
    assert fake.tokens == 2 and kc.logins == 1  # the second token came from the refresh grant
    assert fake.calls[-1][2] == "Bearer t2"


def test_a_401_renews_the_token_once_and_retries(fake, clock):
    kc = client(fake, clock)
    kc.get("/nebari")
    fake.script.append(("/admin/realms/nebari", http_error(401)))
    kc.get("/nebari")
    assert [c[2] for c in fake.calls if "/admin/" in c[1]] == ["Bearer t1", "Bearer t1", "Bearer t2"]


def test_retries_5xx_and_connection_errors_with_backoff(fake, clock):
    sleeps = []
    kc = client(fake, clock, sleeps)
    fake.script += [("/admin/", http_error(503)), ("/admin/", URLError("connection refused")),
                    ("/admin/", http_error(502))]
    assert kc.get("/nebari") == {}
    assert sleeps == [0.5, 1.0, 2.0]


def test_gives_up_after_the_retries_naming_the_url(fake, clock):
    kc = client(fake, clock, retries=2)
    fake.script += [("/admin/", URLError("connection refused"))] * 3
    with pytest.raises(KeycloakError) as error:
        kc.get("/nebari")
    assert "GET /admin/realms/nebari: Keycloak at http://kc.test/auth did not answer after 3 attempts" in str(error.value)


def test_a_4xx_is_raised_at_once_with_keycloaks_message(fake, clock):
    kc = client(fake, clock)
    fake.script.append(("/admin/", http_error(409, b'{"errorMessage": "User exists with same username"}')))
    with pytest.raises(KeycloakError) as error:
        kc.request("POST", "/nebari/users", {"username": "alia"})
    assert error.value.status == 409
    assert "HTTP 409 User exists with same username" in str(error.value)
    assert len([c for c in fake.calls if "/admin/" in c[1]]) == 1


def test_a_refused_login_says_who_and_where(fake, clock):
    fake.script.append(("/token", http_error(401, b'{"error": "invalid_grant", "error_description": "Invalid user credentials"}')))
    with pytest.raises(KeycloakError) as error:
        client(fake, clock).get("/nebari")
    assert str(error.value) == "Keycloak refused the login of admin in realm master: " \
        "POST /realms/master/protocol/openid-connect/token: HTTP 401 Invalid user credentials"


def test_paging_reads_every_page(fake, clock):
    kc = client(fake, clock)
    users = kc.paged("/nebari/users", {"briefRepresentation": "true"}, page_size=500)
    assert len(users) == 1203
    assert len([c for c in fake.calls if "/users?" in c[1]]) == 3


def test_client_credentials_and_missing_credentials(fake, clock):
    kc = KeycloakClient("http://kc.test/auth", client_id="nebari-ansible", client_secret="s", opener=fake, clock=clock)
    kc.get("/nebari")
    assert fake.tokens == 1
    with pytest.raises(KeycloakError):
        KeycloakClient("http://kc.test/auth", username="admin")
