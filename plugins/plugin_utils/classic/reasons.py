# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Why a key of nebari-config.yaml has no counterpart in the inventory: the importer reports each key with its
reason (docs/classic.md holds the same table for people)."""

from __future__ import annotations

CLUSTER = "the cluster exists already: the collection connects to it and never changes its size, version or network"
# Keys with no counterpart, and why (a key listed here is reported, never silently dropped)
REASONS = {
    "prevent_deploy": "Classic's guard against deploys; preview a run with --check --diff instead",
    "ci_cd": "Classic's generated CI pipelines; the collection's GitOps runner replaces them (docs/gitops.md)",
    "terraform_state": "the collection keeps no Terraform state",
    "tf_extensions": "Terraform extensions have no counterpart; install them as nebari_extra_releases",
    "theme": "Nebari's JupyterHub theme templates are not part of the collection's JupyterHub; set the hub's "
             "templates in nebari_components.jupyterhub.values",
    "dns": "the collection manages no DNS records: point nebari_domain at the ingress address",
    "ingress": "Traefik's Terraform overrides: set them as nebari_components.traefik.values",
    "jupyterlab.default_settings": "JupyterLab settings are not rendered by the collection; set them in "
                                   "nebari_components.jupyterhub.values",
    "jupyterlab.gallery_settings": "no JupyterLab gallery here: set it in nebari_components.jupyterhub.values",
    "jupyterlab.initial_repositories": "no initial repositories cloned here: an init container in "
                                       "nebari_components.jupyterhub.values",
    "jupyterlab.preferred_dir": "set the preferred directory in nebari_components.jupyterhub.values",
    "jhub_apps": "jhub-apps is not part of the collection's stack",
    "telemetry": "jupyterlab-pioneer telemetry is not part of the collection's stack",
    "external_container_reg": "registry credentials: create an image pull secret in the cluster (any secret in "
                              "it is kept in the vault file)",
    "conda_store.image": "the collection's conda-store chart pins its own conda-store release",
    "conda_store.image_tag": "the collection's conda-store chart pins its own conda-store release",
    "conda_store.extra_settings": "set conda-store settings in nebari_components.conda-store.values",
    "conda_store.extra_config": "set conda-store settings in nebari_components.conda-store.values",
    "conda_store.worker": "set the worker's resources in nebari_components.conda-store.values",
    "conda_store.object_storage": "conda-store keeps its artifacts on its volume (nebari_storage.conda_store)",
    "storage.type": "the services' volumes use a StorageClass (nebari_storage.class), not a shared filesystem",
    "storage.shared_filesystem": "Classic's in-cluster NFS is not made; set nebari_storage.shared to a ReadWriteMany "
                                 "StorageClass",
    "ceph": "the services' volumes use a StorageClass: name it in nebari_storage.class",
    "monitoring.minio_enabled": "Loki stores its logs on its volume (nebari_storage.loki), not in MinIO",
    "monitoring.overrides.minio": "Loki stores its logs on its volume (nebari_storage.loki), not in MinIO",
    "monitoring.healthchecks": "Nebari's healthchecks are not part of the collection's stack",
    "argo_workflows.nebari_workflow_controller": "Nebari's workflow controller is not part of the collection",
    "security.keycloak.themes": "Keycloak themes: set them in nebari_components.keycloak.values",
}
