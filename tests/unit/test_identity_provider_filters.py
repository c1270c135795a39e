"""Filters of the identity layer for sign-in elsewhere: keycloak_identity_provider and keycloak_user_federation."""

from ansible_collections.nebari.platform.plugins.filter.identity_providers import (
    keycloak_identity_provider, keycloak_user_federation)


def test_github_is_keycloaks_own_provider_with_its_secret_and_string_config():
    args = keycloak_identity_provider({"alias": "github", "type": "github", "client_id": "Iv1", "client_secret": "s"})
    assert args["provider_id"] == "github" and args["display_name"] == "github" and args["state"] == "present"
    assert args["config"] == {"clientId": "Iv1", "clientSecret": "s", "syncMode": "IMPORT"}
    assert args["first_broker_login_flow_alias"] == "first broker login" and args["store_token"] is False


def test_oidc_takes_its_endpoints_or_discovery_document_and_default_scopes():
    args = keycloak_identity_provider({"alias": "auth0", "client_id": "c", "client_secret": "s",
                                       "authorization_url": "https://a/authorize", "token_url": "https://a/token",
                                       "scopes": ["openid", "email"], "config": {"pkceEnabled": True}})
    config = args["config"]
    assert args["provider_id"] == "oidc"
    assert (config["authorizationUrl"], config["tokenUrl"], config["defaultScope"]) == (
        "https://a/authorize", "https://a/token", "openid email")
    assert config["pkceEnabled"] == "true" and config["clientAuthMethod"] == "client_secret_post"
    found = keycloak_identity_provider({"alias": "okta", "type": "oidc", "client_id": "c", "client_secret": "s",
                                        "discovery_url": "https://okta/.well-known/openid-configuration"})
    assert found["config"]["fromUrl"] == "https://okta/.well-known/openid-configuration"
    assert found["config"]["defaultScope"] == "openid email profile" and "tokenUrl" not in found["config"]


def test_ldap_takes_the_vendors_attributes_and_keeps_keycloaks_mappers():
    args = keycloak_user_federation({"name": "ad", "vendor": "ad", "connection_url": "ldaps://dc", "users_dn": "ou=u",
                                     "bind_dn": "cn=kc", "bind_credential": "pw", "search_scope": "one"})
    config = args["config"]
    assert (config["usernameLDAPAttribute"], config["rdnLDAPAttribute"], config["uuidLDAPAttribute"]) == (
        "sAMAccountName", "cn", "objectGUID")
    assert config["authType"] == "simple" and config["bindCredential"] == "pw" and config["searchScope"] == "1"
    assert config["editMode"] == "READ_ONLY" and config["fullSyncPeriod"] == -1
    assert args["remove_unspecified_mappers"] is False and "mappers" not in args
    assert args["bind_credential_update_mode"] == "only_indirect"


def test_ldap_without_bind_dn_binds_anonymously_and_rotation_is_asked_for():
    args = keycloak_user_federation({"name": "open", "connection_url": "ldap://x", "users_dn": "ou=u",
                                     "user_object_classes": ["inetOrgPerson"], "update_bind_credential": True,
                                     "full_sync_period": 3600})
    assert args["config"]["authType"] == "none" and "bindDn" not in args["config"]
    assert args["config"]["userObjectClasses"] == "inetOrgPerson" and args["config"]["fullSyncPeriod"] == 3600
    assert args["bind_credential_update_mode"] == "always"


def test_an_absent_entry_needs_only_its_name():
    assert keycloak_identity_provider({"alias": "old", "state": "absent"}) == {"alias": "old", "state": "absent"}
    assert keycloak_user_federation({"name": "old", "state": "absent"}) == {"name": "old", "state": "absent"}


def test_an_existing_provider_keeps_its_secret_unless_asked():
    entry = {"alias": "github", "type": "github", "client_id": "Iv1", "client_secret": "s"}
    assert keycloak_identity_provider(entry, ["github"])["config"]["clientSecret"] == "**********"
    assert keycloak_identity_provider(entry, ["gitlab"])["config"]["clientSecret"] == "s"
    rotate = dict(entry, update_client_secret=True)
    assert keycloak_identity_provider(rotate, ["github"])["config"]["clientSecret"] == "s"
