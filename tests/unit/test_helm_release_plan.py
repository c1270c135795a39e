"""The helm_release_plan filter: which releases need a helm process, decided from Helm's own release records."""

import base64
import gzip
import io
import json
import tarfile

import pytest

from ansible_collections.nebari.platform.plugins.filter.helm import helm_release_plan, wanted_chart

VALUES = {"hub": {"db": {"password": "s3cret-value"}, "replicas": 1, "ratio": 0.5, "debug": False, "extra": None},
          "proxy": {"service": {"type": "LoadBalancer"}, "ports": [80, 443]}}


def record_secret(name="jupyterhub", revision=1, status="deployed", chart=("jupyterhub", "4.4.0", "5.3.0"),
                  config=None, namespace="dev", raw=None):
    """A release Secret as Helm writes it (base64 of gzipped JSON, base64 again by the API)."""
    record = {"name": name, "namespace": namespace, "version": revision, "info": {"status": status},
              "chart": {"metadata": {"name": chart[0], "version": chart[1], "appVersion": chart[2]},
                        "templates": [{"name": "templates/a.yaml", "data": ""}]},
              "config": json.loads(json.dumps(VALUES)) if config is None else config,
              "manifest": "---\n"}
    data = raw if raw is not None else base64.b64encode(base64.b64encode(
        gzip.compress(json.dumps(record).encode()))).decode()
    return {"metadata": {"name": "sh.helm.release.v1.%s.v%d" % (name, revision), "namespace": namespace,
                         "labels": {"owner": "helm", "name": name, "version": str(revision), "status": status}},
            "data": {"release": data}}


def repo_release(component="jupyterhub", namespace="dev", version="4.4.0"):
    return {"component": component, "release": component, "namespace": namespace, "chart_ref": component,
            "chart_repo_url": "https://hub.jupyter.org/helm-chart/", "chart_version": version}


def plan_of(secrets, release=None, values=None):
    release = release or repo_release()
    plan = helm_release_plan(secrets, [release], {release["component"]: VALUES if values is None else values})
    assert len(plan) == 1 and plan[0]["component"] == release["component"]
    return plan[0]["current"], plan[0]["reason"]


def test_a_deployed_release_with_the_same_chart_and_values_is_current():
    # the values as Helm keeps them (JSON: 1.0 read back as 1, keys as text) equal the rendered ones
    assert plan_of([record_secret(revision=1, status="superseded"), record_secret(revision=2)]) == (
        True, "revision 2 is current")
    assert plan_of([record_secret(config={"a": {"1": 2.0}})], values={"a": {1: 2}}) == (True, "revision 1 is current")


@pytest.mark.parametrize("secrets, expected", [
    ([], "not installed"),
    ([record_secret(namespace="ops")], "not installed"),  # another namespace's release of that name
    ([record_secret(revision=1), record_secret(revision=2, status="failed")], "revision 2 is failed"),
    ([record_secret(revision=1), record_secret(revision=2, status="pending-upgrade")],
     "revision 2 is pending-upgrade"),
    ([record_secret(status="pending-install")], "revision 1 is pending-install"),
    ([record_secret(status="uninstalled")], "revision 1 is uninstalled"),
    ([record_secret(chart=("jupyterhub", "4.3.0", "5.3.0"))],
     "revision 1 has chart jupyterhub-4.3.0, not jupyterhub-4.4.0"),
    ([record_secret(chart=("binderhub", "4.4.0", "5.3.0"))],
     "revision 1 has chart binderhub-4.4.0, not jupyterhub-4.4.0"),
    ([record_secret(raw="bm90IGd6aXA=")], "revision 1: Helm's record not readable"),
])
def test_a_release_not_deployed_as_wanted_goes_through_helm(secrets, expected):
    assert plan_of(secrets) == (False, expected)


@pytest.mark.parametrize("config", [
    # changed by hand: helm upgrade --reuse-values --set hub.replicas=3
    dict(VALUES, hub=dict(VALUES["hub"], replicas=3)),
    # helm upgrade --set proxy.service.type=NodePort (values replaced, not merged)
    {"proxy": {"service": {"type": "NodePort"}}},
    # one key more, one key less, a list in another order, null left out, a number as text
    dict(VALUES, added=True),
    {"hub": VALUES["hub"]},
    dict(VALUES, proxy={"service": {"type": "LoadBalancer"}, "ports": [443, 80]}),
    dict(VALUES, hub=dict((k, v) for k, v in VALUES["hub"].items() if k != "extra")),
    dict(VALUES, hub=dict(VALUES["hub"], replicas="1")),
    {},
])
def test_other_values_than_the_run_renders_go_through_helm_and_are_never_named(config):
    current, reason = plan_of([record_secret(revision=4, config=config)])
    assert (current, reason) == (False, "revision 4 has other values")
    assert "s3cret" not in reason


def test_values_that_cannot_be_json_differ():
    assert plan_of([record_secret()], values=dict(VALUES, when=object())) == (False, "revision 1 has other values")


def test_empty_values_match_a_record_without_config():
    assert plan_of([record_secret(config={})], values={}) == (True, "revision 1 is current")
    secret = record_secret(config={})
    assert helm_release_plan([secret], [repo_release()], {})[0]["current"]  # no values rendered at all


def test_a_repository_or_oci_chart_without_a_pinned_version_always_goes_through_helm():
    assert plan_of([record_secret()], repo_release(version=None)) == (
        False, "chart jupyterhub has no pinned version")
    oci = {"component": "keycloak-postgresql", "release": "keycloak-postgresql", "namespace": "dev",
           "chart_ref": "oci://registry-1.docker.io/bitnamicharts/postgresql", "chart_repo_url": None,
           "chart_version": "17.1.0"}
    secret = record_secret(name="keycloak-postgresql", chart=("postgresql", "17.1.0", "17.6.0"))
    assert plan_of([secret], oci) == (True, "revision 1 is current")
    assert plan_of([secret], dict(oci, chart_version=None))[0] is False


def packaged_chart(tmp_path, name="jupyterhub", version="4.4.0", app_version="5.3.0", filename=None):
    """A chart tarball as helm package writes it (<name>/Chart.yaml first)."""
    path = tmp_path / (filename or "%s-%s.tgz" % (name, version))
    chart_yaml = ("apiVersion: v2\nname: %s\nversion: %s\n" % (name, version)
                  + ("appVersion: %s\n" % app_version if app_version else "")).encode()
    with tarfile.open(path, "w:gz") as tar:
        for member, data in (("%s/Chart.yaml" % name, chart_yaml), ("%s/templates/a.yaml" % name, b"---\n")):
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return str(path)


def path_release(path, component="jupyterhub"):
    return {"component": component, "release": component, "namespace": "dev", "chart_ref": path,
            "chart_repo_url": None, "chart_version": None}


def test_a_local_chart_is_known_by_its_own_chart_yaml(tmp_path):
    # airgap: jupyterhub-4.4.0.tgz may hold any chart; the record is compared with what the file holds
    standin = packaged_chart(tmp_path, "nebari-standin", "0.1.0", None, filename="jupyterhub-4.4.0.tgz")
    assert wanted_chart(path_release(standin)) == (("nebari-standin", "0.1.0", ""), None)
    assert plan_of([record_secret(chart=("nebari-standin", "0.1.0", None))], path_release(standin)) == (
        True, "revision 1 is current")
    assert plan_of([record_secret()], path_release(standin)) == (
        False, "revision 1 has chart jupyterhub-4.4.0, not nebari-standin-0.1.0")
    # the same name and version repackaged with another app version: not current (as kubernetes.core.helm compares)
    repackaged = packaged_chart(tmp_path, app_version="5.4.0")
    assert plan_of([record_secret()], path_release(repackaged)) == (
        False, "revision 1 has app version '5.3.0', not '5.4.0'")
    # a chart directory; numbers in Chart.yaml read as written (1.10 is not 1.1)
    directory = tmp_path / "chart"
    (directory / "templates").mkdir(parents=True)
    (directory / "Chart.yaml").write_text("apiVersion: v2\nname: conda-store\nversion: 1.10\nappVersion: 2025.2\n")
    assert wanted_chart(path_release(str(directory))) == (("conda-store", "1.10", "2025.2"), None)


def test_a_local_chart_that_cannot_be_read_goes_through_helm(tmp_path):
    (tmp_path / "broken.tgz").write_bytes(b"not a tarball")
    for path in (str(tmp_path / "missing.tgz"), str(tmp_path / "broken.tgz"), str(tmp_path)):
        current, reason = plan_of([record_secret()], path_release(path))
        assert not current and reason.startswith("chart %s not readable here" % path), reason


def test_the_plan_keeps_the_order_and_says_which_revision_serves():
    releases = [repo_release("jupyterhub"), repo_release("dask-gateway"), repo_release("jupyterhub", "ops")]
    secrets = [record_secret(), record_secret(namespace="ops", revision=7),
               record_secret(name="dask-gateway", chart=("dask-gateway", "4.4.0", "x"), config={"a": 1})]
    plan = helm_release_plan(secrets, releases, {"jupyterhub": VALUES, "dask-gateway": {"a": 2}})
    assert [(p["namespace"], p["release"], p["current"], p["reason"]) for p in plan] == [
        ("dev", "jupyterhub", True, "revision 1 is current"),
        ("dev", "dask-gateway", False, "revision 1 has other values"),
        ("ops", "jupyterhub", True, "revision 7 is current")]
