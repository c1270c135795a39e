"""release_urls: the URLs the live routes give each Helm release, through the Services they send to."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.nebari.platform.plugins.filter.cluster import release_urls

from test_cluster_check import ROUTED, meta


def helm_service(name, release, namespace="dev", release_namespace=None):
    return {"metadata": meta(name, namespace, annotations={
        "meta.helm.sh/release-name": release, "meta.helm.sh/release-namespace": release_namespace or namespace})}


SERVICES = [helm_service("argo-workflows-server", "argo-workflows"),
            {"metadata": meta("proxy-public", labels={"release": "jupyterhub"})},  # labels only: still its release
            helm_service("traefik-dask-gateway", "dask-gateway", namespace="dask"),
            helm_service("traefik-dask-gateway", "dask-gateway"),
            helm_service("api-dask-gateway", "dask-gateway"),
            {"metadata": meta("unowned")}]


def test_each_release_gets_the_urls_of_its_https_routes():
    objects = dict(ROUTED, services=SERVICES)
    assert release_urls(objects, "nebari.example.com") == {
        "dev/argo-workflows": ["https://nebari.example.com/argo/"],
        # a route naming no entry point is on Traefik's default ones; without a host, under the domain
        "dev/jupyterhub": ["https://nebari.example.com/"],
        # the websecure route to dask-gateway's Traefik; its chart's own route (entry point web) and the schedulers'
        # TCP route give no URL
        "dask/dask-gateway": ["https://nebari.example.com/gateway"]}


def test_a_release_no_route_reaches_has_no_urls_and_other_entry_points_can_be_named():
    objects = dict(ROUTED, services=SERVICES)
    assert release_urls(dict(objects, ingresses=[]), "d") == {
        "dask/dask-gateway": ["https://nebari.example.com/gateway"]}
    assert release_urls(objects, "nebari.example.com", ["web"]) == {
        "dev/jupyterhub": ["https://nebari.example.com/"], "dev/dask-gateway": ["https://nebari.example.com/gateway"]}


def test_a_route_to_a_missing_or_unowned_service_gives_no_url():
    route = {"metadata": meta("r"), "spec": {"routes": [{"match": "PathPrefix(`/x`)", "services": [
        {"name": "unowned", "port": 80}, {"name": "absent", "port": 80}]}]}}
    assert release_urls({"ingressroutes": [route], "services": SERVICES}, "d") == {}


def test_release_urls_wants_the_objects_as_a_mapping():
    with pytest.raises(AnsibleFilterError):
        release_urls([], "d")
