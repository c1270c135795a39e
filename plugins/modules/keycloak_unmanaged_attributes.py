#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: keycloak_unmanaged_attributes
short_description: Set a realm's policy for user attributes its user profile does not declare
version_added: 0.1.0
description:
  - Keycloak 24 and later drop user attributes that the realm's user profile does not declare, unless the realm's
    unmanaged attribute policy allows them. Nebari needs them (the C(nebari-platform-managed) marker of
    M(nebari.platform.keycloak_users), C(jupyterlab_profiles)).
  - Changes only that one setting of the user profile and keeps its attribute definitions as they are.
    M(community.general.keycloak_userprofile) would need the whole profile restated to change it.
author:
  - nebari.platform maintainers (@nebari-dev)
options:
  realm:
    description: The realm.
    type: str
    required: true
  policy:
    description:
      - C(ADMIN_EDIT) - administrators read and write them, users do not see them (the collection's choice, so no
        user can remove their own managed marker).
      - C(ENABLED) - users may read and write them too; C(ADMIN_VIEW) - administrators may only read them;
        C(DISABLED) - they are dropped.
    type: str
    choices: [ENABLED, ADMIN_EDIT, ADMIN_VIEW, DISABLED]
    default: ADMIN_EDIT
extends_documentation_fragment:
  - nebari.platform.keycloak
  - nebari.platform.http_options
attributes:
  check_mode:
    support: full
    description: Reports whether it would change the policy.
  diff_mode:
    support: full
    description: The policy before and after.
  platform:
    support: full
    platforms: all
    description: Talks to Keycloak's admin REST API from where it runs.
"""

EXAMPLES = r"""
- name: Let administrators keep unmanaged attributes on Nebari's users
  nebari.platform.keycloak_unmanaged_attributes:
    auth_keycloak_url: https://nebari.example.com/auth
    auth_username: admin
    auth_password: "{{ vault_keycloak_admin_password }}"
    realm: nebari
    policy: ADMIN_EDIT
"""

RETURN = r"""
policy:
  description: The policy now in force.
  returned: always
  type: str
  sample: ADMIN_EDIT
previous:
  description: The policy before the run (DISABLED when none was set).
  returned: always
  type: str
  sample: DISABLED
"""

from ansible_collections.nebari.platform.plugins.module_utils.keycloak.client import (
    KeycloakError,
    client_from_module,
    keycloak_module,
)


def main():
    module = keycloak_module(dict(
        realm=dict(type="str", required=True),
        policy=dict(type="str", choices=["ENABLED", "ADMIN_EDIT", "ADMIN_VIEW", "DISABLED"], default="ADMIN_EDIT"),
    ))
    realm, wanted = module.params["realm"], module.params["policy"]
    try:
        client = client_from_module(module)
        path = client.realm_path(realm, "users", "profile")
        profile = client.get(path)
        previous = profile.get("unmanagedAttributePolicy") or "DISABLED"
        changed = previous != wanted
        if changed and not module.check_mode:
            if wanted == "DISABLED":
                profile.pop("unmanagedAttributePolicy", None)
            else:
                profile["unmanagedAttributePolicy"] = wanted
            client.request("PUT", path, profile)
    except KeycloakError as exc:
        module.fail_json(msg=exc.message, status=exc.status)
    result = dict(changed=changed, policy=wanted, previous=previous)
    if module._diff:
        result["diff"] = dict(before={"unmanagedAttributePolicy": previous}, after={"unmanagedAttributePolicy": wanted})
    module.exit_json(**result)


if __name__ == "__main__":
    main()
