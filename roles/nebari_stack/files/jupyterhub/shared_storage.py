# nebari.platform: the shared volume in each JupyterLab server (nebari_storage.shared), as Nebari Classic mounts it.
# z2jh mounts the user's home from the shared claim (singleuser.storage static, subPath home/<user>); this hook adds,
# from the groups the user's Keycloak token gave the hub at login:
#   /shared/<group>       read-write, subPath shared/<group>, for each of the user's groups
#   /home/conda/<ns>      read-only, subPath conda-store/<ns>: conda-store's environments of every namespace the user
#                         may read (the default and the filesystem namespaces, the user's own, the user's groups'),
#                         listed in CONDA_ENVS_PATH so that conda (and nb_conda_kernels' kernels) find them
# and an init container, run as root from the server's own image, that creates the missing directories and gives
# them to the server's user, so a new user or group gets its folder at the first spawn.
# Settings: custom.nebari-shared-storage; the values template sets c.KubeSpawner.modify_pod_hook to
# nebari_shared_storage after this (roles/nebari_stack/templates/values/jupyterhub.yml.j2).
import re

from kubernetes_asyncio.client.models import V1Container, V1EnvVar, V1VolumeMount
from kubespawner.utils import get_k8s_model
from z2jh import get_config

NEBARI_SHARED = get_config("custom.nebari-shared-storage", {})
# a group or namespace name usable as a directory: no "..", no leading dot, no control characters
NEBARI_SHARED_NAME = re.compile(r"^[A-Za-z0-9_@][A-Za-z0-9_@. +-]*$")


def nebari_shared_names(spawner):
    """The user's group names as directories (Keycloak's full paths, /a/b, become a/b), the unusable ones left out."""
    names, skipped = [], []
    for group in spawner.user.groups:
        parts = group.name.strip("/").split("/")
        if all(NEBARI_SHARED_NAME.match(part) for part in parts):
            names.append("/".join(parts))
        else:
            skipped.append(group.name)
    if skipped:
        spawner.log.warning("nebari shared storage: no folder for groups %s (names unusable as directories)", skipped)
    return sorted(set(names))


def nebari_shared_storage(spawner, pod):
    """modify_pod_hook: the group folders, conda-store's environments and the init container that creates them."""
    volume = NEBARI_SHARED.get("volume", "home")
    container = pod.spec.containers[0]
    mounts = list(container.volume_mounts or [])
    home = next((m for m in mounts if m.name == volume), None)
    if home is None:
        spawner.log.warning("nebari shared storage: no volume %s in the pod, nothing mounted", volume)
        return pod
    groups = nebari_shared_names(spawner)
    namespaces = [n for n in NEBARI_SHARED.get("conda_namespaces", []) + [spawner.user.name] + groups
                  if NEBARI_SHARED_NAME.match(n)]
    namespaces = list(dict.fromkeys(namespaces))
    conda = NEBARI_SHARED.get("conda_store_path")
    directories = [home.sub_path] + ["shared/%s" % group for group in groups]
    for group in groups:
        mounts.append(get_k8s_model(V1VolumeMount, {
            "name": volume, "mountPath": "/shared/%s" % group, "subPath": "shared/%s" % group}))
    if conda:
        directories += ["%s/%s" % (conda, namespace) for namespace in namespaces]
        for namespace in namespaces:
            mounts.append(get_k8s_model(V1VolumeMount, {
                "name": volume, "mountPath": "/home/conda/%s" % namespace, "subPath": "%s/%s" % (conda, namespace),
                "readOnly": True}))
        env = list(container.env or [])
        env.append(get_k8s_model(V1EnvVar, {
            "name": "CONDA_ENVS_PATH", "value": ":".join("/home/conda/%s/envs" % n for n in namespaces)}))
        container.env = env
    container.volume_mounts = mounts
    uid = spawner.uid if spawner.uid is not None else 1000
    gid = spawner.fs_gid if spawner.fs_gid is not None else 100
    # only what is missing is created (and given to the server's user): an existing folder keeps its owner and mode
    script = ('for d in "$@"; do [ -d "/mnt/$d" ] || { mkdir -p "/mnt/$d" && chown %d:%d "/mnt/$d" '
              '&& chmod 2775 "/mnt/$d"; } || exit 1; done' % (uid, gid))
    init = get_k8s_model(V1Container, {
        "name": "nebari-shared-folders",
        "image": container.image,
        "imagePullPolicy": container.image_pull_policy,
        "command": ["sh", "-c", script, "sh"] + directories,
        "securityContext": {"runAsUser": 0, "runAsGroup": 0, "runAsNonRoot": False},
        "volumeMounts": [{"name": volume, "mountPath": "/mnt"}],
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "64Mi"}},
    })
    pod.spec.init_containers = [init] + list(pod.spec.init_containers or [])
    return pod
