# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keycloak's own export of a realm (users with their password hashes), run as a Job beside the server.

The admin REST API never gives password hashes back; `kc.sh export` does, reading the database. It runs in a Job
made from Keycloak's own StatefulSet (same image, database settings and Secrets), so it works whatever the values
say, and prints the export between two marker lines with bash alone (the upstream image has no tar, gzip or
base64), for the playbook to read from the Job's log.
"""

from __future__ import annotations

import copy
import json

from ansible.errors import AnsibleFilterError

BEGIN = "@@nebari-export-begin@@"
END = "@@nebari-export-end@@"
KEPT = ("image", "imagePullPolicy", "env", "envFrom", "volumeMounts", "securityContext", "resources")
SCRIPT = """set -e
rm -rf /tmp/nebari-export && mkdir -p /tmp/nebari-export
%s export --dir /tmp/nebari-export --realm "$NEBARI_REALM" --users realm_file
echo "%s"
while IFS= read -r line || [ -n "$line" ]; do printf '%%s\\n' "$line"; done < "/tmp/nebari-export/$NEBARI_REALM-realm.json"
echo "%s"
"""


def keycloak_export_job(statefulset, realm, name="nebari-keycloak-export", deadline=900):
    """A Job that exports one realm with `kc.sh export`, from Keycloak's StatefulSet (kubernetes.core.k8s_info's
    resource)."""
    try:
        template = copy.deepcopy(statefulset["spec"]["template"]["spec"])
        server = template["containers"][0]
    except (KeyError, IndexError, TypeError) as exc:
        raise AnsibleFilterError("not a Keycloak StatefulSet (no container in spec.template.spec): %s" % exc) from exc
    command = (server.get("command") or [""])[0]
    kc = command if command.endswith("/kc.sh") else "/opt/keycloak/bin/kc.sh"
    container = dict((key, server[key]) for key in KEPT if key in server)
    container.update(name="export", command=["/bin/bash", "-c", SCRIPT % (kc, BEGIN, END)],
                     env=list(server.get("env") or []) + [{"name": "NEBARI_REALM", "value": realm}])
    # not the server's affinity: its anti-affinity keeps pods off nodes where Keycloak runs, and labels are ours
    spec = dict((key, value) for key, value in template.items()
                if key not in ("containers", "affinity", "hostname", "subdomain", "restartPolicy"))
    spec.update(containers=[container], restartPolicy="Never")
    labels = {"app.kubernetes.io/name": "nebari-backup", "app.kubernetes.io/component": "keycloak-export"}
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "namespace": statefulset["metadata"]["namespace"], "labels": labels},
            "spec": {"backoffLimit": 0, "activeDeadlineSeconds": int(deadline), "ttlSecondsAfterFinished": 600,
                     "template": {"metadata": {"labels": labels}, "spec": spec}}}


def keycloak_export_from_log(log, realm):
    """The realm export a keycloak_export_job printed in its log, parsed; an error that quotes the log's end when
    there is none."""
    text = log if isinstance(log, str) else "\n".join(log or [])
    if BEGIN not in text or END not in text.split(BEGIN, 1)[1]:
        tail = "\n".join(text.strip().splitlines()[-15:])
        raise AnsibleFilterError("Keycloak's export of realm %s printed no export; the end of its log:\n%s"
                                 % (realm, tail or "(empty)"))
    body = text.split(BEGIN, 1)[1].split(END, 1)[0]
    try:
        export = json.loads(body)
    except ValueError as exc:
        raise AnsibleFilterError("Keycloak's export of realm %s is not complete JSON (%s): the log was cut?"
                                 % (realm, exc)) from exc
    if export.get("realm") != realm:
        raise AnsibleFilterError("Keycloak exported realm %r, not %r" % (export.get("realm"), realm))
    return export


class FilterModule:
    def filters(self):
        return {"keycloak_export_job": keycloak_export_job, "keycloak_export_from_log": keycloak_export_from_log}
