#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: keycloak_user
short_description: One Keycloak user, exactly as given
version_added: 0.1.0
description:
  - The single-user form of M(nebari.platform.keycloak_users), with the same code and guarantees - group
    membership set exactly, initial password temporary and only at creation, users not managed by this collection
    left alone unless O(adopt=true) and named here.
  - To reconcile many users, use M(nebari.platform.keycloak_users), which reads the realm once for all of them.
author:
  - nebari.platform maintainers (@nebari-dev)
options:
  realm:
    description: Realm of the user.
    type: str
    required: true
  username:
    description: Username (stored in lower case by Keycloak).
    type: str
    required: true
  state:
    description: C(present) creates or updates the user; C(absent) removes it if this collection manages it.
    type: str
    choices: [present, absent]
    default: present
  email:
    description: E-mail address; left as it is when not given.
    type: str
  first_name:
    description: First name; left as it is when not given.
    type: str
  last_name:
    description: Last name; left as it is when not given.
    type: str
  enabled:
    description: Whether the user can log in.
    type: bool
    default: true
  email_verified:
    description: Whether the e-mail address counts as verified; left as it is when not given.
    type: bool
  groups:
    description:
      - Group names or paths the user is in, exactly.
      - When not given, an existing user's groups are left as they are and a new user gets the realm's default
        groups.
    type: list
    elements: str
  attributes:
    description: Attributes to set; other attributes are left alone.
    type: dict
    default: {}
  password:
    description: Initial password, set only at creation, temporary.
    type: str
  adopt:
    description: Take over the user if it exists without the managed attribute.
    type: bool
    default: true
extends_documentation_fragment:
  - nebari.platform.keycloak
  - nebari.platform.http_options
attributes:
  check_mode:
    support: full
    description: Reports what it would do and changes nothing.
  diff_mode:
    support: full
    description: Before and after of the user; the password is never shown.
  platform:
    support: full
    platforms: all
    description: Talks to Keycloak's admin REST API from where it runs.
"""

EXAMPLES = r"""
- name: Add one user
  nebari.platform.keycloak_user:
    auth_keycloak_url: https://nebari.example.com/auth
    auth_username: admin
    auth_password: "{{ vault_keycloak_admin_password }}"
    realm: nebari
    username: alia
    email: alia@example.com
    groups: [analyst]
"""

RETURN = r"""
user_action:
  description: What was done to the user - created, updated, removed, unchanged or skipped.
  returned: always
  type: str
  sample: created
user:
  description: The user's entry, as M(nebari.platform.keycloak_users) reports it.
  returned: always
  type: dict
  sample: {username: alia, action: updated, changes: [email], join: [/analyst], leave: []}
"""

from ansible_collections.nebari.platform.plugins.module_utils.keycloak.client import (
    KeycloakError,
    client_from_module,
    keycloak_module,
)
from ansible_collections.nebari.platform.plugins.module_utils.keycloak.reconcile import reconcile_users
from ansible_collections.nebari.platform.plugins.module_utils.keycloak.users import user_argument_spec


def main():
    user_spec = user_argument_spec()
    module = keycloak_module(dict(
        user_spec,
        realm=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        adopt=dict(type="bool", default=True),
    ))
    params = module.params
    present = params["state"] == "present"
    user = dict((key, params[key]) for key in user_spec)
    try:
        result = reconcile_users(client_from_module(module), params["realm"], [user] if present else [],
                                 absent=[] if present else [params["username"]], adopt=params["adopt"], workers=1,
                                 check_mode=module.check_mode, diff=module._diff)
    except KeycloakError as exc:
        module.fail_json(msg=exc.message, status=exc.status)
    entry = result["users"][0] if result["users"] else {"username": params["username"].lower(),
                                                        "action": "unchanged"}
    result.update(user_action=entry["action"], user=entry)
    del result["users"]
    if result.get("failed"):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
