# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reconcile the shape of a Keycloak realm: settings, user-profile policy, groups, default groups, confidential
OIDC clients with their claims, secrets and roles, and the client roles each group grants.

validate(params) checks the module's options before any request and names every bad entry.
read_state(client, realm, desired) reads what the realm holds in a few requests (None: no such realm).
plan(desired, state, new_secret) is pure: it compares and returns the ordered actions, the clients' secrets and
the before/after views of the diff. Check mode is the plan without apply.
apply(client, realm, actions, state) carries the actions out, learning the ids of what it creates as it goes.

Only what the desired state names is touched: groups, clients, client roles, protocol mappers and role mappings
it does not name are left as they are. Two things are exact: a named client's managed settings (its redirect URIs
included), and the realm's default groups when they are given.
"""

from __future__ import annotations

import copy
import secrets as random_source
import string

from ansible_collections.nebari.platform.plugins.module_utils.actions import Action, pool_map
from ansible_collections.nebari.platform.plugins.module_utils.keycloak import realm_state
from ansible_collections.nebari.platform.plugins.module_utils.keycloak.client import KeycloakError
from ansible_collections.nebari.platform.plugins.module_utils.keycloak.users import group_path

REDACTED = "********"
POLICIES = ("ENABLED", "ADMIN_EDIT", "ADMIN_VIEW", "DISABLED")
SSL_REQUIRED = ("all", "external", "none")
# what a confidential OIDC client of a service is, exactly (besides clientId, name, redirectUris and secret)
CLIENT_SETTINGS = {"enabled": True, "protocol": "openid-connect", "publicClient": False,
                   "clientAuthenticatorType": "client-secret", "standardFlowEnabled": True,
                   "directAccessGrantsEnabled": False}
# a realm without a user-profile policy drops undeclared attributes
NO_POLICY = "DISABLED"


def realm_config_argument_spec():
    """The module's own options (the connection options come from keycloak_argument_spec)."""
    return dict(
        realm=dict(type="str", required=True),
        display_name=dict(type="str"),
        enabled=dict(type="bool", default=True),
        ssl_required=dict(type="str", choices=list(SSL_REQUIRED), default="external"),
        unmanaged_attribute_policy=dict(type="str", choices=list(POLICIES)),
        groups=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True),
            grants=dict(type="dict", default={}),
        )),
        default_groups=dict(type="list", elements="str"),
        clients=dict(type="list", elements="dict", default=[], options=dict(
            client_id=dict(type="str", required=True),
            name=dict(type="str"),
            redirect_uris=dict(type="list", elements="str", default=[]),
            roles=dict(type="list", elements="str", default=[]),
        )),
        client_secrets=dict(type="dict", default={}, no_log=True),
        workers=dict(type="int", default=4),
    )


def mappers(client_id):
    """The claims every client gets: `groups` (the user's groups as full paths) and `roles` (the user's roles of
    this client); jupyterhub's also `jupyterlab_profiles` (the user's attribute of that name). `multivalued` is said
    for both: Keycloak adds it to the group mapper at its first use, so said here the next run changes nothing."""
    tokens = {"id.token.claim": "true", "access.token.claim": "true", "userinfo.token.claim": "true"}
    claims = [
        {"name": "groups", "protocol": "openid-connect", "protocolMapper": "oidc-group-membership-mapper",
         "config": dict(tokens, **{"claim.name": "groups", "full.path": "true", "multivalued": "true"})},
        {"name": "roles", "protocol": "openid-connect", "protocolMapper": "oidc-usermodel-client-role-mapper",
         "config": dict(tokens, **{"claim.name": "roles", "multivalued": "true", "jsonType.label": "String",
                                   "usermodel.clientRoleMapping.clientId": client_id})},
    ]
    if client_id == "jupyterhub":
        # the JupyterLab profiles a user's attribute names (Nebari Classic's access: keycloak; profiles with
        # keycloak_attribute)
        claims.append({"name": "jupyterlab_profiles", "protocol": "openid-connect",
                       "protocolMapper": "oidc-usermodel-attribute-mapper",
                       "config": dict(tokens, **{"claim.name": "jupyterlab_profiles", "multivalued": "true",
                                                 "user.attribute": "jupyterlab_profiles",
                                                 "jsonType.label": "String"})})
    return claims


def new_secret(length=32):
    alphabet = string.ascii_letters + string.digits
    return "".join(random_source.choice(alphabet) for dummy in range(length))


# validation and the desired state

def validate(params):
    """Every problem of the options, each naming its entry; an empty list when they are sound. No request."""
    errors = []

    def bad(where, msg):
        errors.append("%s: %s" % (where, msg))

    if not (params.get("realm") or "").strip():
        bad("realm", "must not be empty")
    if params.get("workers") is not None and params["workers"] < 1:
        bad("workers", "must be at least 1")
    clients = {}
    for index, entry in enumerate(params.get("clients") or []):
        where = "clients[%d] (%s)" % (index, entry.get("client_id"))
        client_id = entry.get("client_id") or ""
        if not client_id.strip():
            bad("clients[%d]" % index, "client_id must not be empty")
            continue
        if client_id in clients:
            bad(where, "duplicate of clients[%d]" % clients[client_id][0])
            continue
        roles = entry.get("roles") or []
        for role in roles:
            if not (role or "").strip():
                bad(where, "a role name must not be empty")
        duplicates = sorted(set(r for r in roles if roles.count(r) > 1))
        if duplicates:
            bad(where, "roles listed twice: %s" % ", ".join(duplicates))
        for uri in entry.get("redirect_uris") or []:
            if not (uri or "").strip():
                bad(where, "a redirect URI must not be empty")
        clients[client_id] = (index, set(roles))
    groups = {}
    for index, entry in enumerate(params.get("groups") or []):
        name = entry.get("name") or ""
        where = "groups[%d] (%s)" % (index, name)
        if not name.strip():
            bad("groups[%d]" % index, "name must not be empty")
            continue
        if "/" in name:
            bad(where, "a group name must not contain '/' (the module manages top-level groups)")
        if name in groups:
            bad(where, "duplicate of groups[%d]" % groups[name])
            continue
        groups[name] = index
        for client_id, roles in sorted((entry.get("grants") or {}).items()):
            if not isinstance(roles, list) or not all(isinstance(r, str) and r.strip() for r in roles):
                bad(where, "grants.%s must be a list of role names" % client_id)
                continue
            if client_id in clients:
                unknown = sorted(set(roles) - clients[client_id][1])
                if unknown:
                    bad(where, "grants roles of client %s that clients[%d] does not list: %s"
                        % (client_id, clients[client_id][0], ", ".join(unknown)))
    for index, group in enumerate(params.get("default_groups") or []):
        if not (group or "").strip().strip("/"):
            bad("default_groups[%d]" % index, "must name a group")
    for client_id, secret in sorted((params.get("client_secrets") or {}).items()):
        # the message never holds the secret itself
        if client_id not in clients:
            bad("client_secrets.%s" % client_id, "names no client of clients")
        elif not isinstance(secret, str) or not secret.strip():
            bad("client_secrets.%s" % client_id, "must be a non-empty string")
    return errors


def desired_state(params):
    """The validated options as the plan compares them."""
    settings = {"enabled": params.get("enabled", True), "sslRequired": params.get("ssl_required") or "external"}
    if params.get("display_name") is not None:
        settings["displayName"] = params["display_name"]
    given = params.get("client_secrets") or {}
    default_groups = params.get("default_groups")
    return {
        "realm": params["realm"],
        "settings": settings,
        "policy": params.get("unmanaged_attribute_policy"),
        "groups": [{"name": g["name"], "path": group_path(g["name"]),
                    "grants": dict((c, sorted(set(r))) for c, r in (g.get("grants") or {}).items())}
                   for g in params.get("groups") or []],
        "default_groups": (None if default_groups is None
                           else sorted(set(group_path(g.strip()) for g in default_groups))),
        "clients": [{"client_id": c["client_id"], "name": c.get("name") or c["client_id"],
                     "redirect_uris": list(c.get("redirect_uris") or []), "roles": list(c.get("roles") or []),
                     "secret": given.get(c["client_id"])}
                    for c in params.get("clients") or []],
    }


def concerned_clients(desired):
    """Client ids whose roles the plan needs: the desired clients and the clients the groups grant roles of."""
    ids = [c["client_id"] for c in desired["clients"]]
    for group in desired["groups"]:
        ids.extend(c for c in sorted(group["grants"]) if c not in ids)
    return ids


# reading

def read_state(client, realm, desired, workers=4):
    """What the realm holds of what desired concerns, or None when the realm does not exist.

    {settings: the realm's representation, policy, groups: path -> id, default_groups: paths,
     clients: clientId -> representation (secret and protocolMappers included), roles: clientId -> name -> role,
     mappings: group path -> clientId -> set of role names (desired groups only)}
    """
    try:
        settings = client.get(client.realm_path(realm))
    except KeycloakError as exc:
        if exc.status == 404:
            return None
        raise
    jobs = {
        "policy": lambda: client.get(client.realm_path(realm, "users", "profile")).get("unmanagedAttributePolicy"),
        "groups": lambda: realm_state.groups_by_path(client, realm),
        "clients": lambda: client.paged(client.realm_path(realm, "clients")),
    }
    if "defaultGroups" not in settings:
        jobs["default_groups"] = lambda: [g["path"] for g in client.get(client.realm_path(realm, "default-groups"))]
    names = sorted(jobs)
    found = dict(zip(names, pool_map(workers, lambda name: jobs[name](), names)))
    clients = dict((c["clientId"], c) for c in found["clients"])
    state = {"settings": settings, "policy": found["policy"] or NO_POLICY, "groups": found["groups"],
             "default_groups": found.get("default_groups", settings.get("defaultGroups") or []),
             "clients": clients, "roles": {}, "mappings": {}}

    second = []
    for client_id in concerned_clients(desired):
        if client_id in clients:
            second.append(("roles", client_id))
    for group in desired["groups"]:
        if group["path"] in state["groups"] and group["grants"]:
            second.append(("mappings", group["path"]))
    for client_id in (c["client_id"] for c in desired["clients"]):
        if client_id in clients and not clients[client_id].get("secret"):
            second.append(("secret", client_id))  # not in the listing (older Keycloak): ask for it

    def read(job):
        kind, key = job
        if kind == "roles":
            return client.paged(client.realm_path(realm, "clients", clients[key]["id"], "roles"),
                                {"briefRepresentation": "true"})
        if kind == "secret":
            return (client.get(client.realm_path(realm, "clients", clients[key]["id"], "client-secret"))
                    or {}).get("value")
        return client.get(client.realm_path(realm, "groups", state["groups"][key], "role-mappings"))

    for (kind, key), answer in zip(second, pool_map(workers, read, second)):
        if kind == "roles":
            state["roles"][key] = dict((role["name"], role) for role in answer)
        elif kind == "secret":
            if answer:
                clients[key] = dict(clients[key], secret=answer)
        else:
            state["mappings"][key] = dict((client_id, set(r["name"] for r in (m.get("mappings") or [])))
                                          for client_id, m in ((answer or {}).get("clientMappings") or {}).items())
    return state


# the plan

def plan(desired, state, new_secret=new_secret):
    """Compare desired with state (None: the realm does not exist yet). No I/O.

    Returns {actions: ordered list of Action (kind: realm, policy, group, default_groups, client, mapper, role,
    mapping), errors: what cannot be done (nothing is, then), secrets: clientId -> secret, secret_sources:
    clientId -> given | kept | new, before, after: what the diff shows, secrets redacted}.
    """
    exists = state is not None
    state = state or {"settings": {}, "policy": NO_POLICY, "groups": {}, "default_groups": [], "clients": {},
                      "roles": {}, "mappings": {}}
    actions, errors = [], []
    realm = desired["realm"]

    # the realm and its user-profile policy
    wanted = desired["settings"]
    before = {"realm": {k: state["settings"].get(k) for k in sorted(wanted)} if exists else None}
    after = {"realm": dict(sorted(wanted.items()))}
    if not exists:
        actions.append(Action(action="realm", change="create", name=realm,
                              representation=dict(wanted, id=realm, realm=realm)))
    else:
        fields = dict((k, v) for k, v in wanted.items() if state["settings"].get(k) != v)
        if fields:
            actions.append(Action(action="realm", change="update", name=realm, fields=fields))
    if desired["policy"] is not None:
        before["unmanagedAttributePolicy"] = state["policy"] if exists else None
        after["unmanagedAttributePolicy"] = desired["policy"]
        if state["policy"] != desired["policy"]:
            actions.append(Action(action="policy", change="update", previous=state["policy"],
                                  policy=desired["policy"]))

    # groups: created when missing, others left alone
    group_paths = set(state["groups"])
    before["groups"] = sorted(g["name"] for g in desired["groups"] if g["path"] in group_paths)
    after["groups"] = sorted(g["name"] for g in desired["groups"])
    for group in desired["groups"]:
        if group["path"] not in group_paths:
            actions.append(Action(action="group", change="create", name=group["name"], path=group["path"]))
    known_paths = group_paths | set(g["path"] for g in desired["groups"])

    # default groups: exactly the ones given
    if desired["default_groups"] is not None:
        current = sorted(set(state["default_groups"]))
        before["defaultGroups"] = current if exists else None
        after["defaultGroups"] = desired["default_groups"]
        missing = [p for p in desired["default_groups"] if p not in known_paths]
        if missing:
            errors.append("default_groups: %s %s not in the realm nor in groups"
                          % (", ".join(missing), "is" if len(missing) == 1 else "are"))
        add = [p for p in desired["default_groups"] if p not in current]
        remove = [p for p in current if p not in desired["default_groups"]]
        if add or remove:
            actions.append(Action(action="default_groups", change="update", add=add, remove=remove))

    # clients, their secrets, claims and roles
    secrets, sources = {}, {}
    before["clients"], after["clients"] = {}, {}
    role_actions = []
    for want in desired["clients"]:
        client_id = want["client_id"]
        have = state["clients"].get(client_id)
        held = (have or {}).get("secret")
        if want["secret"]:
            secret, source = want["secret"], "given"
        elif held:
            secret, source = held, "kept"
        else:
            secret, source = new_secret(), "new"
        secrets[client_id], sources[client_id] = secret, source
        settings = dict(CLIENT_SETTINGS, clientId=client_id, name=want["name"], redirectUris=want["redirect_uris"])
        wanted_mappers = mappers(client_id)
        if have is None:
            representation = dict(copy.deepcopy(settings), secret=secret, protocolMappers=copy.deepcopy(wanted_mappers))
            actions.append(Action(action="client", change="create", client_id=client_id,
                                  representation=representation))
        else:
            fields = {}
            for key, value in settings.items():
                current = have.get(key)
                same = (sorted(set(current or [])) == sorted(set(value)) if key == "redirectUris"
                        else current == value)
                if not same:
                    fields[key] = value
            if held != secret:
                fields["secret"] = secret
            if fields:
                actions.append(Action(action="client", change="update", client_id=client_id, id=have["id"],
                                      fields=fields))
            current_mappers = dict((m.get("name"), m) for m in have.get("protocolMappers") or [])
            for mapper in wanted_mappers:
                found = current_mappers.get(mapper["name"])
                if found is None:
                    actions.append(Action(action="mapper", change="create", client_id=client_id,
                                          name=mapper["name"], representation=mapper))
                elif found.get("protocol") != mapper["protocol"] or found.get("protocolMapper") != mapper["protocolMapper"]:
                    actions.append(Action(action="mapper", change="replace", client_id=client_id,
                                          name=mapper["name"], id=found.get("id"), representation=mapper))
                else:
                    config = found.get("config") or {}
                    if any(config.get(k) != v for k, v in mapper["config"].items()):
                        # what Keycloak added to the config stays
                        merged = dict(found, config=dict(config, **mapper["config"]))
                        actions.append(Action(action="mapper", change="update", client_id=client_id,
                                              name=mapper["name"], id=found.get("id"), representation=merged))
        current_roles = set(state["roles"].get(client_id, {})) if have is not None else set()
        missing_roles = [r for r in want["roles"] if r not in current_roles]
        if missing_roles:
            role_actions.append(Action(action="role", change="create", client_id=client_id, roles=missing_roles))
        before["clients"][client_id] = _client_view(have, current_roles) if have is not None else None
        after["clients"][client_id] = _client_view(dict(have or {}, **settings), current_roles | set(want["roles"]),
                                                   source=source, changed=held != secret,
                                                   mappers=_merged_mappers(have, wanted_mappers))
    actions.extend(role_actions)

    # role mappings: the roles each group grants are added; other mappings stay
    managed = dict((c["client_id"], c) for c in desired["clients"])
    before["roleMappings"], after["roleMappings"] = {}, {}
    for group in desired["groups"]:
        for client_id, roles in sorted(group["grants"].items()):
            if not roles:
                continue
            if client_id not in managed and exists:
                if client_id not in state["clients"]:
                    errors.append("groups (%s): grants roles of client %s, which is neither in clients nor in realm %s"
                                  % (group["name"], client_id, realm))
                    continue
                unknown = [r for r in roles if r not in state["roles"].get(client_id, {})]
                if unknown:
                    errors.append("groups (%s): client %s of realm %s has no role %s"
                                  % (group["name"], client_id, realm, ", ".join(unknown)))
                    continue
            current = state["mappings"].get(group["path"], {}).get(client_id, set())
            missing_roles = [r for r in roles if r not in current]
            before["roleMappings"].setdefault(group["name"], {})[client_id] = sorted(current)
            after["roleMappings"].setdefault(group["name"], {})[client_id] = sorted(current | set(roles))
            if missing_roles:
                actions.append(Action(action="mapping", change="add", group=group["name"], path=group["path"],
                                      client_id=client_id, roles=missing_roles))
    return {"actions": actions, "errors": errors, "secrets": secrets, "secret_sources": sources,
            "before": before, "after": after}


def _client_view(client, roles, source=None, changed=False, mappers=None):
    """What the diff shows of a client: its managed settings, roles and claims. The secret is never shown: only
    whether there is one and, after, where it comes from when it changes."""
    view = dict((key, client.get(key)) for key in ["name"] + sorted(CLIENT_SETTINGS))
    view["redirectUris"] = sorted(client.get("redirectUris") or [])
    if source is None:
        view["secret"] = REDACTED if client.get("secret") else None
    else:
        origin = {"given": "the one given", "kept": "kept", "new": "new"}[source]
        view["secret"] = "%s (%s)" % (REDACTED, origin) if changed else REDACTED
    view["roles"] = sorted(roles)
    view["protocolMappers"] = dict(
        (m.get("name"), {"protocolMapper": m.get("protocolMapper"), "config": dict(sorted((m.get("config") or {}).items()))})
        for m in (client.get("protocolMappers") if mappers is None else mappers) or [])
    return view


def _merged_mappers(have, wanted):
    """The client's mappers once the wanted ones are in place (others unchanged, Keycloak's config additions kept)."""
    current = dict((m.get("name"), m) for m in (have or {}).get("protocolMappers") or [])
    for mapper in wanted:
        found = current.get(mapper["name"])
        if found is not None and found.get("protocolMapper") == mapper["protocolMapper"]:
            current[mapper["name"]] = dict(found, config=dict(found.get("config") or {}, **mapper["config"]))
        else:
            current[mapper["name"]] = mapper
    return [current[name] for name in sorted(current)]


def describe(action):
    """One line per action for the module's `changes`: never a secret."""
    kind, change = action.kind, action["change"]
    if kind == "realm":
        return "realm %s: %s" % (action["name"], "created" if change == "create"
                                 else "updated " + ", ".join(sorted(action["fields"])))
    if kind == "policy":
        return "unmanaged attribute policy: %s -> %s" % (action["previous"], action["policy"])
    if kind == "group":
        return "group %s: created" % action["name"]
    if kind == "default_groups":
        return "default groups: %s" % ", ".join(["+" + p for p in action["add"]] + ["-" + p for p in action["remove"]])
    if kind == "client":
        return "client %s: %s" % (action["client_id"], "created" if change == "create"
                                  else "updated " + ", ".join(sorted(action["fields"])))
    if kind == "mapper":
        return "client %s: claim %s %sd" % (action["client_id"], action["name"], change)
    if kind == "role":
        return "client %s: roles created: %s" % (action["client_id"], ", ".join(action["roles"]))
    return "group %s: roles of client %s added: %s" % (action["group"], action["client_id"], ", ".join(action["roles"]))


# applying

class _Ids:
    """Ids of groups, clients and client roles: from the state read, read again once something was created."""

    def __init__(self, client, realm, state):
        self.client, self.realm = client, realm
        state = state or {}
        self.groups = dict(state.get("groups") or {})
        self.clients = dict((cid, c["id"]) for cid, c in (state.get("clients") or {}).items())
        self.roles = dict(state.get("roles") or {})

    def group(self, path):
        if path not in self.groups:
            self.groups = realm_state.groups_by_path(self.client, self.realm)
        if path not in self.groups:
            raise KeycloakError("group %s is not in realm %s" % (path, self.realm), status=404)
        return self.groups[path]

    def client_uuid(self, client_id):
        if client_id not in self.clients:
            found = self.client.get(self.client.realm_path(self.realm, "clients"), {"clientId": client_id}) or []
            found = [c for c in found if c.get("clientId") == client_id]
            if not found:
                raise KeycloakError("client %s is not in realm %s" % (client_id, self.realm), status=404)
            self.clients[client_id] = found[0]["id"]
        return self.clients[client_id]

    def role(self, client_id, name):
        roles = self.roles.get(client_id)
        if roles is None or name not in roles:
            listed = self.client.paged(self.client.realm_path(self.realm, "clients", self.client_uuid(client_id),
                                                              "roles"), {"briefRepresentation": "true"})
            roles = self.roles[client_id] = dict((r["name"], r) for r in listed)
        if name not in roles:
            raise KeycloakError("client %s of realm %s has no role %s" % (client_id, self.realm, name), status=404)
        return {"id": roles[name]["id"], "name": name}

    def forget_roles(self, client_id):
        self.roles.pop(client_id, None)


def apply(client, realm, actions, state):
    """Carry the actions out in order; returns the descriptions of those done. A Keycloak error stops there: it is
    raised with what was done before it in `done` (the next run carries on from what the realm then holds)."""
    ids = _Ids(client, realm, state)
    done = []
    for action in actions:
        try:
            _apply_one(client, realm, action, ids)
        except KeycloakError as exc:
            exc.done = done
            exc.message = "%s: %s" % (describe(action).split(":", 1)[0], exc.message)
            raise
        done.append(describe(action))
    return done


def _apply_one(client, realm, action, ids):
    kind, change = action.kind, action["change"]
    path = client.realm_path
    if kind == "realm":
        if change == "create":
            client.request("POST", "", action["representation"])
        else:
            client.request("PUT", path(realm), action["fields"])
    elif kind == "policy":
        profile = client.get(path(realm, "users", "profile"))
        if action["policy"] == NO_POLICY:
            profile.pop("unmanagedAttributePolicy", None)
        else:
            profile["unmanagedAttributePolicy"] = action["policy"]
        client.request("PUT", path(realm, "users", "profile"), profile)
    elif kind == "group":
        try:
            client.request("POST", path(realm, "groups"), {"name": action["name"]})
        except KeycloakError as exc:
            if exc.status != 409:  # made by a request whose answer was lost: there it is
                raise
    elif kind == "default_groups":
        for group in action["add"]:
            client.request("PUT", path(realm, "default-groups", ids.group(group)))
        for group in action["remove"]:
            client.request("DELETE", path(realm, "default-groups", ids.group(group)))
    elif kind == "client":
        if change == "create":
            client.request("POST", path(realm, "clients"), action["representation"])
        else:
            # the whole representation goes back, changed fields in it, claims apart (they have their own requests)
            uuid = ids.client_uuid(action["client_id"])
            representation = client.get(path(realm, "clients", uuid))
            representation.pop("protocolMappers", None)
            representation.pop("access", None)
            representation.update(action["fields"])
            client.request("PUT", path(realm, "clients", uuid), representation)
    elif kind == "mapper":
        models = path(realm, "clients", ids.client_uuid(action["client_id"]), "protocol-mappers", "models")
        if change == "update":
            client.request("PUT", models + "/" + action["id"], action["representation"])
        else:
            if change == "replace":
                client.request("DELETE", models + "/" + action["id"])
            client.request("POST", models, action["representation"])
    elif kind == "role":
        roles = path(realm, "clients", ids.client_uuid(action["client_id"]), "roles")
        for name in action["roles"]:
            try:
                client.request("POST", roles, {"name": name})
            except KeycloakError as exc:
                if exc.status != 409:
                    raise
        ids.forget_roles(action["client_id"])
    elif kind == "mapping":
        roles = [ids.role(action["client_id"], name) for name in action["roles"]]
        client.request("POST", path(realm, "groups", ids.group(action["path"]), "role-mappings", "clients",
                                    ids.client_uuid(action["client_id"])), roles)


# what the module does

def reconcile_realm(client, params, check_mode=False, diff=False, new_secret=new_secret):
    """Read, plan, apply unless check mode; the module's result. Raises ValueError for options that do not hold
    (before any request) and KeycloakError when Keycloak refuses."""
    errors = validate(params)
    if errors:
        raise ValueError("; ".join(errors))
    desired = desired_state(params)
    workers = params.get("workers") or 4
    state = read_state(client, desired["realm"], desired, workers=workers)
    outcome = plan(desired, state, new_secret=new_secret)
    if outcome["errors"]:
        raise ValueError("; ".join(outcome["errors"]))
    actions = outcome["actions"]
    if not check_mode:
        apply(client, desired["realm"], actions, state)
    given = set(c for c in (params.get("client_secrets") or {}))
    result = {
        "changed": bool(actions),
        "changes": [describe(a) for a in actions],
        "created": state is None,
        # a secret given in client_secrets is not returned: Ansible hides the values of no_log options in every
        # result; the caller has it already
        "client_secrets": dict((c, s) for c, s in outcome["secrets"].items() if c not in given),
    }
    # the identity providers the realm has (by alias), for the tasks that add or update those of the inventory: an
    # existing one keeps its client secret unless asked (Keycloak never gives it back to compare)
    result["identity_providers"] = [] if state is None else sorted(
        p["alias"] for p in client.get(client.realm_path(desired["realm"], "identity-provider", "instances"),
                                       params={"briefRepresentation": "true"}))
    if diff:
        result["diff"] = {"before": outcome["before"], "after": outcome["after"]}
    return result
