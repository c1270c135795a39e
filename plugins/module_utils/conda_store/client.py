# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small conda-store REST client (API v1): token auth, retries with backoff, paging, TLS verified by default.

The base URL carries the prefix conda-store is served under (``https://nebari.example.com/conda-store`` in Nebari,
or none). Plain HTTP on purpose: the PyPI ``conda-store`` client is async-only and loops forever past 100
environments.
"""

from __future__ import annotations

import json

from urllib.parse import quote, urlencode

from ansible_collections.nebari.platform.plugins.module_utils.http import ApiError, TokenHttp

PAGE_SIZE = 100  # conda-store's default max_page_size: larger pages are cut to it
FINISHED = frozenset(("COMPLETED", "FAILED", "CANCELED"))


class CondaStoreError(ApiError):
    """A conda-store request that failed for good."""


class CondaStoreClient(TokenHttp):
    service = "conda-store"
    error = CondaStoreError
    option = "conda_store"
    follow_redirects = "safe"  # build logs are served through a redirect to the storage (GET only)

    def request(self, method, path, body=None, params=None, text=False):
        """An API v1 request (path relative to /api/v1); JSON in, the answer's `data` (or the text) out."""
        full = "/api/v1" + path + ("?" + urlencode(params, doseq=True) if params else "")
        headers = {"Authorization": "Bearer " + self._token, "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        answer = self._send(method, full, data, headers, text=text)
        if text or not isinstance(answer, dict):
            return answer
        return answer.get("data")

    def get(self, path, params=None):
        return self.request("GET", path, params=params)

    def paged(self, path, params=None, stop=None):
        """Every item of a v1 list endpoint (page/size); stop(items so far) ends the walk early when true."""
        items, page = [], 1
        while True:
            full = "/api/v1" + path + "?" + urlencode(dict(params or {}, page=page, size=PAGE_SIZE), doseq=True)
            answer = self._send("GET", full, None, {"Authorization": "Bearer " + self._token,
                                                    "Accept": "application/json"}) or {}
            batch = answer.get("data") or []
            items.extend(batch)
            if len(batch) < PAGE_SIZE or len(items) >= int(answer.get("count") or 0) or (stop and stop(items)):
                return items
            page += 1

    # the resources the modules use

    def namespaces(self):
        return [n["name"] for n in self.paged("/namespace/")]

    def environments(self, namespace):
        return self.paged("/environment/", {"namespace": namespace})

    def latest_builds(self, namespace, environment_ids):
        """environment id -> its newest build (any status; id and status, no specification), for the given
        environments of a namespace."""
        wanted, latest = set(environment_ids), {}

        def found_all(builds):
            for build in builds:
                if build["environment_id"] in wanted:
                    latest.setdefault(build["environment_id"], build)
            return wanted <= set(latest)
        if wanted:
            found_all(self.paged("/build/", {"namespace": namespace, "sort_by": "id", "order": "desc"}, found_all))
        return latest

    def build(self, build_id):
        return self.get("/build/%d/" % int(build_id))

    def cancel_build(self, build_id):
        """Ask conda-store to cancel a build; False when it cannot (its Celery broker does not support it: 409, the
        standalone and SQL brokers), True when asked."""
        try:
            self.request("PUT", "/build/%d/cancel/" % int(build_id))
        except CondaStoreError as exc:
            if exc.status in (404, 409):
                return False
            raise
        return True

    def build_log(self, build_id):
        return self.request("GET", "/build/%d/logs/" % int(build_id), text=True)

    def namespace_metadata(self, namespace):
        return (self.get("/namespace/%s/" % quote(namespace, safe="")) or {}).get("metadata_") or {}

    def set_namespace_metadata(self, namespace, metadata):
        self.request("PUT", "/namespace/%s/metadata" % quote(namespace, safe=""), metadata)

    def settings(self, namespace):
        return self.get("/setting/%s/" % quote(namespace, safe=""))

    def submit(self, namespace, specification):
        """Register a specification (a new build, always); returns the build id."""
        data = self.request("POST", "/specification/", {"namespace": namespace,
                                                        "specification": json.dumps(specification)})
        return data["build_id"]

    def delete_environment(self, namespace, name):
        self.request("DELETE", "/environment/%s/%s/" % (quote(namespace, safe=""), quote(name, safe="")))

    def create_namespace(self, namespace):
        self.request("POST", "/namespace/%s/" % quote(namespace, safe=""))

    def delete_namespace(self, namespace):
        self.request("DELETE", "/namespace/%s/" % quote(namespace, safe=""))
