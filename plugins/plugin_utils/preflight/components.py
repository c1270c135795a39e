# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight checks of nebari_components (per-component overrides of the stack's release catalog),
nebari_extra_releases (users' own releases, installed the same way) and nebari_remove_disabled."""

from __future__ import annotations

import ipaddress
import os
import re

from ansible_collections.nebari.platform.plugins.plugin_utils.charts import airgap_path, flag, merged_charts

from ansible_collections.nebari.platform.plugins.plugin_utils.preflight.problems import (
    DNS_LABEL,
    describe,
)

COMPONENT_KEYS = ("enabled", "chart", "namespace", "release", "values", "wait", "timeout", "registry_values")
CHART_SOURCES = ("repo", "oci", "path")
CHART_KEYS = CHART_SOURCES + ("name", "version")
DURATION = re.compile(r"^(?=\d)(\d+h)?(\d+m)?(\d+s)?$")
# A pinned chart version: semver 2 (as Helm reads it, with an optional leading v), never a range.
SEMVER = re.compile(r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")

EXTRA_KEYS = ("name",) + COMPONENT_KEYS

VARIABLES = ("nebari_components", "nebari_component_catalog", "nebari_extra_releases", "nebari_remove_disabled",
             "nebari_airgap", "nebari_airgap_dir", "nebari_image_registry", "nebari_metallb_addresses")
# host[:port][/path] of a registry mirror, no scheme
REGISTRY = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?(:\d+)?(/[-a-z0-9._/]+)?$")


def check(inv, problems):
    components = inv.get("nebari_components", {})
    catalog = inv.get("nebari_component_catalog", {}) or {}
    if not problems.expect_type("nebari_components", components, dict, "a mapping of component name to settings"):
        return
    for name, component in components.items():
        entry = ".%s" % name
        if catalog and name not in catalog:
            problems.add("nebari_components", "unknown component %r (known: %s)" % (name, ", ".join(sorted(catalog))),
                         entry)
            continue
        if component is None:
            continue
        if not problems.expect_type("nebari_components", component, dict, "a mapping of settings", entry):
            continue
        problems.unknown_keys("nebari_components", component, COMPONENT_KEYS, entry)
        _component(component, entry, problems, airgap=inv.get("nebari_airgap") is True)
    _extra_releases(inv.get("nebari_extra_releases", []), catalog, problems, inv.get("nebari_airgap") is True)
    problems.expect_type("nebari_remove_disabled", inv.get("nebari_remove_disabled", False), bool, "true or false")
    _airgap(inv, catalog, components, problems)
    _metallb(inv, catalog, components, problems)


def _metallb(inv, catalog, components, problems):
    """Where MetalLB is enabled, its pool: ranges or CIDRs, at least one."""
    var = "nebari_metallb_addresses"
    addresses = inv.get(var, [])
    if not problems.expect_type(var, addresses, list, "a list of address ranges or CIDRs"):
        return
    for i, value in enumerate(addresses):
        if not _address_block(value):
            problems.add(var, "must be a range such as 192.168.10.240-192.168.10.250 or a CIDR such as "
                         "192.168.10.240/28, got %s" % describe(value), "[%d]" % i)
    enabled = any(name == "metallb" and flag(on) for name, dummy, on in merged_charts(catalog, components, []))
    if enabled and not addresses:
        problems.add(var, "MetalLB is enabled (bare metal): give the address pool it hands to LoadBalancer Services, "
                     "e.g. [\"192.168.10.240-192.168.10.250\"]")


def _address_block(value):
    if not isinstance(value, str):
        return False
    try:
        if "-" in value:
            first, last = (ipaddress.ip_address(part.strip()) for part in value.split("-", 1))
            return first.version == last.version and first <= last
        ipaddress.ip_network(value.strip(), strict=False)
        return True
    except ValueError:
        return False


def _airgap(inv, catalog, components, problems):
    """With nebari_airgap, every enabled release's chart must be on the controller; the mirror well formed."""
    registry = inv.get("nebari_image_registry", "")
    if registry and not (isinstance(registry, str) and REGISTRY.match(registry)):
        problems.add("nebari_image_registry", "must be a registry as host[:port][/path] (no scheme), got %s"
                     % describe(registry))
    airgap = inv.get("nebari_airgap", False)
    if not problems.expect_type("nebari_airgap", airgap, bool, "true or false") or not airgap:
        return
    directory = inv.get("nebari_airgap_dir", "")
    if not (isinstance(directory, str) and directory and os.path.isdir(os.path.expanduser(directory))):
        problems.add("nebari_airgap_dir", "nebari_airgap is true: must be a directory on the controller holding "
                     "charts/<name>-<version>.tgz, got %s" % describe(directory))
        return
    extra = inv.get("nebari_extra_releases", [])
    for name, chart, enabled in merged_charts(catalog, components, extra if isinstance(extra, list) else []):
        if not (flag(enabled) and isinstance(chart, dict)):
            continue
        path = airgap_path(chart, os.path.expanduser(directory)) if not chart.get("path") else chart["path"]
        if isinstance(path, str) and not os.path.exists(os.path.expanduser(path)):
            problems.add("nebari_airgap_dir", "chart of %s is missing: %s (helm pull it where the registries are "
                         "reachable and copy it here)" % (name, path))


def _extra_releases(releases, catalog, problems, airgap):
    var = "nebari_extra_releases"
    if not problems.expect_type(var, releases, list, "a list of {name, chart, namespace, values, ...}"):
        return
    seen = {}
    for i, release in enumerate(releases):
        entry = "[%d]" % i
        if not problems.expect_type(var, release, dict, "a mapping with name and chart", entry):
            continue
        name = release.get("name")
        if not (isinstance(name, str) and DNS_LABEL.match(name)):
            problems.add(var, "name must be a DNS label (lower-case letters, digits, '-'), got %s" % describe(name),
                         entry)
        else:
            entry = "[%d] (%s)" % (i, name)
            if name in catalog:
                problems.add(var, "%r is a component of the catalog: configure it in nebari_components" % name, entry)
            elif name in seen:
                problems.add(var, "duplicate of nebari_extra_releases%s" % seen[name], entry)
            seen.setdefault(name, "[%d]" % i)
        problems.unknown_keys(var, release, EXTRA_KEYS, entry)
        if "chart" not in release:
            problems.add(var, "chart is required: {repo, name, version}, {oci, version} or {path}", entry)
        _component(release, entry, problems, var, airgap)


def _component(component, entry, problems, var="nebari_components", airgap=False):
    for key in ("enabled", "wait"):
        if key in component:
            problems.expect_type(var, component[key], bool, "true or false", "%s.%s" % (entry, key))
    for key in ("namespace", "release"):
        value = component.get(key)
        if value is not None and not (isinstance(value, str) and DNS_LABEL.match(value)):
            problems.add(var, "%s must be a DNS label (lower-case letters, digits, '-'), got %s" % (key, describe(value)),
                         "%s.%s" % (entry, key))
    if "values" in component:
        problems.expect_type(var, component["values"], dict, "a mapping merged over the rendered chart values",
                             entry + ".values")
    if "registry_values" in component:
        problems.expect_type(var, component["registry_values"], dict, "a mapping of the chart's image settings",
                             entry + ".registry_values")
    if "timeout" in component:
        timeout = component["timeout"]
        if not ((isinstance(timeout, int) and not isinstance(timeout, bool) and timeout > 0)
                or (isinstance(timeout, str) and DURATION.match(timeout))):
            problems.add(var, "timeout must be seconds or a duration such as 10m or 1m30s, got %s" % describe(timeout),
                         entry + ".timeout")
    if "chart" in component:
        _chart(component["chart"], entry + ".chart", problems, var, airgap)


def _chart(chart, entry, problems, var, airgap):
    """A chart reference; a local path must exist on the controller (with nebari_airgap, _airgap reports it)."""
    if not problems.expect_type(var, chart, dict, "a mapping with one of repo (+ name), oci or path, and version", entry):
        return
    problems.unknown_keys(var, chart, CHART_KEYS, entry)
    sources = [key for key in CHART_SOURCES if chart.get(key)]
    if len(sources) != 1:
        problems.add(var, "give exactly one chart source of %s, got %s" % (", ".join(CHART_SOURCES),
                                                                           ", ".join(sources) or "none"), entry)
        return
    if sources == ["repo"] and not chart.get("name"):
        problems.add(var, "a repo chart needs name, the chart's name in the repository", entry)
    path = chart.get("path")
    if sources == ["path"] and not airgap and not (isinstance(path, str) and os.path.exists(os.path.expanduser(path))):
        problems.add(var, "%s is not a chart directory or archive on the controller" % describe(path),
                     entry + ".path")
    if sources == ["oci"] and not str(chart["oci"]).startswith("oci://"):
        problems.add(var, "oci must start with oci://, got %s" % describe(chart["oci"]), entry)
    version = chart.get("version")
    if sources != ["path"] and not (isinstance(version, str) and version):
        problems.add(var, "a %s chart needs a pinned version (a string such as \"4.4.0\")" % sources[0], entry)
    elif version is not None and not (isinstance(version, str) and SEMVER.match(version)):
        problems.add(var, "version must be an exact semantic version such as \"4.4.0\" (no range), got %s"
                     % describe(version), entry + ".version")
