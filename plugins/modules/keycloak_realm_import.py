#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: keycloak_realm_import
short_description: Restore a Keycloak realm from its export, adding what it lacks and overwriting nothing
version_added: 0.1.0
description:
  - Takes a realm as Keycloak's own export writes it (C(kc.sh export), as the C(nebari.platform.backup) playbook
    keeps it) and adds to the realm the roles, groups, clients, identity providers and users it lacks, users with
    their password hashes, group memberships, roles, attributes and links to identity providers - in one
    C(partialImport) request that skips whatever exists by then.
  - A user the realm already holds (one that site.yml made again from the inventory, on a fresh cluster) is left as
    it is, except that it gets back the password the export holds when it has none, and the links to identity
    providers it lacks. So users log in with their own passwords after a restore.
  - Nothing is overwritten or removed - a group, client or user that exists keeps its settings, and a user's newer
    password stays.
  - Service-account users (their client makes them) and users of a user federation (LDAP gives them again) are not
    imported. Subgroups are imported with a missing top-level group, not into an existing one.
  - The realm must exist (run site.yml first); the export must be that realm's.
author:
  - nebari.platform maintainers (@nebari-dev)
options:
  realm:
    description: The realm to restore into, by name; the export must hold the same realm.
    type: str
    required: true
  export:
    description:
      - The realm's export - the JSON document C(kc.sh export --users realm_file) writes, as text (a backup's
        encrypted file through C(ansible.builtin.unvault)); a mapping is taken too.
      - Given as text, it is hidden from every output as a whole, while the names the result reports stay readable
        (a mapping's every value would be masked wherever it appears).
    type: json
    required: true
  parts:
    description: What to restore of the export.
    type: list
    elements: str
    choices: [roles, groups, clients, identityProviders, users]
    default: [roles, groups, clients, identityProviders, users]
  workers:
    description: Requests in flight at once while reading the realm and restoring users' credentials.
    type: int
    default: 4
extends_documentation_fragment:
  - nebari.platform.keycloak
  - nebari.platform.http_options
attributes:
  check_mode:
    support: full
    description: Reads the realm and reports everything it would add or restore; changes nothing.
  diff_mode:
    support: full
    description: One line per resource the run adds or user it repairs (the lines of RV(changes)); never a password
      hash or a client secret.
  platform:
    support: full
    platforms: all
    description: Talks to Keycloak's admin REST API from where it runs.
notes:
  - The export holds password hashes and client secrets - O(export) is never shown, and the module returns none of
    them; keep any variable that holds the export C(no_log).
"""

EXAMPLES = r"""
- name: Read the realm's export from a backup (encrypted with the backup's password)
  ansible.builtin.slurp:
    src: "{{ backup }}/keycloak/nebari-realm.json.vault"
  register: vaulted

- name: Restore what the realm lacks
  nebari.platform.keycloak_realm_import:
    auth_keycloak_url: https://nebari.example.com/auth
    auth_username: admin
    auth_password: "{{ vault_keycloak_admin_password }}"
    realm: nebari
    export: "{{ vaulted.content | ansible.builtin.b64decode | ansible.builtin.unvault(vault_backup_password) }}"
  register: restored

- name: What was restored
  ansible.builtin.debug:
    msg: "{{ restored.changes }}"
"""

RETURN = r"""
changes:
  description: One line per resource added or user repaired (in check mode, that would be); never a secret.
  returned: always
  type: list
  elements: str
  sample: ["group ml-team: added", "user vera: added with its password", "user alia: password restored"]
counts:
  description: How many of each kind the run added or restored (in check mode, would).
  returned: always
  type: dict
  sample: {roles: 0, groups: 1, clients: 0, identity_providers: 0, users: 1, passwords_restored: 1,
           links_restored: 0}
skipped:
  description: What Keycloak's partialImport skipped as existing (made between the read and the import).
  returned: success
  type: int
  sample: 0
msg:
  description: Why the module failed - every problem of the options, or Keycloak's refusal.
  returned: failure
  type: str
"""

import json

from ansible_collections.nebari.platform.plugins.module_utils.keycloak import realm_import
from ansible_collections.nebari.platform.plugins.module_utils.keycloak.client import (
    KeycloakError,
    client_from_module,
    keycloak_module,
)


def main():
    module = keycloak_module(dict(
        realm=dict(type="str", required=True),
        export=dict(type="json", required=True, no_log=True),
        parts=dict(type="list", elements="str", choices=list(realm_import.PARTS), default=list(realm_import.PARTS)),
        workers=dict(type="int", default=4),
    ))
    params = module.params
    try:
        export = json.loads(params["export"])
    except ValueError as exc:
        module.fail_json(msg="export: not JSON (%s)" % exc.__class__.__name__)
    errors = realm_import.validate(params["realm"], export, params["parts"])
    if errors:
        module.fail_json(msg="; ".join(errors))
    try:
        client = client_from_module(module)
        live = realm_import.read_live(client, params["realm"], export, params["workers"])
        missing, repairs, changes = realm_import.plan(export, live, params["parts"])
        counts = realm_import.counts(missing, repairs)
        result = dict(changed=bool(changes), changes=changes, counts=counts, skipped=0)
        if module._diff:
            result["diff"] = dict(before="", after="".join(line + "\n" for line in changes))
        if changes and not module.check_mode:
            applied = realm_import.apply(client, params["realm"], missing, repairs, params["workers"])
            result["skipped"] = applied["skipped"]
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    except KeycloakError as exc:
        module.fail_json(msg=exc.message, status=exc.status)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
