# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helm's own records of its releases, read from the cluster in one call instead of one helm process each."""

from __future__ import annotations

import base64
import binascii
import datetime
import gzip
import json
import re
import time

from ansible.errors import AnsibleFilterError

GZIP_MAGIC = b"\x1f\x8b"
DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}


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


def duration_seconds(duration):
    """A Go duration as Helm takes it (5m, 1h30m, 20s) in seconds."""
    text = str(duration).strip()
    parts = DURATION_PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise AnsibleFilterError("not a duration such as 5m or 1h30m: %r" % (duration,))
    return sum(float(number) * UNIT_SECONDS[unit] for number, unit in parts)


def helm_stuck_releases(pending, releases, now=None):
    """The releases of this run that an interrupted Helm operation left pending for longer than their timeout.

    pending: Helm release Secrets labelled status=pending-* (kubernetes.core.k8s_info resources); releases: the
    run's release entries (release, namespace, timeout). A release pending for less than its timeout may be another
    run's operation in progress: it is left alone. Returns [{release, namespace, status, revision, age, action}],
    action rollback (to the revision before, which was serving) or uninstall (a first install never finished)."""
    now = time.time() if now is None else now
    wanted = dict(((r["namespace"], r["release"]), r) for r in releases or [])
    stuck = []
    for secret in pending or []:
        metadata = secret.get("metadata") or {}
        labels = metadata.get("labels") or {}
        entry = wanted.get((metadata.get("namespace"), labels.get("name")))
        status = labels.get("status", "")
        if entry is None or labels.get("owner") != "helm" or not status.startswith("pending-"):
            continue
        created = datetime.datetime.strptime(metadata["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ")
        age = now - created.replace(tzinfo=datetime.timezone.utc).timestamp()
        if age <= duration_seconds(entry["timeout"]):
            continue
        stuck.append({"release": entry["release"], "namespace": entry["namespace"], "status": status,
                      "revision": int(labels.get("version", 0)), "age": int(age),
                      "action": "uninstall" if status == "pending-install" else "rollback"})
    return sorted(stuck, key=lambda s: (s["namespace"], s["release"]))


def helm_outcome(secrets, atomic=True):
    """What Helm holds of a release after a failed install or upgrade, in a sentence, from the release's Secrets
    (labels only): what really serves, rather than what the run hoped for."""
    revisions = sorted((int(labels.get("version", 0)), labels.get("status", "?"))
                       for labels in (((s.get("metadata") or {}).get("labels") or {}) for s in secrets or [])
                       if labels.get("owner") == "helm")
    if not revisions:
        return ("Nothing installed: Helm removed the failed first install." if atomic else "Nothing installed.")
    revision, status = revisions[-1]
    if status == "deployed" and len(revisions) > 1 and revisions[-2][1] == "failed":
        return ("Rolled back: revision %d failed; revision %d, a rollback, is deployed and serving. Fix the input and "
                "run again." % (revisions[-2][0], revision))
    if status == "deployed":
        return "Revision %d is deployed and serving (Helm changed nothing). Fix the input and run again." % revision
    if status.startswith("pending-"):
        return ("Not rolled back: revision %d is %s: another Helm operation holds the release, or one was interrupted; "
                "a run recovers a release pending for longer than its timeout." % (revision, status))
    return ("Not rolled back: revision %d is %s%s." % (revision, status, "" if atomic else
            " (nebari_stack_atomic is false or the release does not wait)"))


class FilterModule:
    def filters(self):
        return {"helm_releases": helm_releases, "helm_stuck_releases": helm_stuck_releases,
                "helm_outcome": helm_outcome}
