# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small JupyterHub REST client (/hub/api) for what the collection does to users' servers and tokens.

The collection calls the hub as its token-only service ``nebari-platform`` (the stack layer declares it with the
role it needs; z2jh keeps its token in the hub's Secret).
"""

from __future__ import annotations

from urllib.parse import quote

from ansible_collections.nebari.platform.plugins.module_utils.http import ApiError, TokenHttp


class JupyterHubError(ApiError):
    """A JupyterHub request that failed for good."""


class JupyterHubClient(TokenHttp):
    service = "JupyterHub"
    error = JupyterHubError
    option = "jupyterhub"

    def request(self, method, path):
        """A request to the hub's REST API (path relative to /hub/api)."""
        return self._send(method, "/hub/api" + path, headers={"Authorization": "token " + self._token,
                                                              "Accept": "application/json"})

    def user(self, username):
        """The hub's model of the user (with its active servers), or None if the hub has never seen the user."""
        try:
            return self.request("GET", "/users/%s" % quote(username, safe=""))
        except JupyterHubError as exc:
            if exc.status == 404:
                return None
            raise

    def tokens(self, username):
        return (self.request("GET", "/users/%s/tokens" % quote(username, safe="")) or {}).get("api_tokens", [])

    def stop_server(self, username, server_name):
        path = "/users/%s/server" % quote(username, safe="")
        if server_name:
            path = "/users/%s/servers/%s" % (quote(username, safe=""), quote(server_name, safe=""))
        self.request("DELETE", path)

    def revoke_token(self, username, token_id):
        """Revoke a token; one already gone is no error (stopping a server revokes the server's own tokens)."""
        try:
            self.request("DELETE", "/users/%s/tokens/%s" % (quote(username, safe=""), quote(str(token_id), safe="")))
        except JupyterHubError as exc:
            if exc.status != 404:
                raise
