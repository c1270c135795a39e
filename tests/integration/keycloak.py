"""A small admin client for the tests to set up and inspect realms in the test bed's Keycloak (plain HTTP)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request


class Admin:
    def __init__(self, url, password):
        self.url = url
        self.password = password
        self.token = None
        self.login()

    def login(self):
        body = urllib.parse.urlencode({"grant_type": "password", "client_id": "admin-cli", "username": "admin",
                                       "password": self.password}).encode()
        with urllib.request.urlopen(self.url + "/realms/master/protocol/openid-connect/token", body, timeout=30) as r:
            self.token = json.load(r)["access_token"]

    def call(self, method, path, body=None, retry=True):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + "/admin/realms" + path, data=data, method=method,
                                         headers={"Authorization": "Bearer " + self.token,
                                                  "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                raw = r.read()
        except urllib.error.HTTPError as exc:
            if exc.code == 401 and retry:  # admin tokens live 60 s
                self.login()
                return self.call(method, path, body, retry=False)
            raise
        return json.loads(raw) if raw else None

    def create_realm(self, realm, groups):
        self.call("POST", "", {"realm": realm, "enabled": True})
        profile = self.call("GET", "/%s/users/profile" % realm)
        profile["unmanagedAttributePolicy"] = "ADMIN_EDIT"
        self.call("PUT", "/%s/users/profile" % realm, profile)
        for group in groups:
            self.call("POST", "/%s/groups" % realm, {"name": group})

    def delete_realm(self, realm):
        try:
            self.call("DELETE", "/" + realm)
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                raise

    def user(self, realm, username):
        found = self.call("GET", "/%s/users?exact=true&briefRepresentation=false&username=%s"
                          % (realm, urllib.parse.quote(username)))
        if not found:
            return None
        user = found[0]
        user["groups"] = sorted(g["path"] for g in self.call("GET", "/%s/users/%s/groups" % (realm, user["id"])))
        user["credentials"] = self.call("GET", "/%s/users/%s/credentials" % (realm, user["id"]))
        return user

    def memberships(self, realm):
        """username -> sorted group paths, for every user of the realm."""
        users = {u["id"]: u["username"] for u in self.call("GET", "/%s/users?max=10000&briefRepresentation=true" % realm)}
        groups = dict((u, []) for u in users.values())
        for group in self.call("GET", "/%s/groups?max=1000" % realm):
            for member in self.call("GET", "/%s/groups/%s/members?max=10000&briefRepresentation=true"
                                    % (realm, group["id"])):
                groups[member["username"]].append(group["path"])
        return {name: sorted(paths) for name, paths in groups.items()}
