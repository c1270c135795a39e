# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight checks of what the controller itself needs: the helm binary the stack layer runs."""

from __future__ import annotations

import os
import shutil

from ansible_collections.nebari.platform.plugins.plugin_utils.preflight.problems import describe

VARIABLES = ("nebari_helm_binary",)


def check(inv, problems):
    helm = inv.get("nebari_helm_binary", "helm")
    if not isinstance(helm, str) or not helm:
        problems.add("nebari_helm_binary", "must be the path or name of the helm binary, got %s" % describe(helm))
    elif not shutil.which(os.path.expanduser(helm)):
        problems.add("nebari_helm_binary", "helm not found on the controller: %r (install Helm 3 or set the path)" % helm)
