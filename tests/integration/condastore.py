"""A plain conda-store REST reader for the tests' own checks, independent of the collection's client."""

from __future__ import annotations

import json
import urllib.error
import urllib.request


class CondaStore:
    def __init__(self, url, token):
        self.url = url.rstrip("/") + "/api/v1"
        self.token = token

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Authorization": "Bearer " + self.token,
                                                  "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return json.loads(answer.read()).get("data")
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise

    def environments(self, namespace):
        return {e["name"]: e for e in self.call("GET", "/environment/?namespace=%s&size=100" % namespace) or []}

    def builds(self, namespace, name):
        env = self.environments(namespace).get(name)
        if env is None:
            return []
        builds = self.call("GET", "/build/?environment_id=%d&size=100&sort_by=id" % env["id"]) or []
        return [self.call("GET", "/build/%d/" % b["id"]) for b in builds]

    def namespace_exists(self, namespace):
        return self.call("GET", "/namespace/%s/" % namespace) is not None

    def submit(self, namespace, spec):
        return self.call("POST", "/specification/", {"namespace": namespace, "specification": json.dumps(spec)})
