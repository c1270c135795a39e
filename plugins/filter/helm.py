# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helm's own records of its releases, read from the cluster in one call instead of one helm process each."""

from __future__ import annotations

import base64
import binascii
import gzip
import json

from ansible.errors import AnsibleFilterError

GZIP_MAGIC = b"\x1f\x8b"


def decode_release(data):
    """The release record Helm stores in a Secret: base64 (the API's) of base64 of gzipped JSON."""
    try:
        raw = base64.b64decode(base64.b64decode(data))
    except (binascii.Error, ValueError, TypeError) as exc:
        raise AnsibleFilterError("not a Helm release record: %s" % exc) from exc
    return json.loads(gzip.decompress(raw) if raw[:2] == GZIP_MAGIC else raw)


def helm_releases(secrets):
    """Helm release Secrets (kubernetes.core.k8s_info resources) -> {"namespace/name": {chart, app_version, status,
    revision}} for the latest revision of each release."""
    latest = {}
    for secret in secrets or []:
        labels = (secret.get("metadata") or {}).get("labels") or {}
        if labels.get("owner") != "helm" or "release" not in (secret.get("data") or {}):
            continue
        key = "%s/%s" % (secret["metadata"].get("namespace"), labels.get("name"))
        revision = int(labels.get("version", 0))
        if key not in latest or revision > latest[key][0]:
            latest[key] = (revision, secret)
    result = {}
    for key, (revision, secret) in latest.items():
        record = decode_release(secret["data"]["release"])
        metadata = (record.get("chart") or {}).get("metadata") or {}
        result[key] = {"chart": "%s-%s" % (metadata.get("name"), metadata.get("version")),
                       "app_version": metadata.get("appVersion") or "-",
                       "status": (record.get("info") or {}).get("status") or secret["metadata"]["labels"].get("status"),
                       "revision": revision}
    return result


class FilterModule:
    def filters(self):
        return {"helm_releases": helm_releases}
