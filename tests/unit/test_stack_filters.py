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


def helm_secret(namespace, name, revision, status, chart_version):
    """A release Secret as Helm writes it and kubernetes.core.k8s_info returns it."""
    import base64
    import gzip
    import json

    record = {"name": name, "version": revision, "info": {"status": status},
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
