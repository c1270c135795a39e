# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Chart references of the stack layer, shared by the component_releases filter and preflight.

An airgapped site keeps every chart as the tarball `helm pull` writes, <airgap dir>/charts/<name>-<version>.tgz; a
repository or OCI reference then resolves to that file, and a local path stays as it is.
"""

from __future__ import annotations

import os
import tarfile

import yaml


def chart_name(chart):
    """The chart's name: `name` for a repository chart, the last segment of an OCI reference."""
    if chart.get("oci"):
        return str(chart["oci"]).rstrip("/").rsplit("/", 1)[-1]
    return chart.get("name")


def airgap_path(chart, airgap_dir):
    """The local tarball an airgapped site uses for this chart, or None for a chart that is already a path."""
    if chart.get("path") or not (chart.get("repo") or chart.get("oci")):
        return None
    return os.path.join(airgap_dir, "charts", "%s-%s.tgz" % (chart_name(chart), chart.get("version")))


def flag(value):
    """A boolean, also from the text a templated catalog entry may leave ("True", "false")."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "on", "1")
    return bool(value)


def merged_charts(catalog, overrides, extra):
    """(component, chart, enabled) of every release, catalog entries with their override, then extra releases."""
    result = []
    for name, base in (catalog or {}).items():
        entry = dict(base or {})
        override = (overrides or {}).get(name)
        entry.update(override if isinstance(override, dict) else {})
        result.append((name, entry.get("chart") or {}, entry.get("enabled", True)))
    for release in extra or []:
        if isinstance(release, dict):
            result.append((release.get("name"), release.get("chart") or {}, release.get("enabled", True)))
    return result


def local_chart_metadata(path):
    """Chart.yaml of a local chart, a directory or a packaged tarball (<name>/Chart.yaml inside), as a dict."""
    path = os.path.expanduser(str(path))
    if os.path.isdir(path):
        with open(os.path.join(path, "Chart.yaml"), "rb") as f:
            return yaml.load(f, Loader=yaml.BaseLoader) or {}  # nosec: every scalar as text
    with tarfile.open(path, "r:*") as tar:
        for member in tar:  # helm package writes Chart.yaml first: the rest is not decompressed
            parts = member.name.strip("/").split("/")
            if member.isfile() and len(parts) == 2 and parts[1] == "Chart.yaml":
                return yaml.load(tar.extractfile(member).read(), Loader=yaml.BaseLoader) or {}  # nosec
    raise ValueError("no <chart>/Chart.yaml in %s" % path)
