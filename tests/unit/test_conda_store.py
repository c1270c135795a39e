"""conda-store: specification comparison, the plan, and the client and reconcile loop against a scripted fake."""

import datetime
import io
import json
from urllib.error import HTTPError, URLError

import pytest

from ansible_collections.nebari.platform.plugins.module_utils.conda_store import reconcile as rc
from ansible_collections.nebari.platform.plugins.module_utils.conda_store.client import CondaStoreClient, CondaStoreError
from ansible_collections.nebari.platform.plugins.module_utils.conda_store.export import export
from ansible_collections.nebari.platform.plugins.module_utils.conda_store.spec import (
    differs,
    package_name,
    pip_name,
    specification,
)

SETTINGS = {"conda_default_channels": ["conda-forge"], "conda_default_packages": [],
            "conda_included_packages": ["ipykernel"], "pypi_default_packages": [], "pypi_included_packages": []}
ENV = {"namespace": "global", "name": "ds", "channels": ["conda-forge", "bioconda"],
       "dependencies": ["python=3.12", "pandas", {"pip": ["requests", "Flask_Login"]}], "variables": {"A": 1}}


def stored(env, settings=None):
    """The specification conda-store stores for env: what it received, completed as conda-store completes it."""
    return complete(specification(env), settings or SETTINGS)


def complete(spec, settings=None):
    settings = settings or SETTINGS
    if not spec["channels"]:
        spec["channels"] = list(settings["conda_default_channels"])
    names = set(package_name(d) for d in spec["dependencies"] if isinstance(d, str))
    spec["dependencies"] += [p for p in settings["conda_included_packages"] if p not in names]
    spec["prefix"] = None
    spec.setdefault("variables", None)
    return spec


def test_order_of_channels_and_dependencies_is_no_change():
    have = stored(ENV)
    have["channels"].reverse()
    have["dependencies"] = [{"pip": ["Flask_Login", "requests"]} if isinstance(d, dict) else d
                            for d in reversed(have["dependencies"])]
    have["variables"] = {"A": "1"}
    assert differs(specification(ENV), have, SETTINGS) == []


def test_what_conda_store_adds_is_no_change_but_a_removed_package_is():
    assert differs(specification(dict(ENV, channels=[])), stored(dict(ENV, channels=[])), SETTINGS) == []
    have = stored(ENV)
    assert differs(specification(dict(ENV, dependencies=["python=3.12", {"pip": ["requests", "Flask_Login"]}])),
                   have, SETTINGS) == ["conda"]
    assert differs(specification(dict(ENV, variables={"A": 2}, description="new")), have, SETTINGS) == \
        ["variables", "description"]


def test_names_of_packages_and_requirements():
    assert package_name("conda-forge::numpy>=1.26") == "numpy"
    assert package_name("python =3.12") == "python"
    assert pip_name("Flask_Login[extra]==0.6") == "flask-login"
    assert pip_name("--index-url https://x") == "--index-url https://x"


def state_with(env, build):
    return {env["namespace"]: {"exists": True, "settings": SETTINGS, "environments": {
        env["name"]: {"id": 1, "name": env["name"], "latest_build_id": build["id"], "build": build}}}}


def test_plan_created_updated_unchanged_rebuilt_deleted():
    build = {"id": 7, "status": "FAILED", "specification": {"spec": stored(ENV)}}
    state = state_with(ENV, build)
    assert rc.plan([ENV], state)[0].kind == "unchanged"
    assert rc.plan([ENV], state, rebuild_failed=True)[0].kind == "rebuilt"
    changed = rc.plan([dict(ENV, channels=["conda-forge"])], state)[0]
    assert (changed.kind, changed["changes"], changed["previous_build_id"]) == ("updated", ["channels"], 7)
    assert rc.plan([dict(ENV, state="absent")], state)[0].kind == "deleted"
    fresh = {"global": {"exists": False, "settings": SETTINGS, "environments": {}}}
    created = rc.plan([ENV, dict(ENV, name="gone", state="absent")], fresh)
    assert [(a.kind, a.get("namespace_created")) for a in created] == [("created", True), ("unchanged", None)]


def test_a_build_queued_or_building_too_long_is_submitted_again():
    now = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.timezone.utc)

    def hours_ago(hours):
        return (now - datetime.timedelta(hours=hours)).replace(tzinfo=None).isoformat()
    queued = {"id": 7, "status": "QUEUED", "scheduled_on": hours_ago(2), "specification": {"spec": stored(ENV)}}
    stuck = rc.plan([ENV], state_with(ENV, queued), stale_after=3600, now=now)[0]
    assert (stuck.kind, stuck["previous_build_id"], stuck["previous_build_status"]) == ("rebuilt", 7, "QUEUED")
    assert stuck["stale_for"] == 7200
    assert rc.plan([ENV], state_with(ENV, queued), stale_after=0, now=now)[0].kind == "unchanged"
    assert rc.plan([ENV], state_with(ENV, queued), stale_after=3 * 3600, now=now)[0].kind == "unchanged"
    # BUILDING counts from its start, not from when it was queued
    building = dict(queued, status="BUILDING", scheduled_on=hours_ago(5), started_on=hours_ago(0.5))
    assert rc.plan([ENV], state_with(ENV, building), stale_after=3600, now=now)[0].kind == "unchanged"
    assert rc.plan([ENV], state_with(ENV, dict(building, started_on=hours_ago(1.5))), stale_after=3600,
                   now=now)[0].kind == "rebuilt"
    # a finished build is never stale, and a time with an offset is read as such
    done = dict(queued, status="COMPLETED")
    assert rc.plan([ENV], state_with(ENV, done), stale_after=3600, now=now)[0].kind == "unchanged"
    assert rc.build_age(dict(queued, scheduled_on="2026-12-01T11:00:00Z"), now) == 3600


class FakeCondaStore:
    """Answers the API from an in-memory store; scripted failures by path fragment."""

    def __init__(self):
        self.calls, self.script = [], []
        self.envs, self.builds, self.metadata = {}, {}, {}
        self.build_status = "FAILED"

    def __call__(self, url, data=None, headers=None, method=None):
        path = url.split("/conda-store/api/v1", 1)[1]
        self.calls.append((method, path))
        assert headers["Authorization"] == "Bearer tok"
        for i, (match, outcome) in enumerate(self.script):
            if match in path:
                del self.script[i]
                raise outcome
        route, query = (path.split("?", 1) + [""])[:2]
        params = dict(p.split("=") for p in query.split("&") if p)
        if route == "/namespace/":
            return _answer([{"name": ns} for ns in sorted(set(ns for ns, dummy in self.envs))], params)
        if route.startswith("/namespace/") and route.endswith("/metadata") and method == "PUT":
            self.metadata[route.split("/")[2]] = json.loads(data)
            return _answer(None)
        if route.startswith("/namespace/") and method == "GET":
            return _answer({"name": route.split("/")[2], "metadata_": self.metadata.get(route.split("/")[2], {})})
        if route == "/environment/":
            return _answer([e for (ns, dummy), e in sorted(self.envs.items()) if ns == params["namespace"]], params)
        if route == "/build/":
            return _answer(sorted(self.builds.values(), key=lambda b: -b["id"]), params)
        if route.startswith("/setting/"):
            return _answer(SETTINGS)
        if route.endswith("/cancel/") and method == "PUT":
            raise HTTPError("u", 409, "conflict", {}, io.BytesIO(
                b'{"detail": "conda-store celery broker does not support task cancelation"}'))
        if route.endswith("/logs/"):
            return io.BytesIO(b"line 1\nsolver: nothing provides numpy\n")
        if route.startswith("/build/"):
            build = dict(self.builds[int(route.split("/")[2])])
            build["status"] = self.build_status
            return _answer(build)
        if route == "/specification/" and method == "POST":
            body = json.loads(data)
            spec = complete(json.loads(body["specification"]))
            key = (body["namespace"], spec["name"])
            env = self.envs.setdefault(key, {"id": len(self.envs) + 1, "name": spec["name"]})
            build_id = len(self.builds) + 1
            self.builds[build_id] = {"id": build_id, "environment_id": env["id"], "status": "QUEUED",
                                     "specification": {"spec": spec}}
            env["current_build_id"] = build_id
            return _answer({"build_id": build_id})
        if method == "DELETE":
            del self.envs[tuple(route.strip("/").split("/")[1:])]
            return _answer(None)
        raise AssertionError(path)


def _answer(data, params=None):
    if params is not None and isinstance(data, list):
        page, size = int(params.get("page", 1)), int(params.get("size", 100))
        return io.BytesIO(json.dumps({"data": data[(page - 1) * size:page * size], "count": len(data)}).encode())
    return io.BytesIO(json.dumps({"status": "ok", "data": data}).encode())


@pytest.fixture
def fake():
    return FakeCondaStore()


def client(fake, sleeps=None):
    return CondaStoreClient("http://cs.test/conda-store/", "tok", opener=fake,
                            sleep=(sleeps.append if sleeps is not None else lambda s: None))


def test_reconcile_creates_then_changes_nothing(fake):
    first = rc.reconcile(client(fake), [ENV, dict(ENV, name="ml")])
    assert first["changed"] and first["summary"] == {"created": 2} and first["namespaces_created"] == ["global"]
    before = len(fake.calls)
    again = rc.reconcile(client(fake), [ENV, dict(ENV, name="ml")])
    assert not again["changed"] and again["summary"] == {"unchanged": 2}
    assert [c for c in fake.calls[before:] if c[0] != "GET"] == []
    # what the first run submitted is recorded: no specification is read to know it unchanged
    assert sorted(fake.metadata["global"][rc.RECORD]) == ["ds", "ml"]
    assert not [c for c in fake.calls[before:] if c[1].startswith("/build/") and "?" not in c[1]]


def test_a_build_submitted_elsewhere_is_compared_and_undone(fake):
    rc.reconcile(client(fake), [ENV])
    spec = specification(dict(ENV, dependencies=["python=3.12"]))
    fake.builds[2] = {"id": 2, "environment_id": 1, "status": "QUEUED", "specification": {"spec": complete(spec)}}
    before = len(fake.calls)
    result = rc.reconcile(client(fake), [ENV])
    assert result["environments"][0]["action"] == "updated" and result["environments"][0]["changes"] == ["conda", "pip"]
    assert ("GET", "/build/2/") in fake.calls[before:]
    assert rc.reconcile(client(fake), [ENV])["summary"] == {"unchanged": 1}


def test_check_mode_submits_nothing_and_diff_shows_the_specification(fake):
    result = rc.reconcile(client(fake), [ENV], check_mode=True, diff=True)
    assert result["changed"] and fake.builds == {}
    assert result["diff"]["after"]["global/ds"]["dependencies"] == ["pandas", "python=3.12",
                                                                    {"pip": ["Flask_Login", "requests"]}]


def test_a_failed_build_fails_its_environment_with_the_log_tail_and_the_others_go_on(fake):
    result = rc.reconcile(client(fake), [ENV, dict(ENV, name="ml")], wait_builds=True, sleep=lambda s: None)
    assert result["failed"] and "2 of 2 environments" in result["msg"]
    report = result["environments"][0]
    assert report["build_status"] == "FAILED" and "nothing provides numpy" in report["msg"]
    assert report["log_tail"].endswith("solver: nothing provides numpy")
    fake.build_status = "COMPLETED"
    assert not rc.reconcile(client(fake), [ENV], wait_builds=True)["changed"]


def test_a_lost_build_is_submitted_again_with_a_warning_and_waited_for(fake):
    rc.reconcile(client(fake), [ENV])
    fake.builds[1]["scheduled_on"] = "2000-01-01T00:00:00"  # QUEUED since then: a worker lost it
    result = rc.reconcile(client(fake), [ENV], stale_after=3600)
    report = result["environments"][0]
    assert result["changed"] and (report["action"], report["previous_build_id"], report["build_id"]) == ("rebuilt", 1, 2)
    assert ("PUT", "/build/1/cancel/") in fake.calls  # refused by the standalone broker: left as it is
    assert len(result["warnings"]) == 1 and "build 1 was QUEUED for" in result["warnings"][0]
    assert "left as it is, submitted again as build 2" in result["warnings"][0]
    # the new build is fresh: unchanged next time, and wait follows it although this run submitted nothing
    fake.build_status = "COMPLETED"
    again = rc.reconcile(client(fake), [ENV], stale_after=3600, wait_builds=True, sleep=lambda s: None)
    assert not again["changed"] and again["environments"][0]["build_status"] == "COMPLETED"
    assert ("GET", "/build/2/") in fake.calls


def test_one_refused_submission_fails_that_environment_only(fake):
    fake.script.append(("/specification/", HTTPError("u", 400, "bad", {}, io.BytesIO(
        b'{"status": "error", "message": "Conda channels {\'x\'} not allowed"}'))))
    result = rc.reconcile(client(fake), [ENV], workers=1)
    assert result["failed"] and "not allowed" in result["msg"] and not result["changed"]
    assert rc.reconcile(client(fake), [ENV])["summary"] == {"created": 1}


def test_retries_5xx_and_connection_errors_then_names_the_service(fake):
    sleeps = []
    fake.script += [("/namespace/", HTTPError("u", 503, "busy", {}, io.BytesIO(b""))),
                    ("/namespace/", URLError("refused"))]
    rc.reconcile(client(fake, sleeps), [ENV])
    assert sleeps == [0.5, 1.0]
    fake.script += [("/namespace/", URLError("refused"))] * 6
    with pytest.raises(CondaStoreError, match="conda-store at http://cs.test/conda-store did not answer after 6"):
        rc.reconcile(client(fake), [ENV])


def test_export_gives_entries_the_reconcile_takes_back_unchanged(fake):
    other = {"namespace": "analysts", "name": "plain", "channels": [], "dependencies": ["numpy"],
             "description": "Plain"}
    rc.reconcile(client(fake), [ENV, other])
    fake.envs[("analysts", "draft")] = {"id": 9, "name": "draft"}  # made in the UI, never built
    exported = export(client(fake))
    assert exported["namespaces"] == ["analysts", "global"]
    assert [(e["namespace"], e["name"]) for e in exported["environments"]] == [("analysts", "plain"), ("global", "ds")]
    assert exported["left_out"] == [{"namespace": "analysts", "name": "draft", "reason": "no build yet"}]
    assert [b["build_id"] for b in exported["builds"]] == [2, 1]
    ds = exported["environments"][1]
    assert ds["variables"] == {"A": "1"} and {"pip": ["requests", "Flask_Login"]} in ds["dependencies"]
    # fed back to the reconcile (after the record of the first run is lost): nothing to do
    fake.metadata.clear()
    del fake.envs[("analysts", "draft")]
    assert rc.reconcile(client(fake), exported["environments"])["summary"] == {"unchanged": 2}
    assert [e["name"] for e in export(client(fake), ["analysts"])["environments"]] == ["plain"]
    with pytest.raises(ValueError, match="no such namespace in conda-store: gone"):
        export(client(fake), ["gone"])
