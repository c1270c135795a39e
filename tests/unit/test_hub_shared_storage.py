"""The hub's spawn hook for the shared volume (roles/nebari_stack/files/jupyterhub/shared_storage.py), run as z2jh
runs it (exec'd in the hub's config) against kubespawner-like pods built from the Kubernetes client's models."""

from __future__ import annotations

import logging
import sys
import types
from pathlib import Path

import pytest
from kubernetes import client

HOOK = Path(__file__).parents[2] / "roles" / "nebari_stack" / "files" / "jupyterhub" / "shared_storage.py"
SETTINGS = {"volume": "home", "conda_store_path": "conda-store", "conda_namespaces": ["global", "nebari-git"]}


def k8s_model(cls, data):
    return client.ApiClient()._ApiClient__deserialize(data, cls.__name__)  # pylint: disable=protected-access


@pytest.fixture(name="hook")
def fixture_hook(monkeypatch):
    """nebari_shared_storage, from the file exec'd with the hub's modules stood in for."""
    modules = {
        "kubernetes_asyncio": types.ModuleType("kubernetes_asyncio"),
        "kubernetes_asyncio.client": types.ModuleType("kubernetes_asyncio.client"),
        "kubernetes_asyncio.client.models": client.models,
        "kubespawner": types.ModuleType("kubespawner"),
        "kubespawner.utils": types.SimpleNamespace(get_k8s_model=k8s_model),
        "z2jh": types.SimpleNamespace(get_config=lambda key, default=None: SETTINGS),
    }
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    scope = {}
    exec(compile(HOOK.read_text(), str(HOOK), "exec"), scope)  # noqa: S102 (as z2jh runs hub.extraConfig)
    return scope["nebari_shared_storage"]


def spawner(name, groups):
    user = types.SimpleNamespace(name=name, groups=[types.SimpleNamespace(name=g) for g in groups])
    return types.SimpleNamespace(user=user, uid=1000, fs_gid=100, log=logging.getLogger("spawner"))


def pod(home_sub_path="home/alia"):
    mounts = [client.V1VolumeMount(name="home", mount_path="/home/alia", sub_path=home_sub_path)]
    container = client.V1Container(name="notebook", image="nebari-jupyterlab:1", volume_mounts=mounts,
                                   env=[client.V1EnvVar(name="JUPYTERHUB_USER", value="alia")])
    return client.V1Pod(spec=client.V1PodSpec(containers=[container]))


def test_group_folders_environments_and_the_init_container_that_makes_them(hook):
    made = hook(spawner("alia", ["/analyst", "/ml-team", "/projects/vision"]), pod())
    mounts = [(m.mount_path, m.sub_path, bool(m.read_only)) for m in made.spec.containers[0].volume_mounts]
    # a subgroup (Keycloak path /projects/vision) gets its folder; conda-store's namespaces have no "/"
    namespaces = ["global", "nebari-git", "alia", "analyst", "ml-team"]
    assert mounts == [("/home/alia", "home/alia", False), ("/shared/analyst", "shared/analyst", False),
                      ("/shared/ml-team", "shared/ml-team", False),
                      ("/shared/projects/vision", "shared/projects/vision", False)] + [
        ("/home/conda/%s" % ns, "conda-store/%s" % ns, True) for ns in namespaces]
    env = {e.name: e.value for e in made.spec.containers[0].env}
    assert env["CONDA_ENVS_PATH"] == ":".join("/home/conda/%s/envs" % ns for ns in namespaces)
    init = made.spec.init_containers[0]
    assert (init.name, init.image, init.security_context.run_as_user) == ("nebari-shared-folders",
                                                                          "nebari-jupyterlab:1", 0)
    assert [(m.name, m.mount_path, m.sub_path) for m in init.volume_mounts] == [("home", "/mnt", None)]
    assert init.command[4:] == ["home/alia", "shared/analyst", "shared/ml-team", "shared/projects/vision"] + [
        "conda-store/%s" % ns for ns in namespaces]
    assert "chown 1000:100" in init.command[2]


def test_a_group_name_unusable_as_a_directory_gets_no_folder(hook, caplog):
    made = hook(spawner("alia", ["/analyst", "/../etc", "/.hidden", "/bad\nname"]), pod())
    paths = [m.mount_path for m in made.spec.containers[0].volume_mounts]
    assert "/shared/analyst" in paths and not [p for p in paths if "etc" in p or "hidden" in p or "bad" in p]
    assert "no folder for groups" in caplog.text


def test_a_user_without_groups_gets_home_and_the_common_environments(hook):
    made = hook(spawner("blake", []), pod("home/blake"))
    assert [m.mount_path for m in made.spec.containers[0].volume_mounts] == [
        "/home/alia", "/home/conda/global", "/home/conda/nebari-git", "/home/conda/blake"]


def test_a_pod_without_the_shared_volume_is_left_as_it_is(hook):
    bare = client.V1Pod(spec=client.V1PodSpec(containers=[client.V1Container(name="notebook", image="x")]))
    assert hook(spawner("alia", ["/analyst"]), bare).spec.init_containers is None
