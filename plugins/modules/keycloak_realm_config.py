#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: keycloak_realm_config
short_description: Reconcile a Keycloak realm's settings, groups, OIDC clients and role mappings in one run
version_added: 0.1.0
description:
  - Makes a realm hold what Nebari's services need, with one login and a few requests when nothing changes - the
    realm itself, its unmanaged-attribute policy, groups, default groups, confidential OIDC clients with their
    secrets, claims and roles, and the client roles each group grants.
  - Creates the realm when it does not exist, with O(display_name), O(enabled) and O(ssl_required); updates those
    settings when they differ.
  - Creates the groups of O(groups) that are missing (top-level groups, by name).
  - Sets the realm's default groups to exactly O(default_groups) when it is given, compared as a set of paths.
  - Creates or updates each client of O(clients) as a confidential OpenID Connect client (client-secret
    authentication, standard flow on, direct access grants off) with exactly the redirect URIs given, two claims
    (protocol mappers) - C(groups), the user's groups as full paths, and C(roles), the user's roles of this client
    - and the client roles listed.
  - Each client keeps its secret - the one O(client_secrets) gives, else the one Keycloak already holds, else a new
    random one (32 letters and digits) - and the module returns the secrets it did not get in RV(client_secrets).
  - Grants each group the client roles of its C(grants), realm-management's among them.
  - Nothing the options do not name is touched - other groups, clients, client roles, protocol mappers, role
    mappings and settings are left as they are; what Keycloak adds to a managed claim's configuration stays.
  - Every option is checked before any request; a problem names its entry, and nothing is changed.
author:
  - nebari.platform maintainers (@nebari-dev)
options:
  realm:
    description: The realm, by name.
    type: str
    required: true
  display_name:
    description: The realm's display name; left as it is when not given.
    type: str
  enabled:
    description: Whether the realm is enabled.
    type: bool
    default: true
  ssl_required:
    description: When the realm requires TLS - C(external) requests (all but private addresses), C(all) or C(none).
    type: str
    choices: [all, external, none]
    default: external
  unmanaged_attribute_policy:
    description:
      - Policy for user attributes the realm's user profile does not declare, as
        M(nebari.platform.keycloak_unmanaged_attributes) sets it; left as it is when not given.
      - C(ADMIN_EDIT) lets administrators keep them (Nebari's managed marker, C(jupyterlab_profiles)).
    type: str
    choices: [ENABLED, ADMIN_EDIT, ADMIN_VIEW, DISABLED]
  groups:
    description:
      - Top-level groups the realm must have, each with the client roles it grants. Missing ones are created;
        groups not listed are left alone.
      - The output of the P(nebari.platform.realm_groups#filter) filter fits as it is.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The group's name (no C(/)).
        type: str
        required: true
      grants:
        description:
          - Client id to the list of that client's roles the group is granted. Roles are added to the group's
            mappings; mappings it already has stay.
          - A client of O(clients) must list the roles; any other client (C(realm-management)) must exist in the
            realm with them.
        type: dict
        default: {}
  default_groups:
    description:
      - The groups every new user joins, names or paths (C(users), C(/parent/child)), exactly; each must be a group
        of O(groups) or of the realm. Left as they are when not given; an empty list removes them all.
    type: list
    elements: str
  clients:
    description: The confidential OpenID Connect clients the realm must have.
    type: list
    elements: dict
    default: []
    suboptions:
      client_id:
        description: The client's id.
        type: str
        required: true
      name:
        description: Its display name; the client id when not given.
        type: str
      redirect_uris:
        description: Its valid redirect URIs, exactly (in any order).
        type: list
        elements: str
        default: []
      roles:
        description: Client roles it must have; other roles of the client stay.
        type: list
        elements: str
        default: []
  client_secrets:
    description:
      - Client id to the secret that client must have. Each key must name a client of O(clients).
      - A client not listed keeps the secret Keycloak holds, or gets a new random one.
    type: dict
    default: {}
  workers:
    description: Requests in flight at once while reading the realm.
    type: int
    default: 4
extends_documentation_fragment:
  - nebari.platform.keycloak
  - nebari.platform.http_options
attributes:
  check_mode:
    support: full
    description: Reports every change it would make and changes nothing; a realm that does not exist yet is
      reported as to be created with everything in it.
  diff_mode:
    support: full
    description:
      - Before and after of what the module manages - settings, policy, groups, default groups, each client's
        managed settings, roles and claims, and the listed groups' mappings of the listed clients.
      - A secret is never shown - only whether there is one, and where it comes from when it changes.
  platform:
    support: full
    platforms: all
    description: Talks to Keycloak's admin REST API from where it runs.
notes:
  - RV(client_secrets) holds secrets - run the task with C(no_log) (the failure message, if any, is then hidden
    too - register the result with C(failed_when) false and report RV(msg) in a task of its own, as the
    nebari.platform.keycloak_realm role does).
  - Secrets given in O(client_secrets) are not returned - Ansible hides the values of C(no_log) options in every
    result - the caller holds them already.
"""

EXAMPLES = r"""
- name: Nebari's realm, its groups and the OIDC clients of its services
  nebari.platform.keycloak_realm_config:
    auth_keycloak_url: https://nebari.example.com/auth
    auth_username: admin
    auth_password: "{{ vault_keycloak_admin_password }}"
    realm: nebari
    display_name: Nebari
    unmanaged_attribute_policy: ADMIN_EDIT
    groups:
      - {name: admin, grants: {realm-management: [query-users, query-groups, manage-users],
                               jupyterhub: [jupyterhub_admin]}}
      - {name: analyst, grants: {jupyterhub: [jupyterhub_developer]}}
      - {name: users}
    default_groups: [analyst, users]
    clients:
      - client_id: jupyterhub
        redirect_uris: [https://nebari.example.com/hub/oauth_callback]
        roles: [jupyterhub_admin, jupyterhub_developer]
    client_secrets:
      jupyterhub: "{{ vault_jupyterhub_client_secret }}"
  register: realm
  no_log: true   # the result carries the secrets Keycloak held or the module made

- name: What changed (no secret in it)
  ansible.builtin.debug:
    msg: "{{ realm.changes }}"
  when: realm is changed
"""

RETURN = r"""
changes:
  description: One line per change made (in check mode, that would be made), in the order carried out; never a secret.
  returned: always
  type: list
  elements: str
  sample:
    - "group ml-team: created"
    - "client jupyterhub: updated redirectUris"
    - "group ml-team: roles of client jupyterhub added: jupyterhub_developer"
created:
  description: Whether the realm did not exist before the run (in check mode, whether it would be created).
  returned: always
  type: bool
  sample: false
client_secrets:
  description:
    - Client id to secret, for each client of O(clients) whose secret O(client_secrets) does not give - the one
      Keycloak holds, or the new one. In check mode, a new client's is the one the run would set.
  returned: always
  type: dict
  sample: {grafana: 7Q8vLk2mN4pR6sT0uW1xY3zA5bC9dE2f}
identity_providers:
  description:
    - The aliases of the realm's identity providers, whoever made them (none when the realm did not exist).
  returned: success
  type: list
  elements: str
  sample: [github]
msg:
  description: Why the module failed - the options' problems (every one), or Keycloak's refusal and what was done before it.
  returned: failure
  type: str
done:
  description: On a failure while applying, the changes made before it.
  returned: failure
  type: list
  elements: str
"""

from ansible_collections.nebari.platform.plugins.module_utils.keycloak.client import (
    KeycloakError,
    client_from_module,
    keycloak_module,
)
from ansible_collections.nebari.platform.plugins.module_utils.keycloak.realm_config import (
    realm_config_argument_spec,
    reconcile_realm,
    validate,
)


def main():
    module = keycloak_module(realm_config_argument_spec())
    errors = validate(module.params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    try:
        client = client_from_module(module)
        result = reconcile_realm(client, module.params, check_mode=module.check_mode, diff=module._diff)
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    except KeycloakError as exc:
        module.fail_json(msg=exc.message, status=exc.status, done=getattr(exc, "done", []))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
