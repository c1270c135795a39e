"""Filters of the stack layer: jupyterlab_profiles, dask_worker_profiles, node_group_placement and
profile_node_groups."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.nebari.platform.plugins.filter.profiles import (
    dask_worker_profiles,
    jupyterlab_profile_access,
    jupyterlab_profiles,
    node_group_placement,
    profile_node_groups,
)

GROUPS = {
    "user": {"labels": {"nebari.dev/node-group": "user"}},
    "worker": {"labels": {"nebari.dev/node-group": "worker"}},
    "a100": {"gpu": True, "labels": {"gpu": "a100"}, "taints": [{"key": "nvidia.com/gpu", "effect": "NoSchedule"}]},
    "t4": {"gpu": True, "labels": {"gpu": "t4"}},
}


def test_a_gpu_profile_goes_to_the_first_gpu_group_unless_it_names_one():
    profiles = jupyterlab_profiles([{"name": "cpu", "cpu": 2, "memory": "8G", "default": True},
                                    {"name": "big-gpu", "gpus": 2},
                                    {"name": "small-gpu", "gpus": 1, "node_group": "t4", "image": "gpu:1",
                                     "kubespawner_override": {"tolerations": [], "environment": {"A": "1"}}}],
                                   GROUPS)
    assert profiles[0] == {"slug": "cpu", "display_name": "cpu", "default": True, "kubespawner_override": {
        "node_selector": {"nebari.dev/node-group": "user"}, "tolerations": [], "cpu_limit": 2, "cpu_guarantee": 2,
        "mem_limit": "8G", "mem_guarantee": "8G"}}
    assert profiles[1]["kubespawner_override"] == {
        "node_selector": {"gpu": "a100"}, "extra_resource_limits": {"nvidia.com/gpu": "2"},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "", "effect": "NoSchedule"}]}
    assert profiles[2]["kubespawner_override"] == {
        "node_selector": {"gpu": "t4"}, "tolerations": [], "extra_resource_limits": {"nvidia.com/gpu": "1"},
        "image": "gpu:1", "environment": {"A": "1"}}


def test_dask_worker_options_keep_requests_below_limits_and_merge_options_last():
    options = dask_worker_profiles([{"name": "gpu", "cores": 4, "cores_guarantee": 3, "memory": "16G", "threads": 1,
                                     "gpus": 1, "options": {"worker_extra_pod_config": {"priorityClassName": "x"}}}],
                                   GROUPS)
    assert options == {"gpu": {
        "worker_cores_limit": 4, "worker_cores": 3, "worker_memory_limit": "16G", "worker_memory": "16G",
        "worker_threads": 1, "worker_extra_container_config": {"resources": {"limits": {"nvidia.com/gpu": "1"}}},
        "worker_extra_pod_config": {"nodeSelector": {"gpu": "a100"}, "priorityClassName": "x", "tolerations": [
            {"key": "nvidia.com/gpu", "operator": "Equal", "value": "", "effect": "NoSchedule"}]}}}


def test_an_unknown_node_group_is_named():
    with pytest.raises(AnsibleFilterError, match=r"nebari_profiles.dask_worker \(x\): node group 'highmem'"):
        dask_worker_profiles([{"name": "x", "node_group": "highmem"}], GROUPS)


def test_gpu_profiles_run_with_the_runtime_class_and_cpu_profiles_without():
    profiles = jupyterlab_profiles([{"name": "cpu", "cpu": 2}, {"name": "gpu", "gpus": 1}], GROUPS, "user", "nvidia")
    assert "extra_pod_config" not in profiles[0]["kubespawner_override"]
    assert profiles[1]["kubespawner_override"]["extra_pod_config"] == {"runtimeClassName": "nvidia"}
    workers = dask_worker_profiles([{"name": "cpu"}, {"name": "gpu", "gpus": 1}], GROUPS, "worker", "nvidia")
    assert "runtimeClassName" not in workers["cpu"]["worker_extra_pod_config"]
    assert workers["gpu"]["worker_extra_pod_config"]["runtimeClassName"] == "nvidia"
    assert "extra_pod_config" not in jupyterlab_profiles([{"name": "gpu", "gpus": 1}], GROUPS)[0]["kubespawner_override"]


def test_node_group_placement_selects_any_of_the_groups_and_tolerates_their_taints():
    placement = node_group_placement(GROUPS, ["a100", "t4"])
    assert placement["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": "gpu", "operator": "In", "values": ["a100"]}]},
                              {"matchExpressions": [{"key": "gpu", "operator": "In", "values": ["t4"]}]}]}
    assert placement["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "",
                                         "effect": "NoSchedule"}]
    assert node_group_placement(GROUPS, []) == {"affinity": {}, "tolerations": []}
    with pytest.raises(AnsibleFilterError, match="'v100' is not in nebari_node_groups"):
        node_group_placement(GROUPS, ["v100"])


def test_profile_node_groups_are_the_default_then_each_profiles_group_once():
    """Where the cluster check expects JupyterLab servers: the same groups the profiles' selectors name."""
    profiles = [{"name": "small"}, {"name": "gpu", "gpus": 1}, {"name": "big-gpu", "gpus": 2},
                {"name": "t4", "gpus": 1, "node_group": "t4"}, {"name": "pinned", "node_group": "worker"}]
    assert profile_node_groups(profiles, GROUPS, "user") == ["user", "a100", "t4", "worker"]
    assert profile_node_groups([], GROUPS, "user") == ["user"]


def test_users_and_groups_stay_out_of_the_profile_list_and_become_the_hubs_access_rules():
    """z2jh's singleuser.profileList stays as KubeSpawner reads it; the rules go to custom.nebari-profile-access,
    group names as the paths the hub knows Keycloak's groups by."""
    profiles = [{"name": "small", "default": True}, {"name": "gpu", "gpus": 1, "groups": ["ml-team", "/a/b"]},
                {"name": "mine", "users": ["alia"]}, {"name": "open", "users": [], "groups": []}]
    assert [sorted(p) for p in jupyterlab_profiles(profiles, GROUPS)] == [
        ["default", "display_name", "kubespawner_override", "slug"]] + [
        ["display_name", "kubespawner_override", "slug"]] * 3
    assert jupyterlab_profile_access(profiles) == {"gpu": {"users": [], "groups": ["/ml-team", "/a/b"]},
                                                   "mine": {"users": ["alia"], "groups": []}}
    assert jupyterlab_profile_access([]) == {} and jupyterlab_profile_access(None) == {}
    # keycloak_attribute: also the users whose attribute jupyterlab_profiles names it, by name or display name
    assert jupyterlab_profile_access([{"name": "big", "display_name": "Big Instance", "keycloak_attribute": True}]) == {
        "big": {"users": [], "groups": [], "names": ["Big Instance", "big"]}}
