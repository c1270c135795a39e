# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight checks of the services' persistent volumes: StorageClass and sizes (nebari_storage)."""

from __future__ import annotations

import re

from ansible_collections.nebari.platform.plugins.plugin_utils.preflight.problems import DNS_SUBDOMAIN, describe

VARIABLES = ("nebari_storage",)
SIZES = ("conda_store", "user_home", "keycloak_db", "prometheus", "loki")
# A Kubernetes quantity of bytes, as a PVC request takes it: 10Gi, 500Mi, 1.5Ti, 200G.
QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")


def check(inv, problems):
    storage = inv.get("nebari_storage", {})
    if storage is None:
        return
    if not problems.expect_type("nebari_storage", storage, dict, "a mapping such as {class: fast, user_home: 20Gi}"):
        return
    problems.unknown_keys("nebari_storage", storage, ("class", "shared") + SIZES)
    klass = storage.get("class", "")
    if klass not in (None, "") and not (isinstance(klass, str) and DNS_SUBDOMAIN.match(klass)):
        problems.add("nebari_storage", "must be a StorageClass name (empty: the cluster's default), got %s"
                     % describe(klass), ".class")
    for key in SIZES:
        if key in storage and not (isinstance(storage[key], str) and QUANTITY.match(storage[key])):
            problems.add("nebari_storage", "must be a size such as 10Gi, got %s" % describe(storage[key]), "." + key)
    if storage.get("shared") not in (None, {}):
        check_shared(storage["shared"], problems)


def check_shared(shared, problems):
    """nebari_storage.shared: a ReadWriteMany StorageClass the cluster has, and the shared volume's size."""
    if not problems.expect_type("nebari_storage", shared, dict, "a mapping such as {storage_class: efs-sc, size: 1Ti}",
                                ".shared"):
        return
    problems.unknown_keys("nebari_storage", shared, ("storage_class", "size"), ".shared")
    klass = shared.get("storage_class")
    wanted = "a ReadWriteMany StorageClass the cluster has (EFS, Filestore, Azure Files, CephFS, NFS)"
    if "storage_class" not in shared:
        problems.add("nebari_storage", "missing: name %s" % wanted, ".shared.storage_class")
    elif not (isinstance(klass, str) and DNS_SUBDOMAIN.match(klass)):
        problems.add("nebari_storage", "must name %s, got %s" % (wanted, describe(klass)), ".shared.storage_class")
    if "size" in shared and not (isinstance(shared["size"], str) and QUANTITY.match(shared["size"])):
        problems.add("nebari_storage", "must be a size such as 100Gi, got %s" % describe(shared["size"]), ".shared.size")
