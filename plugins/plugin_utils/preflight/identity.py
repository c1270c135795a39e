# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight checks of how the identity layer reaches Keycloak, and JupyterHub for offboarding."""

from __future__ import annotations

from urllib.parse import urlsplit

from ansible_collections.nebari.platform.plugins.plugin_utils.preflight.problems import describe

VARIABLES = ("nebari_keycloak_url", "nebari_keycloak_admin_username", "nebari_keycloak_admin_password",
             "nebari_keycloak_validate_certs", "nebari_keycloak_client_secrets", "nebari_jupyterhub_url",
             "nebari_jupyterhub_validate_certs", "nebari_jupyterhub_allow_all")


def check(inv, problems):
    url = inv.get("nebari_keycloak_url")
    parts = urlsplit(url) if isinstance(url, str) else None
    if not (parts and parts.scheme in ("http", "https") and parts.hostname and parts.path.strip("/")):
        problems.add("nebari_keycloak_url", "must be Keycloak's URL with the path it is served under, such as "
                     "https://nebari.example.com/auth, got %s" % describe(url))
    username = inv.get("nebari_keycloak_admin_username")
    if not (isinstance(username, str) and username):
        problems.add("nebari_keycloak_admin_username", "must be the name of a Keycloak admin of the master realm")
    if not inv.get("nebari_keycloak_admin_password"):
        problems.add("nebari_keycloak_admin_password", 'is required by the identity layer: set it to '
                     '"{{ vault_keycloak_admin_password }}" and define that in an ansible-vault file')
    problems.expect_type("nebari_keycloak_validate_certs", inv.get("nebari_keycloak_validate_certs", True), bool,
                         "true or false")
    problems.expect_type("nebari_keycloak_client_secrets", inv.get("nebari_keycloak_client_secrets", {}), dict,
                         "a mapping of client id to secret")
    hub = inv.get("nebari_jupyterhub_url")
    parts = urlsplit(hub) if isinstance(hub, str) else None
    if hub is not None and not (parts and parts.scheme in ("http", "https") and parts.hostname
                                and not parts.path.rstrip("/").endswith("/hub")):
        problems.add("nebari_jupyterhub_url", "must be JupyterHub's URL without /hub, such as https://nebari.example.com, "
                     "got %s" % describe(hub))
    problems.expect_type("nebari_jupyterhub_validate_certs", inv.get("nebari_jupyterhub_validate_certs", True), bool,
                         "true or false")
    problems.expect_type("nebari_jupyterhub_allow_all", inv.get("nebari_jupyterhub_allow_all", False), bool,
                         "true or false (true: every user of the realm may log in to JupyterHub)")
