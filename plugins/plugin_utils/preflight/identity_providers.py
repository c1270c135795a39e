# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight checks of sign-in through other identity providers (nebari_identity_providers) and of users from LDAP
(nebari_user_federation): the keys each entry may have, what each must be, and no two entries with one name."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ansible_collections.nebari.platform.plugins.plugin_utils.preflight.problems import describe

VARIABLES = ("nebari_identity_providers", "nebari_user_federation")
PROVIDER_TYPES = ("github", "gitlab", "google", "microsoft", "oidc")
OIDC_ENDPOINTS = ("authorization_url", "token_url", "userinfo_url", "jwks_url", "issuer", "logout_url")
PROVIDER_KEYS = ("alias", "type", "display_name", "client_id", "client_secret", "discovery_url", "scopes",
                 "sync_mode", "trust_email", "enabled", "first_broker_login_flow", "config",
                 "update_client_secret", "state") + OIDC_ENDPOINTS
SYNC_MODES = ("IMPORT", "FORCE", "LEGACY")
LDAP_VENDORS = ("other", "ad", "rhds", "tivoli", "edirectory")
EDIT_MODES = ("READ_ONLY", "WRITABLE", "UNSYNCED")
FEDERATION_KEYS = ("name", "connection_url", "users_dn", "bind_dn", "bind_credential", "vendor", "edit_mode",
                   "username_attribute", "rdn_attribute", "uuid_attribute", "user_object_classes", "user_filter",
                   "search_scope", "import_users", "sync_registrations", "start_tls", "trust_email",
                   "full_sync_period", "changed_sync_period", "priority", "enabled", "mappers", "config",
                   "update_bind_credential", "state")
# Keycloak's alias of an identity provider is part of its redirect URI: .../broker/<alias>/endpoint
ALIAS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
BOOLEANS = ("trust_email", "enabled", "update_client_secret", "import_users", "sync_registrations", "start_tls",
            "update_bind_credential")


def _entries(problems, name, value, key, example):
    """The entries of a list variable with their labels ([i] (name)); problems for what is no entry."""
    if value is None or not problems.expect_type(name, value, list, "a list of entries such as %s" % example):
        return []
    seen, result = set(), []
    for i, entry in enumerate(value):
        label = entry.get(key) if isinstance(entry, dict) else None
        where = "[%d]%s" % (i, " (%s)" % label if isinstance(label, str) and label else "")
        if not isinstance(entry, dict):
            problems.add(name, "must be a mapping such as %s, got %s" % (example, describe(entry)), where)
            continue
        if not (isinstance(label, str) and label):
            problems.add(name, "needs %s" % key, where)
        elif label in seen:
            problems.add(name, "%s %r is given twice" % (key, label), where)
        seen.add(label)
        if entry.get("state", "present") not in ("present", "absent"):
            problems.add(name, "state must be present or absent, got %s" % describe(entry.get("state")), where)
        for flag in BOOLEANS:
            if flag in entry and not isinstance(entry[flag], bool):
                problems.add(name, "%s must be true or false, got %s" % (flag, describe(entry[flag])), where)
        if "config" in entry and not isinstance(entry["config"], dict):
            problems.add(name, "config must be a mapping of Keycloak's config keys, got %s"
                         % describe(entry["config"]), where)
        result.append((where, entry))
    return result


def _url(value, schemes):
    parts = urlsplit(value) if isinstance(value, str) else None
    return bool(parts and parts.scheme in schemes and parts.hostname)


def check_providers(inv, problems):
    name = "nebari_identity_providers"
    for where, entry in _entries(problems, name, inv.get(name, []), "alias",
                                 "{alias: github, type: github, client_id: ..., client_secret: ...}"):
        problems.unknown_keys(name, entry, PROVIDER_KEYS, where)
        alias = entry.get("alias")
        if isinstance(alias, str) and alias and not ALIAS.match(alias):
            problems.add(name, "alias must be letters, digits, ., _ and - (it is part of the redirect URI), got %r"
                         % alias, where)
        kind = entry.get("type", "oidc")
        if kind not in PROVIDER_TYPES:
            problems.add(name, "type must be one of %s, got %s" % (", ".join(PROVIDER_TYPES), describe(kind)), where)
        if entry.get("state", "present") == "absent":
            continue
        for key in ("client_id", "client_secret"):
            if not (isinstance(entry.get(key), str) and entry[key]):
                problems.add(name, "needs %s%s" % (key, ' (a vault reference: "{{ vault_%s_client_secret }}")'
                                                   % str(alias).replace("-", "_") if key == "client_secret" else ""),
                             where)
        if entry.get("sync_mode", "IMPORT") not in SYNC_MODES:
            problems.add(name, "sync_mode must be one of %s, got %s"
                         % (", ".join(SYNC_MODES), describe(entry.get("sync_mode"))), where)
        scopes = entry.get("scopes")
        if scopes is not None and not (isinstance(scopes, str) or (isinstance(scopes, list) and all(
                isinstance(s, str) for s in scopes))):
            problems.add(name, "scopes must be a list of scopes or one string of them, got %s" % describe(scopes),
                         where)
        endpoints = [key for key in OIDC_ENDPOINTS if key in entry]
        for key in endpoints + (["discovery_url"] if "discovery_url" in entry else []):
            if key != "issuer" and not _url(entry[key], ("https", "http")):
                problems.add(name, "%s must be an http(s) URL, got %s" % (key, describe(entry[key])), where)
        if kind != "oidc":
            if endpoints or "discovery_url" in entry:
                problems.add(name, "%s is Keycloak's own %s provider: it takes no endpoints (%s are for type oidc)"
                             % (", ".join(endpoints + (["discovery_url"] if "discovery_url" in entry else [])), kind,
                                "discovery_url, authorization_url, token_url"), where)
        elif "discovery_url" in entry and endpoints:
            problems.add(name, "give discovery_url or the endpoints (%s), not both" % ", ".join(endpoints), where)
        elif "discovery_url" not in entry and not ("authorization_url" in entry and "token_url" in entry):
            problems.add(name, "an oidc provider needs discovery_url (its .well-known/openid-configuration) or "
                               "authorization_url and token_url", where)


def check_federation(inv, problems):
    name = "nebari_user_federation"
    for where, entry in _entries(problems, name, inv.get(name, []), "name",
                                 "{name: corp, connection_url: ldaps://ldap.example.com, users_dn: ou=people,...}"):
        problems.unknown_keys(name, entry, FEDERATION_KEYS, where)
        if entry.get("state", "present") == "absent":
            continue
        urls = entry.get("connection_url")
        if not (isinstance(urls, str) and urls and all(_url(u.strip(), ("ldap", "ldaps")) for u in urls.split())):
            problems.add(name, "connection_url must be ldap:// or ldaps:// URLs (separated by spaces), got %s"
                         % describe(urls), where)
        if not (isinstance(entry.get("users_dn"), str) and "=" in entry["users_dn"]):
            problems.add(name, "users_dn must be the DN users are under, such as ou=people,dc=example,dc=com, got %s"
                         % describe(entry.get("users_dn")), where)
        if bool(entry.get("bind_dn")) != bool(entry.get("bind_credential")):
            problems.add(name, "bind_dn and bind_credential go together (neither: Keycloak binds anonymously)", where)
        for key, allowed in (("vendor", LDAP_VENDORS), ("edit_mode", EDIT_MODES), ("search_scope", ("one", "subtree"))):
            if key in entry and entry[key] not in allowed:
                problems.add(name, "%s must be one of %s, got %s" % (key, ", ".join(allowed), describe(entry[key])),
                             where)
        for key in ("full_sync_period", "changed_sync_period", "priority"):
            value = entry.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                problems.add(name, "%s must be a whole number%s, got %s"
                             % (key, " of seconds (-1: never)" if "period" in key else "", describe(value)), where)
        classes = entry.get("user_object_classes")
        if classes is not None and not (isinstance(classes, list) and classes and all(
                isinstance(c, str) and c for c in classes)):
            problems.add(name, "user_object_classes must be a list of object classes, got %s" % describe(classes),
                         where)
        if "mappers" in entry and not (isinstance(entry["mappers"], list) and all(
                isinstance(m, dict) and m.get("name") for m in entry["mappers"])):
            problems.add(name, "mappers must be a list of Keycloak LDAP mappers, each with a name", where)


def check(inv, problems):
    check_providers(inv, problems)
    check_federation(inv, problems)
