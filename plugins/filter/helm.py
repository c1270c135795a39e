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
import tarfile
import time

import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.nebari.platform.plugins.plugin_utils.charts import local_chart_metadata

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


def helm_releases(secrets, values=False):
    """Helm release Secrets (kubernetes.core.k8s_info resources) -> {"namespace/name": {chart, app_version, status,
    revision}} for the latest revision of each release; with values, also the values it was installed with (the
    user-supplied ones, as `helm get values` shows them)."""
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
        if values:
            result[key]["values"] = record.get("config") or {}
    return result


def _latest_secrets(secrets):
    """(namespace, release) -> the Secret of its highest revision."""
    latest = {}
    for secret in secrets or []:
        metadata = secret.get("metadata") or {}
        labels = metadata.get("labels") or {}
        if labels.get("owner") != "helm":
            continue
        key = (metadata.get("namespace"), labels.get("name"))
        revision = int(labels.get("version", 0))
        if key not in latest or revision > latest[key][0]:
            latest[key] = (revision, secret)
    return dict((key, secret) for key, (revision, secret) in latest.items())


def _as_helm_keeps(values):
    """Values as Helm keeps them in a record's `config` (JSON: keys as text, numbers as numbers); None when they
    cannot be written as JSON (then they can only differ)."""
    try:
        return json.loads(json.dumps({} if values is None else values))
    except (TypeError, ValueError):
        return None


def wanted_chart(release):
    """(name, version, appVersion or None when unknown) of the chart a release entry asks for, or (None, why) when
    only a helm process can tell (a repository or OCI chart without a pinned version, an unreadable local one).
    A repository or OCI chart is identified by its name and pinned version; a local one (a directory or a tarball,
    as airgap resolves every chart) by its own Chart.yaml."""
    ref = str(release.get("chart_ref") or "")
    version = release.get("chart_version")
    if release.get("chart_repo_url") or ref.startswith("oci://"):
        if not version:
            return None, "chart %s has no pinned version" % ref
        name = ref if release.get("chart_repo_url") else ref.rstrip("/").rsplit("/", 1)[-1]
        return (name, str(version), None), None
    try:
        metadata = local_chart_metadata(ref)
    except (OSError, ValueError, tarfile.TarError, yaml.YAMLError) as exc:
        return None, "chart %s not readable here (%s)" % (ref, exc)
    return (str(metadata.get("name")), str(metadata.get("version")), str(metadata.get("appVersion") or "")), None


def _why_helm(secret, release, values):
    """None when the release's latest revision is what the entry asks for; else why helm has to run."""
    if secret is None:
        return "not installed"
    labels = secret["metadata"]["labels"]
    revision = labels.get("version")
    try:
        record = decode_release((secret.get("data") or {})["release"])
    except (AnsibleFilterError, KeyError, ValueError, OSError, EOFError):
        return "revision %s: Helm's record not readable" % revision
    status = (record.get("info") or {}).get("status") or labels.get("status")
    if status != "deployed":
        return "revision %s is %s" % (revision, status)
    chart, why = wanted_chart(release)
    if chart is None:
        return why
    metadata = (record.get("chart") or {}).get("metadata") or {}
    applied = (str(metadata.get("name")), str(metadata.get("version")), str(metadata.get("appVersion") or ""))
    if applied[:2] != chart[:2]:
        return "revision %s has chart %s-%s, not %s-%s" % ((revision,) + applied[:2] + chart[:2])
    if chart[2] is not None and applied[2] != chart[2]:
        return "revision %s has app version %r, not %r" % (revision, applied[2], chart[2])
    wanted = _as_helm_keeps(values)
    # the values themselves are never named: they hold secrets
    if wanted is None or wanted != (record.get("config") or {}):
        return "revision %s has other values" % revision
    return None


def helm_release_plan(secrets, releases, values):
    """Which releases need a helm process, from Helm's own records (one read per namespace).

    secrets: Helm release Secrets (kubernetes.core.k8s_info resources) of the releases' namespaces; releases: the
    run's enabled release entries (component, release, namespace, chart_ref, chart_repo_url, chart_version);
    values: component -> the values the run renders. A release is current when its latest revision is
    `deployed` with the chart (name, version, and app version where the chart is local) and the user-supplied
    values (Helm's `config`) that the run asks for: what kubernetes.core.helm's own idempotence check compares,
    without its three helm processes. A release changed by hand (`helm upgrade --set`, a rollback to other values,
    another chart) is not current. Returns [{component, release, namespace, current, reason}] in the releases'
    order; reason says why helm runs (never a value), or which revision is current."""
    latest = _latest_secrets(secrets)
    plan = []
    for release in releases or []:
        key = (release["namespace"], release["release"])
        why = _why_helm(latest.get(key), release, (values or {}).get(release["component"]))
        plan.append({"component": release["component"], "release": release["release"],
                     "namespace": release["namespace"], "current": why is None,
                     "reason": why or "revision %s is current" % latest[key]["metadata"]["labels"].get("version")})
    return plan


def duration_seconds(duration):
    """A Go duration as Helm takes it (5m, 1h30m, 20s) in seconds."""
    text = str(duration).strip()
    parts = DURATION_PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise AnsibleFilterError("not a duration such as 5m or 1h30m: %r" % (duration,))
    return sum(float(number) * UNIT_SECONDS[unit] for number, unit in parts)


def helm_stuck_releases(secrets, releases, now=None):
    """The releases of this run that an interrupted Helm operation left pending for longer than their timeout.

    secrets: Helm release Secrets (kubernetes.core.k8s_info resources), of which only each release's latest
    revision counts (a recovered release keeps its killed revision pending in its history); releases: the run's
    release entries (release, namespace, timeout). A release pending for less than its timeout may be another run's
    operation in progress: it is left alone. Returns [{release, namespace, status, revision, age, action}], action
    rollback (to the revision before, which was serving) or uninstall (a first install never finished)."""
    now = time.time() if now is None else now
    wanted = dict(((r["namespace"], r["release"]), r) for r in releases or [])
    stuck = []
    for secret in _latest_secrets(secrets).values():
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
                "helm_outcome": helm_outcome, "helm_release_plan": helm_release_plan}
