# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small Keycloak admin REST client: one login per module run, token refresh, retries, paging.

- Authenticates with a password (admin user) or client credentials, against any realm, and refreshes the token
  before it expires and once more on a 401 (a restarted Keycloak forgets its sessions).
- Retries connection errors and 5xx answers with exponential backoff; other HTTP errors are raised at once.
- Verifies TLS by default; a CA bundle can be given. The base URL carries the path Keycloak is served under
  (``https://nebari.example.com/auth`` for Nebari, or none).
- Thread-safe: modules may issue requests from several threads with one client.
"""

from __future__ import annotations

import json
import threading
import time

from urllib.parse import quote, urlencode

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nebari.platform.plugins.module_utils.http import ApiError, JsonHttp, http_argument_spec, make_opener


class KeycloakError(ApiError):
    """A Keycloak request that failed for good: the method, URL path, HTTP status (None: no answer) and message."""


def keycloak_argument_spec():
    """Connection options shared by the modules of this collection that talk to Keycloak."""
    return dict(
        auth_keycloak_url=dict(type="str", required=True, no_log=False),
        auth_realm=dict(type="str", default="master"),
        auth_client_id=dict(type="str", default="admin-cli"),
        auth_client_secret=dict(type="str", no_log=True),
        auth_username=dict(type="str"),
        auth_password=dict(type="str", no_log=True),
        **http_argument_spec()
    )


def keycloak_module(options):
    """The AnsibleModule of a module that talks to Keycloak: the connection options and its own, a password login or
    a client secret required, check mode supported."""
    argument_spec = keycloak_argument_spec()
    argument_spec.update(options)
    return AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                         required_together=[("auth_username", "auth_password")],
                         required_one_of=[("auth_username", "auth_client_secret")])


def client_from_module(module):
    params = module.params
    return KeycloakClient(
        url=params["auth_keycloak_url"],
        auth_realm=params["auth_realm"],
        client_id=params["auth_client_id"],
        client_secret=params["auth_client_secret"],
        username=params["auth_username"],
        password=params["auth_password"],
        validate_certs=params["validate_certs"],
        ca_path=params["ca_path"],
        timeout=params["http_timeout"],
        retries=params["http_retries"],
    )


class KeycloakClient(JsonHttp):
    service = "Keycloak"
    error = KeycloakError

    def __init__(self, url, auth_realm="master", client_id="admin-cli", client_secret=None, username=None,
                 password=None, validate_certs=True, ca_path=None, timeout=30, retries=5, backoff=0.5,
                 opener=None, sleep=time.sleep, clock=time.time):
        if not (username and password) and not client_secret:
            raise KeycloakError("give auth_username and auth_password, or auth_client_secret for client credentials")
        super().__init__(url, retries=retries, backoff=backoff,
                         opener=opener or make_opener(validate_certs, ca_path, timeout), sleep=sleep)
        self.auth_realm = auth_realm
        self.client_id = client_id
        self.client_secret = client_secret
        self.username = username
        self.password = password
        self._clock = clock
        self._lock = threading.Lock()
        self._token = None
        self._refresh_token = None
        self._expires_at = 0.0
        self._refresh_expires_at = 0.0
        self.logins = 0

    # authentication

    def _token_request(self, form):
        path = "/realms/%s/protocol/openid-connect/token" % quote(self.auth_realm, safe="")
        data = self._send("POST", path, urlencode(form), {"Content-Type": "application/x-www-form-urlencoded"})
        now = self._clock()
        self._token = data["access_token"]
        # renew a little early, so a token never expires between the check and the request
        self._expires_at = now + max(5, int(data.get("expires_in", 60)) - 10)
        self._refresh_token = data.get("refresh_token")
        self._refresh_expires_at = now + max(0, int(data.get("refresh_expires_in", 0) or 0) - 10)

    def _login(self):
        form = {"client_id": self.client_id}
        if self.client_secret:
            form["client_secret"] = self.client_secret
        if self.username and self.password:
            form.update(grant_type="password", username=self.username, password=self.password)
        else:
            form["grant_type"] = "client_credentials"
        try:
            self._token_request(form)
        except KeycloakError as exc:
            if exc.status in (400, 401):
                raise KeycloakError("Keycloak refused the login of %s in realm %s: %s"
                                    % (self.username or "client " + self.client_id, self.auth_realm, exc.message),
                                    status=exc.status, method="POST", path="token")
            raise
        self.logins += 1

    def _renew(self):
        if self._refresh_token and self._clock() < self._refresh_expires_at:
            form = {"grant_type": "refresh_token", "refresh_token": self._refresh_token, "client_id": self.client_id}
            if self.client_secret:
                form["client_secret"] = self.client_secret
            try:
                self._token_request(form)
                return
            except KeycloakError:
                pass  # the session is gone (Keycloak restarted, session expired): log in afresh
        self._login()

    def token(self, stale=None):
        """A valid access token. stale: a token the server refused, to be replaced (unless already replaced)."""
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at or (stale and stale == self._token):
                self._renew()
            return self._token

    # requests

    def request(self, method, path, body=None, params=None):
        """An admin API request (path relative to /admin/realms); JSON in and out. Renews the token once on 401."""
        full = "/admin/realms" + path + ("?" + urlencode(params) if params else "")
        data = json.dumps(body) if body is not None else None
        token = self.token()
        for attempt in (1, 2):
            headers = {"Authorization": "Bearer " + token, "Accept": "application/json"}
            if data is not None:
                headers["Content-Type"] = "application/json"
            try:
                return self._send(method, full, data, headers)
            except KeycloakError as exc:
                if exc.status == 401 and attempt == 1:
                    token = self.token(stale=token)
                    continue
                raise

    def get(self, path, params=None):
        return self.request("GET", path, params=params)

    def paged(self, path, params=None, page_size=500):
        """Every item of a paged list endpoint (first/max)."""
        items, first = [], 0
        while True:
            page = self.get(path, dict(params or {}, first=first, max=page_size)) or []
            items.extend(page)
            if len(page) < page_size:
                return items
            first += page_size

    def realm_path(self, realm, *parts):
        return "/" + "/".join(quote(str(part), safe="") for part in (realm,) + parts)
