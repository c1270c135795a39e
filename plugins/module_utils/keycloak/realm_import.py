# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restore a realm from Keycloak's own export (kc.sh export): add what is missing, never overwrite.

plan(export, live) says, with no I/O, which roles, groups, clients, identity providers and users of the export the
realm lacks, and which existing users get back what only the export holds (their password hash, their links to
identity providers). apply() sends the missing resources in one partialImport (ifResourceExists SKIP, so a race
never overwrites) and restores each existing user's credentials with a PUT of the user as Keycloak holds it.
"""

from __future__ import annotations

import copy

from ansible_collections.nebari.platform.plugins.module_utils.actions import pool_map
from ansible_collections.nebari.platform.plugins.module_utils.keycloak.client import KeycloakError

PARTS = ("roles", "groups", "clients", "identityProviders", "users")


def validate(realm, export, parts):
    """Every problem of the options, before any request."""
    errors = []
    if not isinstance(export, dict) or "realm" not in export:
        return ["export: not a realm as Keycloak exports it (a mapping with realm, users, groups, ...)"]
    if export["realm"] != realm:
        errors.append("export: it holds realm %r, not %r (restore it into the realm it came from)"
                      % (export["realm"], realm))
    for part in set(parts) - set(PARTS):
        errors.append("parts: %r is not one of %s" % (part, ", ".join(PARTS)))
    for index, user in enumerate(export.get("users") or []):
        if not isinstance(user, dict) or not user.get("username"):
            errors.append("export.users[%d]: no username" % index)
    for index, group in enumerate(export.get("groups") or []):
        if not isinstance(group, dict) or not group.get("name"):
            errors.append("export.groups[%d]: no name" % index)
    for index, client in enumerate(export.get("clients") or []):
        if not isinstance(client, dict) or not client.get("clientId"):
            errors.append("export.clients[%d]: no clientId" % index)
    return errors


def read_live(client, realm, export, workers=4):
    """What the realm holds of the kinds the export carries: names, ids and, for the users the export gives a
    password or identity links, what they have of them."""
    try:
        client.get(client.realm_path(realm))
    except KeycloakError as exc:
        if exc.status == 404:
            raise ValueError("realm %s does not exist: run site.yml (or the keycloak_realm role) first, then restore "
                             "into it" % realm)
        raise
    live = {
        "users": {u["username"]: u["id"] for u in client.paged(client.realm_path(realm, "users"),
                                                               {"briefRepresentation": "true"})},
        "groups": set(g["name"] for g in client.paged(client.realm_path(realm, "groups"),
                                                      {"briefRepresentation": "true"})),
        "clients": {c["clientId"]: c["id"] for c in client.get(client.realm_path(realm, "clients")) or []},
        "identityProviders": set(i["alias"] for i in client.get(
            client.realm_path(realm, "identity-provider", "instances")) or []),
        "roles": set(r["name"] for r in client.get(client.realm_path(realm, "roles")) or []),
    }
    # the roles of the clients that exist on both sides
    wanted = [c for c in sorted(((export.get("roles") or {}).get("client") or {})) if c in live["clients"]]
    roles = pool_map(workers, lambda c: set(r["name"] for r in client.get(
        client.realm_path(realm, "clients", live["clients"][c], "roles")) or []), wanted)
    live["client_roles"] = dict(zip(wanted, roles))
    # what the existing users have that the export could give back
    exported = [u for u in importable_users(export) if u["username"] in live["users"]
                and (password(u) or u.get("federatedIdentities"))]

    def held(user):
        path = client.realm_path(realm, "users", live["users"][user["username"]])
        return (user["username"], {
            "password": any(c.get("type") == "password" for c in client.get(path + "/credentials") or []),
            "links": set(i["identityProvider"] for i in client.get(path + "/federated-identity") or []),
        })

    live["held"] = dict(pool_map(workers, held, exported))
    return live


def importable_users(export):
    """The export's users a restore brings back: not service accounts (their client makes them) nor users of a user
    federation (LDAP gives them again)."""
    return [u for u in export.get("users") or [] if not u.get("serviceAccountClientId") and not u.get("federationLink")]


def password(user):
    return next((c for c in user.get("credentials") or [] if c.get("type") == "password"), None)


def plan(export, live, parts=PARTS):
    """The missing resources (as partialImport takes them) and the existing users' repairs, and one line each."""
    missing, lines = {}, []
    if "roles" in parts:
        realm_roles = [r for r in (export.get("roles") or {}).get("realm") or [] if r["name"] not in live["roles"]]
        client_roles = {}
        for client_id, roles in sorted(((export.get("roles") or {}).get("client") or {}).items()):
            have = live["client_roles"].get(client_id, set())
            new = [r for r in roles if r["name"] not in have]
            if new:
                client_roles[client_id] = new
        if realm_roles or client_roles:
            missing["roles"] = {"realm": realm_roles, "client": client_roles}
        lines += ["realm role %s: added" % r["name"] for r in realm_roles]
        lines += ["client %s: role %s added" % (c, r["name"]) for c, roles in client_roles.items() for r in roles]
    for part, key, kind, have in (("groups", "name", "group", live["groups"]),
                                  ("clients", "clientId", "client", live["clients"]),
                                  ("identityProviders", "alias", "identity provider", live["identityProviders"])):
        if part in parts:
            new = [item for item in export.get(part) or [] if item[key] not in have]
            if new:
                missing[part] = new
            lines += ["%s %s: added" % (kind, item[key]) for item in new]
    if missing.get("identityProviders"):
        aliases = set(i["alias"] for i in missing["identityProviders"])
        mappers = [m for m in export.get("identityProviderMappers") or [] if m.get("identityProviderAlias") in aliases]
        if mappers:
            missing["identityProviderMappers"] = mappers
    repairs = []
    if "users" in parts:
        new = []
        for user in importable_users(export):
            if user["username"] not in live["users"]:
                new.append(_without_ids(user))
                lines.append("user %s: added%s" % (user["username"], " with its password" if password(user) else ""))
                continue
            held = live["held"].get(user["username"])
            if not held:
                continue
            repair = {"username": user["username"], "id": live["users"][user["username"]]}
            if password(user) and not held["password"]:
                repair["credentials"] = [_without_ids(password(user))]
                lines.append("user %s: password restored" % user["username"])
            links = [i for i in user.get("federatedIdentities") or [] if i["identityProvider"] not in held["links"]]
            if links:
                repair["links"] = links
                lines += ["user %s: linked to %s" % (user["username"], i["identityProvider"]) for i in links]
            if len(repair) > 2:
                repairs.append(repair)
        if new:
            missing["users"] = new
    return missing, repairs, lines


def _without_ids(item):
    """A copy without the export's ids (the realm gives new ones; an id of the export may clash)."""
    item = copy.deepcopy(item)
    item.pop("id", None)
    for credential in item.get("credentials") or []:
        credential.pop("id", None)
    return item


def apply(client, realm, missing, repairs, workers=4):
    """Carry out the plan: one partialImport (SKIP), then each existing user's repair."""
    result = {"added": 0, "skipped": 0}
    if missing:
        body = dict(missing, ifResourceExists="SKIP")
        answer = client.request("POST", client.realm_path(realm, "partialImport"), body) or {}
        result = {"added": answer.get("added", 0), "skipped": answer.get("skipped", 0)}

    def repair(item):
        path = client.realm_path(realm, "users", item["id"])
        if item.get("credentials"):
            user = client.get(path)
            user["credentials"] = item["credentials"]
            client.request("PUT", path, user)
        for link in item.get("links") or []:
            client.request("POST", path + "/federated-identity/" + link["identityProvider"],
                           {"identityProvider": link["identityProvider"], "userId": link.get("userId"),
                            "userName": link.get("userName")})

    pool_map(workers, repair, repairs)
    return result


def counts(missing, repairs):
    """How many of each kind a run adds or repairs (for the result and the diff; never a secret)."""
    roles = missing.get("roles") or {}
    return {
        "roles": len(roles.get("realm") or []) + sum(len(r) for r in (roles.get("client") or {}).values()),
        "groups": len(missing.get("groups") or []),
        "clients": len(missing.get("clients") or []),
        "identity_providers": len(missing.get("identityProviders") or []),
        "users": len(missing.get("users") or []),
        "passwords_restored": sum(1 for r in repairs if r.get("credentials")),
        "links_restored": sum(len(r.get("links") or []) for r in repairs),
    }
