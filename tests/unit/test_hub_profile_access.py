"""The hub's profile access (roles/nebari_stack/files/jupyterhub/profile_access.py), run as z2jh runs it (exec'd in
the hub's config) with the hub's modules stood in for: the callable profile_list it wraps around the profiles z2jh
configured offers each user the profiles she may use."""

from __future__ import annotations

import asyncio
import inspect
import logging
import sys
import types
from pathlib import Path

import pytest

HOOK = Path(__file__).parents[2] / "roles" / "nebari_stack" / "files" / "jupyterhub" / "profile_access.py"
# custom.nebari-profile-access as the values template renders it (nebari.platform.jupyterlab_profile_access)
ACCESS = {"gpu": {"users": [], "groups": ["/ml-team"]},
          "vision": {"users": ["Dana"], "groups": ["/projects/vision"]},
          "big": {"users": [], "groups": [], "names": ["Big Instance", "big"]}}
PROFILES = [{"slug": "small", "display_name": "Small Instance", "default": True,
             "kubespawner_override": {"cpu_limit": 2}},
            {"slug": "gpu", "display_name": "GPU Instance", "kubespawner_override": {"extra_resource_limits": {
                "nvidia.com/gpu": "1"}}},
            {"slug": "vision", "display_name": "Vision", "kubespawner_override": {}}]


class HTTPError(Exception):
    def __init__(self, status_code, log_message=None):
        super().__init__(status_code, log_message)
        self.status_code, self.log_message = status_code, log_message


async def maybe_future(value):
    return await value if inspect.isawaitable(value) else value


@pytest.fixture(name="access")
def fixture_access(monkeypatch):
    """nebari_profile_access, from the file exec'd with the hub's modules stood in for."""
    modules = {
        "jupyterhub": types.ModuleType("jupyterhub"),
        "jupyterhub.utils": types.SimpleNamespace(maybe_future=maybe_future),
        "tornado": types.SimpleNamespace(web=types.SimpleNamespace(HTTPError=HTTPError)),
        "z2jh": types.SimpleNamespace(get_config=lambda key, default=None: ACCESS
                                      if key == "custom.nebari-profile-access" else default),
    }
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    scope = {}
    exec(compile(HOOK.read_text(), str(HOOK), "exec"), scope)  # noqa: S102 (as z2jh runs hub.extraConfig)
    return scope["nebari_profile_access"]


def spawner(name, groups, admin=False, auth_state=None):
    async def get_auth_state():
        return auth_state

    user = types.SimpleNamespace(name=name, admin=admin, groups=[types.SimpleNamespace(name=g) for g in groups],
                                 get_auth_state=get_auth_state)
    return types.SimpleNamespace(user=user, log=logging.getLogger("spawner"))


def offered(profile_list, who):
    return [profile["slug"] for profile in asyncio.run(profile_list(who))]


def test_a_member_of_a_group_gets_its_profile_and_others_do_not(access):
    profile_list = access(PROFILES)
    assert offered(profile_list, spawner("alia", ["/analyst", "/ml-team"])) == ["small", "gpu"]
    assert offered(profile_list, spawner("blake", ["/developer"])) == ["small"]
    # a subgroup is matched by its full path only
    assert offered(profile_list, spawner("casey", ["/projects/vision"])) == ["small", "vision"]
    assert offered(profile_list, spawner("erin", ["/projects"])) == ["small"]


def test_a_profile_names_users_by_their_hub_name(access):
    assert offered(access(PROFILES), spawner("dana", [])) == ["small", "vision"]


def test_the_hubs_admins_get_every_profile(access):
    assert offered(access(PROFILES), spawner("root", ["/admin"], admin=True)) == ["small", "gpu", "vision"]


def test_the_profiles_are_kubespawners_own_unchanged(access):
    (small, gpu) = asyncio.run(access(PROFILES)(spawner("alia", ["/ml-team"])))
    assert (small, gpu) == (PROFILES[0], PROFILES[1])


def test_a_profile_list_that_is_itself_callable_is_filtered_too(access):
    async def dynamic(who):
        return PROFILES[1:]

    assert offered(access(dynamic), spawner("alia", ["/ml-team"])) == ["gpu"]
    assert offered(access(lambda who: PROFILES), spawner("blake", [])) == ["small"]


def test_a_user_who_may_use_no_profile_is_refused_rather_than_given_the_chart_defaults(access, caplog):
    """KubeSpawner starts a server from the chart's singleuser defaults when profile_list gives it none: an empty
    list would let her past the restrictions."""
    with pytest.raises(HTTPError) as refused:
        asyncio.run(access(PROFILES[1:])(spawner("blake", ["/developer"])))
    assert refused.value.status_code == 403 and "none of this hub's JupyterLab profiles" in refused.value.log_message
    assert "blake may use none of the profiles ['gpu', 'vision']" in caplog.text


def test_no_profiles_at_all_stay_none(access):
    assert offered(access([]), spawner("blake", [])) == []


def test_a_profile_with_keycloak_attribute_is_offered_to_the_users_whose_attribute_names_it(access):
    """Nebari Classic's access: keycloak: the jupyterlab_profiles claim in the auth state names profiles by name or
    display name (one string, or a list)."""
    big = {"slug": "big", "display_name": "Big Instance", "kubespawner_override": {}}
    profile_list = access([PROFILES[0], big])
    assert offered(profile_list, spawner("fay", [], auth_state={"oauth_user": {
        "jupyterlab_profiles": ["Big Instance"]}})) == ["small", "big"]
    assert offered(profile_list, spawner("gus", [], auth_state={"oauth_user": {"jupyterlab_profiles": "big"}})) == [
        "small", "big"]
    assert offered(profile_list, spawner("hal", [], auth_state={"oauth_user": {}})) == ["small"]
    assert offered(profile_list, spawner("ivy", [], auth_state=None)) == ["small"]
