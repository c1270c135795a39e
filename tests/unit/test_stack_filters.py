"""The component_releases filter: catalog + overrides + extra releases -> release entries, airgap included."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.nebari.platform.plugins.filter.stack import component_releases

CATALOG = {
    "jupyterhub": {"chart": {"repo": "https://hub.jupyter.org/helm-chart/", "name": "jupyterhub", "version": "4.4.0"},
                   "values_template": "jupyterhub.yml.j2", "timeout": "10m"},
    "keycloak-postgresql": {"chart": {"oci": "oci://registry-1.docker.io/bitnamicharts/postgresql",
                                      "version": "18.0.15"}},
}


def test_overrides_replace_top_level_keys_and_extra_releases_come_last():
    releases = component_releases(CATALOG, {"jupyterhub": {"chart": {"path": "/charts/jh"}, "values": {"a": 1},
                                                           "timeout": 60}},
                                  "dev", [{"name": "tools", "namespace": "ops", "chart": {"path": "/charts/tools"}}])
    assert [(r["component"], r["namespace"], r["chart_ref"], r["chart_repo_url"]) for r in releases] == [
        ("jupyterhub", "dev", "/charts/jh", None),
        ("keycloak-postgresql", "dev", "oci://registry-1.docker.io/bitnamicharts/postgresql", None),
        ("tools", "ops", "/charts/tools", None)]
    assert releases[0]["timeout"] == "60s" and releases[0]["value_overrides"] == {"a": 1}
    assert releases[0]["values_template"] == "jupyterhub.yml.j2"


def test_airgap_resolves_repository_and_oci_charts_to_their_tarballs():
    releases = component_releases(CATALOG, {}, "dev", [{"name": "tools", "chart": {"path": "/charts/tools"}}],
                                  "/srv/airgap")
    assert [(r["chart_ref"], r["chart_version"]) for r in releases] == [
        ("/srv/airgap/charts/jupyterhub-4.4.0.tgz", None), ("/srv/airgap/charts/postgresql-18.0.15.tgz", None),
        ("/charts/tools", None)]
    assert releases[0]["chart_source"] == ("path /srv/airgap/charts/jupyterhub-4.4.0.tgz (airgap copy of jupyterhub "
                                           "4.4.0 from https://hub.jupyter.org/helm-chart/)")


def test_unknown_components_are_refused():
    with pytest.raises(AnsibleFilterError, match="unknown components: jupyterhbu"):
        component_releases(CATALOG, {"jupyterhbu": {}})


def helm_secret(namespace, name, revision, status, chart_version, config=None):
    """A release Secret as Helm writes it and kubernetes.core.k8s_info returns it."""
    import base64
    import gzip
    import json

    record = {"name": name, "version": revision, "info": {"status": status}, "config": config,
              "chart": {"metadata": {"name": "jupyterhub", "version": chart_version, "appVersion": "5.4.0"}}}
    data = base64.b64encode(base64.b64encode(gzip.compress(json.dumps(record).encode()))).decode()
    return {"metadata": {"name": "sh.helm.release.v1.%s.v%d" % (name, revision), "namespace": namespace,
                         "labels": {"owner": "helm", "name": name, "version": str(revision), "status": status}},
            "data": {"release": data}}


def test_helm_releases_keeps_the_latest_revision_of_each_release():
    from ansible_collections.nebari.platform.plugins.filter.helm import helm_releases

    releases = helm_releases([helm_secret("dev", "jupyterhub", 1, "deployed", "4.3.0"),
                              helm_secret("dev", "jupyterhub", 3, "failed", "4.4.0"),
                              helm_secret("ops", "jupyterhub", 1, "deployed", "4.4.0"),
                              {"metadata": {"labels": {"owner": "someone"}}, "data": {}}])
    assert releases == {
        "dev/jupyterhub": {"chart": "jupyterhub-4.4.0", "app_version": "5.4.0", "status": "failed", "revision": 3},
        "ops/jupyterhub": {"chart": "jupyterhub-4.4.0", "app_version": "5.4.0", "status": "deployed", "revision": 1}}
    # with values: what the latest revision was installed with (a backup keeps them)
    with_values = helm_releases([helm_secret("dev", "jupyterhub", 1, "deployed", "4.3.0", {"hub": {"a": 1}}),
                                 helm_secret("dev", "jupyterhub", 2, "deployed", "4.4.0", {"hub": {"a": 2}}),
                                 helm_secret("dev", "loki", 1, "deployed", "6.0.0")], values=True)
    assert with_values["dev/jupyterhub"]["values"] == {"hub": {"a": 2}} and with_values["dev/loki"]["values"] == {}


def pending(namespace, name, revision, status, created):
    secret = helm_secret(namespace, name, revision, status, "4.4.0")
    secret["metadata"]["creationTimestamp"] = created
    return secret


def test_helm_stuck_releases_are_the_run_s_releases_pending_longer_than_their_timeout():
    from ansible_collections.nebari.platform.plugins.filter.helm import helm_stuck_releases

    now = 1796084400.0  # 2026-12-01T00:20:00Z
    releases = [{"release": "jupyterhub", "namespace": "dev", "timeout": "5m"},
                {"release": "keycloak", "namespace": "dev", "timeout": "1h30m"},
                {"release": "grafana", "namespace": "dev", "timeout": "20s"},
                {"release": "loki", "namespace": "dev", "timeout": "5m"}]
    found = helm_stuck_releases([
        pending("dev", "jupyterhub", 3, "pending-upgrade", "2026-12-01T00:10:00Z"),  # 10 min > 5 min
        pending("dev", "keycloak", 2, "pending-upgrade", "2026-12-01T00:10:00Z"),  # at work: 10 min < 90 min
        pending("dev", "grafana", 1, "pending-install", "2026-12-01T00:19:00Z"),
        pending("ops", "jupyterhub", 4, "pending-upgrade", "2026-11-30T00:00:00Z"),  # not a release of this run
        # recovered: the killed revision stays pending in the history, the latest one serves
        pending("dev", "loki", 4, "pending-upgrade", "2026-11-30T00:00:00Z"),
        pending("dev", "loki", 6, "deployed", "2026-11-30T01:00:00Z"),
    ], releases, now=now)
    assert found == [
        {"release": "grafana", "namespace": "dev", "status": "pending-install", "revision": 1, "age": 60,
         "action": "uninstall"},
        {"release": "jupyterhub", "namespace": "dev", "status": "pending-upgrade", "revision": 3, "age": 600,
         "action": "rollback"}]


def test_helm_stuck_releases_refuses_a_timeout_that_is_not_a_duration():
    from ansible_collections.nebari.platform.plugins.filter.helm import helm_stuck_releases

    with pytest.raises(AnsibleFilterError, match="not a duration"):
        helm_stuck_releases([pending("dev", "jupyterhub", 3, "pending-upgrade", "2026-12-01T00:10:00Z")],
                            [{"release": "jupyterhub", "namespace": "dev", "timeout": "five minutes"}])


@pytest.mark.parametrize("statuses, atomic, expected", [
    ([], True, "Nothing installed: Helm removed the failed first install."),
    (["superseded", "failed", "deployed"], True, "Rolled back: revision 2 failed; revision 3, a rollback, is "
                                                 "deployed and serving."),
    (["deployed"], True, "Revision 1 is deployed and serving (Helm changed nothing)."),
    (["deployed", "pending-upgrade"], True, "Not rolled back: revision 2 is pending-upgrade: another Helm operation"),
    (["deployed", "failed"], False, "Not rolled back: revision 2 is failed (nebari_stack_atomic is false"),
])
def test_helm_outcome_says_what_serves_after_a_failure(statuses, atomic, expected):
    from ansible_collections.nebari.platform.plugins.filter.helm import helm_outcome

    secrets = [helm_secret("dev", "jupyterhub", i + 1, status, "4.4.0") for i, status in enumerate(statuses)]
    assert helm_outcome(secrets, atomic).startswith(expected)
