"""The Keycloak export Job made from Keycloak's StatefulSet, and the export read back from its log."""

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.nebari.platform.plugins.filter.backup import (
    BEGIN,
    END,
    keycloak_export_from_log,
    keycloak_export_job,
)

STATEFULSET = {
    "metadata": {"name": "keycloak-keycloakx", "namespace": "dev"},
    "spec": {"template": {"spec": {
        "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{}]}},
        "nodeSelector": {"nebari.dev/node-group": "general"},
        "initContainers": [{"name": "dbchecker", "image": "busybox"}],
        "restartPolicy": "Always",
        "containers": [{
            "name": "keycloak", "image": "quay.io/keycloak/keycloak:26.5.6",
            "command": ["/opt/keycloak/bin/kc.sh", "start", "--http-port=8080"],
            "env": [{"name": "KC_DB", "value": "postgres"},
                    {"name": "KC_DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}],
            "volumeMounts": [{"name": "themes", "mountPath": "/opt/keycloak/themes"}],
            "readinessProbe": {"httpGet": {"path": "/auth/health/ready"}},
            "ports": [{"containerPort": 8080}]}],
        "volumes": [{"name": "themes", "emptyDir": {}}]}}}}


def test_the_job_is_the_server_s_pod_running_kc_sh_export():
    job = keycloak_export_job(STATEFULSET, "nebari", deadline=300)
    assert job["metadata"]["namespace"] == "dev" and job["spec"]["activeDeadlineSeconds"] == 300
    spec = job["spec"]["template"]["spec"]
    # the server's database settings, Secrets, volumes, init containers and placement; not its affinity or probes
    assert spec["restartPolicy"] == "Never" and "affinity" not in spec
    assert spec["nodeSelector"] == {"nebari.dev/node-group": "general"} and spec["volumes"] and spec["initContainers"]
    container = spec["containers"][0]
    assert container["image"] == "quay.io/keycloak/keycloak:26.5.6" and "readinessProbe" not in container
    assert container["volumeMounts"] == STATEFULSET["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert {"name": "NEBARI_REALM", "value": "nebari"} in container["env"] and container["env"][1]["valueFrom"]
    script = container["command"][2]
    assert "/opt/keycloak/bin/kc.sh export --dir /tmp/nebari-export --realm \"$NEBARI_REALM\" --users realm_file" \
        in script
    # the StatefulSet is left as it was
    assert STATEFULSET["spec"]["template"]["spec"]["restartPolicy"] == "Always"


def test_not_a_statefulset_is_refused():
    with pytest.raises(AnsibleFilterError, match="not a Keycloak StatefulSet"):
        keycloak_export_job({"metadata": {}, "spec": {}}, "nebari")


def test_the_export_is_read_from_between_the_markers():
    realm = {"realm": "nebari", "users": [{"username": "alia", "credentials": [{"type": "password"}]}]}
    log = "INFO starting\nINFO Export finished successfully\n%s\n%s\n%s\nINFO stopped" % (
        BEGIN, json.dumps(realm, indent=2), END)
    assert keycloak_export_from_log(log, "nebari") == realm
    assert keycloak_export_from_log(log.splitlines(), "nebari") == realm
    with pytest.raises(AnsibleFilterError, match="exported realm 'nebari', not 'other'"):
        keycloak_export_from_log(log, "other")


def test_no_export_or_a_cut_one_says_so_with_the_log_s_end():
    with pytest.raises(AnsibleFilterError, match="printed no export; the end of its log:\nINFO starting\nERROR: realm not found"):
        keycloak_export_from_log("INFO starting\nERROR: realm not found", "nebari")
    with pytest.raises(AnsibleFilterError, match="not complete JSON"):
        keycloak_export_from_log('%s\n{"realm": "neb\n%s' % (BEGIN, END), "nebari")


def test_backup_file_problems_names_each_bad_file():
    from ansible_collections.nebari.platform.plugins.filter.restore import backup_file_problems
    good = {"path": "a", "bytes": 3, "sha256": "aa"}
    results = [
        {"item": good, "stat": {"exists": True, "size": 3, "checksum": "aa"}},
        {"item": {"path": "keycloak/nebari-realm.json.vault", "bytes": 9, "sha256": "bb"},
         "stat": {"exists": True, "size": 4, "checksum": "cc"}},
        {"item": {"path": "conda-store/environments.yml", "bytes": 5, "sha256": "dd"},
         "stat": {"exists": True, "size": 5, "checksum": "ee"}},
        {"item": {"path": "helm/releases.yml", "bytes": 1, "sha256": "ff"}, "stat": {"exists": False}},
    ]
    assert backup_file_problems(results) == [
        "keycloak/nebari-realm.json.vault: 4 bytes, the manifest says 9 (truncated?)",
        "conda-store/environments.yml: its SHA-256 is not the manifest's (changed or corrupt)",
        "helm/releases.yml: missing"]


def test_environments_missing_leaves_out_what_conda_store_holds():
    from ansible_collections.nebari.platform.plugins.filter.restore import environments_missing
    backup = [{"namespace": "global", "name": "a"}, {"namespace": "team", "name": "a"}, {"namespace": "team", "name": "b"}]
    present = {"environments": [{"namespace": "global", "name": "a"}], "left_out": [{"namespace": "team", "name": "b"}]}
    assert environments_missing(backup, present) == [{"namespace": "team", "name": "a"}]
    with pytest.raises(AnsibleFilterError):
        environments_missing(backup, [])
