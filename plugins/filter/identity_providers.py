# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the identity layer: an entry of nebari_identity_providers or nebari_user_federation as the arguments
of community.general's keycloak_identity_provider and keycloak_user_federation modules."""

from __future__ import annotations

# Keycloak's social providers the inventory may name by type, and its generic OpenID Connect one
SOCIAL_TYPES = ("github", "gitlab", "google", "microsoft")
PROVIDER_TYPES = SOCIAL_TYPES + ("oidc",)
# the endpoints of an oidc provider: inventory key -> Keycloak's config key
OIDC_ENDPOINTS = {"authorization_url": "authorizationUrl", "token_url": "tokenUrl", "userinfo_url": "userInfoUrl",
                  "jwks_url": "jwksUrl", "issuer": "issuer", "logout_url": "logoutUrl"}
SYNC_MODES = ("IMPORT", "FORCE", "LEGACY")

LDAP_VENDORS = ("other", "ad", "rhds", "tivoli", "edirectory")
EDIT_MODES = ("READ_ONLY", "WRITABLE", "UNSYNCED")
# what Keycloak's admin console proposes for each vendor: username and RDN attribute, UUID attribute, classes
LDAP_VENDOR_DEFAULTS = {
    "ad": ("sAMAccountName", "cn", "objectGUID", "person, organizationalPerson, user"),
    "other": ("uid", "uid", "entryUUID", "inetOrgPerson, organizationalPerson"),
    "rhds": ("uid", "uid", "nsuniqueid", "inetOrgPerson, organizationalPerson"),
    "tivoli": ("uid", "uid", "uniqueidentifier", "inetOrgPerson, organizationalPerson"),
    "edirectory": ("uid", "uid", "guid", "inetOrgPerson, organizationalPerson"),
}


def _string(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


# what Keycloak answers in place of a secret, and takes back as "keep the one you hold"
MASKED = "**********"


def keycloak_identity_provider(entry, existing=()):
    """The arguments of community.general.keycloak_identity_provider for one entry of nebari_identity_providers.

    existing: the aliases of the providers the realm has. Keycloak never gives a provider's client secret back (26.x
    no longer in the realm either), so the module could only ever see it differ: an existing provider is sent the
    masked value, which Keycloak reads as "keep yours", unless the entry asks for update_client_secret.
    """
    if entry.get("state") == "absent":
        return {"alias": entry["alias"], "state": "absent"}
    kind = entry.get("type", "oidc")
    secret = entry["client_secret"]
    if entry["alias"] in (existing or ()) and not entry.get("update_client_secret"):
        secret = MASKED
    config = {"clientId": entry["client_id"], "clientSecret": secret,
              "syncMode": entry.get("sync_mode", "IMPORT")}
    if kind == "oidc":
        config.update({"clientAuthMethod": "client_secret_post", "validateSignature": True,
                       "useJwksUrl": True, "pkceEnabled": False})
        if entry.get("discovery_url"):
            config["fromUrl"] = entry["discovery_url"]
        for key, name in OIDC_ENDPOINTS.items():
            if entry.get(key):
                config[name] = entry[key]
    scopes = entry.get("scopes", "openid email profile" if kind == "oidc" else None)
    if scopes:
        config["defaultScope"] = " ".join(scopes) if isinstance(scopes, list) else scopes
    config.update(entry.get("config") or {})
    # Keycloak keeps an identity provider's config as strings: compared as such, a second run changes nothing
    config = dict((key, _string(value)) for key, value in config.items())
    return {
        "alias": entry["alias"],
        "provider_id": kind,
        "display_name": entry.get("display_name", entry["alias"]),
        "enabled": bool(entry.get("enabled", True)),
        "trust_email": bool(entry.get("trust_email", False)),
        "store_token": False,
        "first_broker_login_flow_alias": entry.get("first_broker_login_flow", "first broker login"),
        "config": config,
        "state": entry.get("state", "present"),
    }


def keycloak_user_federation(entry):
    """The arguments of community.general.keycloak_user_federation for one entry of nebari_user_federation (LDAP)."""
    if entry.get("state") == "absent":
        return {"name": entry["name"], "state": "absent"}
    vendor = entry.get("vendor", "other")
    username, rdn, uuid, classes = LDAP_VENDOR_DEFAULTS[vendor]
    object_classes = entry.get("user_object_classes", classes)
    config = {
        "vendor": vendor,
        "connectionUrl": entry["connection_url"],
        "usersDn": entry["users_dn"],
        "authType": "simple" if entry.get("bind_dn") else "none",
        "editMode": entry.get("edit_mode", "READ_ONLY"),
        "usernameLDAPAttribute": entry.get("username_attribute", username),
        "rdnLDAPAttribute": entry.get("rdn_attribute", rdn),
        "uuidLDAPAttribute": entry.get("uuid_attribute", uuid),
        "userObjectClasses": ", ".join(object_classes) if isinstance(object_classes, list) else object_classes,
        "searchScope": "2" if entry.get("search_scope", "subtree") == "subtree" else "1",
        "importEnabled": bool(entry.get("import_users", True)),
        "syncRegistrations": bool(entry.get("sync_registrations", False)),
        "startTls": bool(entry.get("start_tls", False)),
        "trustEmail": bool(entry.get("trust_email", False)),
        "fullSyncPeriod": int(entry.get("full_sync_period", -1) or -1),
        "changedSyncPeriod": int(entry.get("changed_sync_period", -1) or -1),
        "enabled": bool(entry.get("enabled", True)),
        "priority": int(entry.get("priority", 0)),
    }
    if entry.get("bind_dn"):
        config["bindDn"] = entry["bind_dn"]
        config["bindCredential"] = entry["bind_credential"]
    if entry.get("user_filter"):
        config["customUserSearchFilter"] = entry["user_filter"]
    config.update(entry.get("config") or {})
    args = {
        "name": entry["name"],
        "provider_id": "ldap",
        "config": config,
        "state": entry.get("state", "present"),
        # Keycloak never gives the bind password back: compared, it would always differ; it is sent when something
        # else changes, or on every run with update_bind_credential (to rotate it)
        "bind_credential_update_mode": "always" if entry.get("update_bind_credential") else "only_indirect",
        "remove_unspecified_mappers": False,
    }
    if entry.get("mappers"):
        args["mappers"] = entry["mappers"]
    return args


class FilterModule(object):
    def filters(self):
        return {"keycloak_identity_provider": keycloak_identity_provider,
                "keycloak_user_federation": keycloak_user_federation}
