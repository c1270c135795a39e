# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What conda_store_environments and conda_store_environment do: read, plan, apply (unless check mode), wait,
report.

read() fetches, per namespace the list names, its environments, conda-store's settings and the newest build of each
listed environment. What a run submitted is recorded in the namespace's metadata (RECORD: environment -> newest
build id and a fingerprint of the compared specification); an environment whose newest build is still the recorded
one, for the same fingerprint, is unchanged without reading its specification. Any other is compared with the
specification stored with its newest build (a change made in the conda-store UI, say). plan() compares with no I/O and returns one action per environment:
created, updated (the specification differs in more than order), rebuilt (same specification, newest build failed,
rebuild_failed asked; or newest build QUEUED or BUILDING for longer than stale_after seconds, a build a killed
worker lost: it is cancelled where the broker allows and submitted again, with a warning), deleted (state absent),
unchanged. apply() submits and deletes; each environment fails on its own and the others go on. wait() follows the
submitted builds, and the builds still in progress of unchanged environments, and for a failed one fetches its
log's tail.
Environments the list does not name are never read nor touched.
"""

from __future__ import annotations

import datetime
import time

from ansible_collections.nebari.platform.plugins.module_utils.actions import Action as BaseAction, pool_map, summary
from ansible_collections.nebari.platform.plugins.module_utils.conda_store.client import FINISHED, CondaStoreError
from ansible_collections.nebari.platform.plugins.module_utils.conda_store.spec import (
    canonical,
    differs,
    fingerprint,
    specification,
)

CHANGES = ("created", "updated", "rebuilt", "deleted")
FAILED_BUILDS = ("FAILED", "CANCELED")
IN_PROGRESS = ("QUEUED", "BUILDING")
LOG_TAIL_LINES = 30
RECORD = "nebari.platform/environments"  # key of the namespace metadata holding what the collection submitted


class Action(BaseAction):
    @property
    def key(self):
        return "%s/%s" % (self["namespace"], self["name"])


def read(client, environments, workers=4):
    """namespace -> {exists, settings, record, environments: name -> {id, latest (newest build: id, status),
    matches_record, build (with its specification, unless matches_record)}}.

    The namespaces are read side by side, then the specification of each listed environment that needs it."""
    existing = set(client.namespaces())

    def read_namespace(namespace):
        listed = dict((env["name"], env) for env in environments if env["namespace"] == namespace)
        found, record, settings = {}, {}, None
        if any(env.get("state", "present") == "present" for env in listed.values()):
            settings = client.settings(namespace)
        if namespace in existing:
            found = dict((env["name"], env) for env in client.environments(namespace) if env["name"] in listed)
            record = client.namespace_metadata(namespace).get(RECORD) or {}
        latest = client.latest_builds(namespace, [env["id"] for env in found.values()]) if found else {}
        for name, env in found.items():
            env["latest"] = latest.get(env["id"]) or {"id": env.get("current_build_id")}
            mine = record.get(name) or {}
            env["matches_record"] = bool(
                listed[name].get("state", "present") == "present" and mine.get("build_id") == env["latest"]["id"]
                and mine.get("fingerprint") == fingerprint(specification(listed[name]), settings))
        return namespace, {"exists": namespace in existing, "environments": found, "settings": settings,
                           "record": record}

    state = dict(pool_map(workers, read_namespace, sorted(set(env["namespace"] for env in environments))))
    wanted = [env for ns in state.values() for env in ns["environments"].values()
              if env["latest"].get("id") and not env["matches_record"]]
    for env, build in zip(wanted, pool_map(workers, lambda e: client.build(e["latest"]["id"]), wanted)):
        env["build"] = build
    return state


def build_age(build, now):
    """Seconds since a build was scheduled (started, once BUILDING), by conda-store's clock (naive times are UTC);
    None when it does not say."""
    when = build.get("started_on") if build.get("status") == "BUILDING" else None
    when = when or build.get("scheduled_on")
    if not when:
        return None
    try:
        moment = datetime.datetime.fromisoformat(str(when).replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return (now - moment).total_seconds()


def _stale(build, now, stale_after):
    """How long the build has been stuck, when it is QUEUED or BUILDING for longer than stale_after (0: never)."""
    if not stale_after or build.get("status") not in IN_PROGRESS:
        return None
    age = build_age(build, now)
    return age if age is not None and age > stale_after else None


def plan(environments, state, rebuild_failed=False, stale_after=0, now=None):
    now = now or datetime.datetime.now(datetime.timezone.utc)
    actions = []
    for env in environments:
        namespace = state[env["namespace"]]
        have = namespace["environments"].get(env["name"])
        base = dict(namespace=env["namespace"], name=env["name"])
        if env.get("state", "present") == "absent":
            if have is not None:
                actions.append(Action(base, action="deleted", before=_view(_stored_spec(have)), after=None))
            else:
                actions.append(Action(base, action="unchanged", absent=True))
            continue
        want = specification(env)
        digest = fingerprint(want, namespace["settings"])
        if have is None:
            actions.append(Action(base, action="created", spec=want, namespace_created=not namespace["exists"],
                                  fingerprint=digest, before=None, after=_view(want)))
            continue
        if have.get("matches_record"):
            latest = have["latest"]
            stuck = _stale(latest, now, stale_after)
            if stuck is not None or (latest.get("status") in FAILED_BUILDS and rebuild_failed):
                actions.append(Action(base, action="rebuilt", spec=want, fingerprint=digest, before=_view(want),
                                      after=_view(want), previous_build_id=latest.get("id"),
                                      previous_build_status=latest.get("status"), stale_for=stuck))
            else:
                actions.append(Action(base, action="unchanged", build_id=latest.get("id"),
                                      build_status=latest.get("status")))
            continue
        build = have.get("build") or {}
        stored = _stored_spec(have)
        changes = differs(want, stored, namespace["settings"]) if stored is not None else ["specification"]
        status = build.get("status")
        stuck = _stale(build, now, stale_after)
        if changes:
            actions.append(Action(base, action="updated", spec=want, changes=changes, fingerprint=digest,
                                  before=_view(stored), after=_view(want), previous_build_id=build.get("id")))
        elif stuck is not None or (status in FAILED_BUILDS and rebuild_failed):
            actions.append(Action(base, action="rebuilt", spec=want, fingerprint=digest, before=_view(stored),
                                  after=_view(want), previous_build_id=build.get("id"), previous_build_status=status,
                                  stale_for=stuck))
        else:
            actions.append(Action(base, action="unchanged", build_id=build.get("id"), build_status=status))
    return actions


def _stored_spec(env):
    spec = ((env.get("build") or {}).get("specification") or {}).get("spec")
    return spec if isinstance(spec, dict) else None


def _view(spec):
    """What the diff shows of a specification, in a stable order."""
    if spec is None:
        return None
    view = canonical(spec)
    return {"channels": view["channels"], "dependencies": view["conda"] + ([{"pip": view["pip"]}] if view["pip"] else []),
            "variables": view["variables"], "description": view["description"]}


def apply(client, actions, workers=4):
    def run(action):
        try:
            if action.kind == "deleted":
                client.delete_environment(action["namespace"], action["name"])
            else:
                if action.get("stale_for") is not None:
                    action["previous_build_cancelled"] = client.cancel_build(action["previous_build_id"])
                action["build_id"] = client.submit(action["namespace"], action["spec"])
                action["build_status"] = "QUEUED"
        except CondaStoreError as exc:
            action["failed"] = True
            action["msg"] = exc.message
        return action
    pool_map(workers, run, [a for a in actions if a.kind in CHANGES])
    return actions


def record(client, actions, state):
    """Write down, per namespace, the builds this run submitted with their fingerprints (and forget deleted
    environments), so that the next run knows them unchanged without reading their specifications. Bookkeeping
    only: when it fails, the next run compares the specifications instead. Returns warnings."""
    warnings = []
    for namespace in sorted(set(a["namespace"] for a in actions if a.kind in CHANGES and not a.get("failed"))):
        mine = dict((state.get(namespace) or {}).get("record") or {})
        for action in actions:
            if action["namespace"] != namespace or action.get("failed"):
                continue
            if action.kind == "deleted":
                mine.pop(action["name"], None)
            elif action.kind in CHANGES and action.get("build_id"):
                mine[action["name"]] = {"build_id": action["build_id"], "fingerprint": action["fingerprint"]}
        try:
            metadata = client.namespace_metadata(namespace)
            metadata[RECORD] = mine
            client.set_namespace_metadata(namespace, metadata)
        except CondaStoreError as exc:
            warnings.append("namespace %s: could not record the submitted builds (%s); the next run compares the "
                            "specifications instead" % (namespace, exc.message))
    return warnings


def wait(client, actions, timeout=600, interval=2.0, sleep=time.sleep, clock=time.monotonic):
    """Follow the builds apply() submitted, and those of unchanged environments still in progress, until each
    finishes or the time is up; fail those that do not complete."""
    pending = [a for a in actions if a.get("build_id") and not a.get("failed")
               and (a.kind in CHANGES or a.get("build_status") in IN_PROGRESS)]
    deadline = clock() + timeout
    while pending:
        still = []
        for action in pending:
            try:
                build = client.build(action["build_id"])
            except CondaStoreError as exc:
                action.update(failed=True, msg=exc.message)
                continue
            action["build_status"] = build.get("status")
            if build.get("status") not in FINISHED:
                still.append(action)
            elif build.get("status") != "COMPLETED":
                _fail_build(client, action, build)
        pending = still
        if pending and clock() >= deadline:
            for action in pending:
                action.update(failed=True, msg="build %s of %s is still %s after %d s (wait_timeout)"
                              % (action["build_id"], action.key, action["build_status"], timeout))
            break
        if pending:
            sleep(interval)
    return actions


def _fail_build(client, action, build):
    try:
        lines = (client.build_log(build["id"]) or "").rstrip().splitlines()
    except CondaStoreError as exc:
        lines = ["(the build log could not be read: %s)" % exc.message]
    action["log_tail"] = "\n".join(lines[-LOG_TAIL_LINES:])
    reason = build.get("status_info") or next((line.strip() for line in reversed(lines) if line.strip()), "")
    action.update(failed=True, msg="build %s of %s %s: %s" % (build["id"], action.key, build["status"],
                                                              reason[:300] or "see log_tail"))


def reconcile(client, environments, rebuild_failed=False, wait_builds=False, wait_timeout=600, workers=4,
              check_mode=False, diff=False, sleep=time.sleep, stale_after=0, now=None):
    state = read(client, environments, workers=workers)
    actions = plan(environments, state, rebuild_failed=rebuild_failed, stale_after=stale_after, now=now)
    warnings = []
    if not check_mode:
        apply(client, actions, workers=workers)
        warnings = record(client, actions, state)
        if wait_builds:
            wait(client, actions, timeout=wait_timeout, sleep=sleep)
    result = {
        "changed": any(a.kind in CHANGES and not (a.get("failed") and not a.get("build_id")) for a in actions),
        "environments": [_report(a) for a in actions],
        "namespaces_created": sorted(set(a["namespace"] for a in actions if a.get("namespace_created")
                                         and not a.get("failed"))),
        "summary": summary(actions),
    }
    result["warnings"] = warnings + [
        "%s: its newest build %s %s with this specification (rebuild_failed: true submits it again)"
        % (a.key, a["build_id"], a["build_status"])
        for a in actions if a.kind == "unchanged" and a.get("build_status") in FAILED_BUILDS] + [
        "%s: build %s was %s for %d s (longer than stale_build_timeout, %d s: a build a stopped worker lost); %s, "
        "submitted again%s" % (a.key, a["previous_build_id"], a.get("previous_build_status"), a["stale_for"],
                               stale_after, "cancelled" if a.get("previous_build_cancelled") else "left as it is",
                               " as build %s" % a["build_id"] if a.get("build_id") else "")
        for a in actions if a.get("stale_for") is not None]
    failed = [a for a in actions if a.get("failed")]
    if failed:
        result["failed"] = True
        result["msg"] = "%d of %d environments did not reconcile: %s" % (
            len(failed), len(actions), "; ".join("%s: %s" % (a.key, a["msg"]) for a in failed))
    if diff:
        changed = [a for a in actions if a.kind in CHANGES]
        result["diff"] = {"before": dict((a.key, a["before"]) for a in changed if a.get("before") is not None),
                          "after": dict((a.key, a["after"]) for a in changed if a.get("after") is not None)}
    return result


def _report(action):
    report = {"namespace": action["namespace"], "name": action["name"], "action": action.kind}
    for key in ("changes", "build_id", "build_status", "previous_build_id", "previous_build_status", "stale_for",
                "msg", "log_tail", "failed"):
        if action.get(key) is not None:
            report[key] = action[key]
    return report
