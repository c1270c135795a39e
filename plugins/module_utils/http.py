# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""JSON over HTTP with retries, shared by the collection's API clients (Keycloak, conda-store, JupyterHub).

- One TLS context per client: building one per request (reading the CA store) costs more than the request.
- Connection errors and 5xx answers are retried with exponential backoff; other HTTP errors are raised at once,
  with the service's own message.
- TLS is verified by default; a CA bundle can be given.
"""

from __future__ import annotations

import json
import socket
import time

from urllib.error import HTTPError, URLError

from ansible.module_utils.urls import Request, make_context

RETRY_STATUSES = frozenset((500, 502, 503, 504))


class ApiError(Exception):
    """A request that failed for good: the method, URL path, HTTP status (None: no answer) and the service's message."""

    def __init__(self, message, status=None, method=None, path=None, body=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.method = method
        self.path = path
        self.body = body


def http_argument_spec():
    """The HTTP options of every API module (doc fragment nebari.platform.http_options)."""
    return dict(
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        http_timeout=dict(type="int", default=30),
        http_retries=dict(type="int", default=5),
    )


def make_opener(validate_certs=True, ca_path=None, timeout=30, follow_redirects="none"):
    """A function (url, data, headers, method) -> response, with one TLS context for all its requests."""
    context = make_context(cafile=ca_path, validate_certs=validate_certs)
    request = Request(timeout=timeout, validate_certs=validate_certs, ca_path=ca_path, context=context,
                      follow_redirects=follow_redirects, use_proxy=True)

    def send(url, data=None, headers=None, method="GET"):
        return request.open(method, url, data=data, headers=headers)
    return send


class JsonHttp:
    """Base of the API clients: a base URL, a transport, retries. Subclasses name the service and its error type."""

    service = "the service"
    error = ApiError

    def __init__(self, url, retries=5, backoff=0.5, opener=None, sleep=time.sleep):
        self.url = url.rstrip("/")
        self.retries = retries
        self.backoff = backoff
        self._open = opener
        self._sleep = sleep
        self.requests = 0

    def _send(self, method, path, data=None, headers=None, text=False):
        """One request with retries on connection errors and 5xx; returns the parsed JSON body (or the text), or
        None for an empty body."""
        url = self.url + path
        attempt = 0
        while True:
            attempt += 1
            try:
                self.requests += 1
                response = self._open(url, data=data, headers=headers or {}, method=method)
                body = response.read()
                if text:
                    return body.decode("utf-8", "replace")
                return json.loads(body) if body else None
            except HTTPError as exc:
                body = read_error(exc)
                if exc.code in RETRY_STATUSES and attempt <= self.retries:
                    self._sleep(self.backoff * 2 ** (attempt - 1))
                    continue
                raise self.error("%s %s: HTTP %s %s" % (method, path, exc.code, self.message_of(body)),
                                 status=exc.code, method=method, path=path, body=body)
            except (URLError, socket.timeout, ConnectionError, OSError) as exc:
                if attempt <= self.retries:
                    self._sleep(self.backoff * 2 ** (attempt - 1))
                    continue
                reason = getattr(exc, "reason", exc)
                raise self.error("%s %s: %s at %s did not answer after %d attempts: %s"
                                 % (method, path, self.service, self.url, attempt, reason), method=method, path=path)

    @staticmethod
    def message_of(body):
        """The service's own error text from an error body (JSON fields tried in order), else the body's start."""
        try:
            data = json.loads(body)
        except ValueError:
            return body[:200]
        if isinstance(data, dict):
            for key in ("errorMessage", "error_description", "message", "detail", "error"):
                if data.get(key):
                    return str(data[key])[:500]
        return str(data)[:200]


class TokenHttp(JsonHttp):
    """Base of the clients that authenticate with one API token (conda-store, JupyterHub). Subclasses name their
    modules' option prefix: the options <prefix>_url and <prefix>_token, with the HTTP options, make a client."""

    option = "service"
    follow_redirects = "none"

    def __init__(self, url, token, validate_certs=True, ca_path=None, timeout=30, retries=5, backoff=0.5,
                 opener=None, sleep=time.sleep):
        if not token:
            raise self.error("a %s token is needed (%s_token)" % (self.service, self.option))
        super().__init__(url, retries=retries, backoff=backoff, sleep=sleep,
                         opener=opener or make_opener(validate_certs, ca_path, timeout, self.follow_redirects))
        self._token = token

    @classmethod
    def argument_spec(cls):
        """The connection options of the modules that use this client."""
        return dict({cls.option + "_url": dict(type="str", required=True),
                     cls.option + "_token": dict(type="str", required=True, no_log=True)}, **http_argument_spec())

    @classmethod
    def from_module(cls, module):
        params = module.params
        return cls(params[cls.option + "_url"], params[cls.option + "_token"], validate_certs=params["validate_certs"],
                   ca_path=params["ca_path"], timeout=params["http_timeout"], retries=params["http_retries"])


def read_error(exc):
    try:
        return exc.read().decode("utf-8", "replace")
    except Exception:  # pylint: disable=broad-except
        return ""
