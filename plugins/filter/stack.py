# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the stack layer: turn the release catalog and the inventory overrides into release entries."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.nebari.platform.plugins.plugin_utils.charts import airgap_path, flag

ENTRY_DEFAULTS = {"enabled": True, "wait": True, "timeout": "5m", "values": {}, "values_template": None,
                  "registry_values": {}, "oidc_client": None, "url_path": None}


def _duration(timeout):
    return "%ds" % timeout if isinstance(timeout, int) else timeout


def component_releases(catalog, overrides=None, namespace="default", extra=None, airgap_dir=None):
    """Merge each catalog entry with its override and resolve the chart reference into kubernetes.core.helm terms.

    Top-level keys of an override replace the catalog's (chart as a whole: switching from a repository to a local
    path must not keep the repository); `values` are kept apart and merged last by the caller, over the rendered
    values template. extra: the inventory's own releases ({name, chart, ...}, no values template), installed
    after the catalog's. airgap_dir: every repository and OCI chart resolves to its tarball under
    <airgap_dir>/charts/. Returns a list in catalog order, then the extra releases in theirs.
    """
    overrides = overrides or {}
    if not isinstance(catalog, dict) or not isinstance(overrides, dict) or not isinstance(extra or [], list):
        raise AnsibleFilterError("component_releases expects the catalog and the overrides as mappings, and the "
                                 "extra releases as a list")
    unknown = sorted(set(overrides) - set(catalog))
    if unknown:
        raise AnsibleFilterError("nebari_components names unknown components: %s" % ", ".join(unknown))
    entries = [(name, [base or {}, overrides.get(name) or {}]) for name, base in catalog.items()]
    entries += [(release["name"], [dict((k, v) for k, v in release.items() if k != "name")]) for release in extra or []]
    releases = []
    for name, layers in entries:
        entry = dict(ENTRY_DEFAULTS)
        for layer in layers:
            entry.update(layer)
        chart = entry.get("chart") or {}
        release = {
            "component": name,
            "release": entry.get("release") or name,
            "namespace": entry.get("namespace") or namespace,
            "enabled": flag(entry["enabled"]),
            "wait": bool(entry["wait"]),
            "timeout": _duration(entry["timeout"]),
            "values_template": entry["values_template"],
            "value_overrides": entry["values"] or {},
            "registry_values": entry["registry_values"] or {},
            "oidc_client": entry["oidc_client"],
            "url_path": entry["url_path"],
        }
        local = airgap_path(chart, airgap_dir) if airgap_dir else None
        release.update(chart_reference({"path": local} if local else chart, name))
        if local:
            release["chart_source"] = "%s (airgap copy of %s)" % (release["chart_source"],
                                                                  chart_reference(chart, name)["chart_source"])
        releases.append(release)
    return releases


def chart_reference(chart, component="chart"):
    """{repo, name, version} | {oci, version} | {path} -> chart_ref, chart_repo_url, chart_version, chart_source."""
    if chart.get("path"):
        return {"chart_ref": chart["path"], "chart_repo_url": None, "chart_version": None,
                "chart_source": "path %s" % chart["path"]}
    if chart.get("oci"):
        return {"chart_ref": chart["oci"], "chart_repo_url": None, "chart_version": chart.get("version"),
                "chart_source": "%s %s" % (chart["oci"], chart.get("version"))}
    if chart.get("repo"):
        return {"chart_ref": chart.get("name"), "chart_repo_url": chart["repo"], "chart_version": chart.get("version"),
                "chart_source": "%s %s from %s" % (chart.get("name"), chart.get("version"), chart["repo"])}
    raise AnsibleFilterError("component %s: chart needs one of repo (+ name), oci or path" % component)


class FilterModule:
    def filters(self):
        return {"component_releases": component_releases}
