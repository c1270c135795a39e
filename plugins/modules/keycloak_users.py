#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: keycloak_users
short_description: Reconcile a whole list of Keycloak users in one run
version_added: 0.1.0
description:
  - Makes the users of a Keycloak realm match a list, in one login and a few requests per changed user.
  - Creates missing users with their groups in one request (a user never exists without them), with an optional
    initial password that is temporary and set only at creation.
  - Updates changed fields (e-mail, names, enabled, e-mail verified, the attributes given) and sets group
    membership exactly, adding and removing.
  - Users it manages carry the attribute C(nebari-platform-managed=true). Users without it are never changed,
    disabled or removed, except a user the list names while O(adopt=true), which it takes over.
  - O(absent) removes listed managed users. O(prune) disables, never deletes, managed users missing from the list.
  - Usernames and e-mail addresses are compared in lower case, as Keycloak stores them.
author:
  - nebari.platform maintainers (@nebari-dev)
options:
  realm:
    description: Realm of the users.
    type: str
    required: true
  users:
    description: The users the realm must hold.
    type: list
    elements: dict
    default: []
    suboptions:
      username:
        description: Username (stored in lower case by Keycloak).
        type: str
        required: true
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
          - Group names or paths the user is in, exactly. Every group must exist in the realm.
          - When not given, an existing user's groups are left as they are and a new user gets the realm's default
            groups.
        type: list
        elements: str
      attributes:
        description: Attributes to set (name to value or list of values); other attributes are left alone.
        type: dict
        default: {}
      password:
        description: Initial password, set only when the user is created, and temporary (changed at first login).
        type: str
  absent:
    description: Usernames to remove. Only users managed by this collection are removed.
    type: list
    elements: str
    default: []
  prune:
    description: Disable (never delete) managed users that are not in O(users) nor in O(absent).
    type: bool
    default: false
  adopt:
    description: Take over a user O(users) names that exists without the managed attribute.
    type: bool
    default: true
  workers:
    description: Requests in flight at once when applying changes.
    type: int
    default: 4
extends_documentation_fragment:
  - nebari.platform.keycloak
  - nebari.platform.http_options
attributes:
  check_mode:
    support: full
    description: Reports every action it would take and changes nothing.
  diff_mode:
    support: full
    description: Before and after of each changed user; passwords are never shown.
  platform:
    support: full
    platforms: all
    description: Talks to Keycloak's admin REST API from where it runs.
notes:
  - Keycloak 24 and later drop attributes that the realm's user profile does not declare unless the realm allows
    unmanaged attributes; the nebari.platform.keycloak_realm role allows them (C(ADMIN_EDIT)). The module fails
    when the managed attribute does not stick.
"""

EXAMPLES = r"""
- name: Nebari's users
  nebari.platform.keycloak_users:
    auth_keycloak_url: https://nebari.example.com/auth
    auth_username: admin
    auth_password: "{{ vault_keycloak_admin_password }}"
    realm: nebari
    users:
      - {username: alia, email: alia@example.com, first_name: Alia, groups: [analyst, ml-team]}
      - {username: blake, email: blake@example.com, groups: [developer], enabled: false}
      - username: casey
        email: casey@example.com
        groups: [users]
        password: "{{ vault_casey_initial_password }}"
    absent: [old-intern]
    prune: false
  register: users

- name: What changed
  ansible.builtin.debug:
    msg: "{{ users.summary }}"
"""

RETURN = r"""
users:
  description:
    - One entry per user that changed, was skipped or failed, in the order of the list, then removals, then prunes.
    - Unchanged users are only counted, in RV(summary); past 20 failed users (Keycloak out of reach in the middle
      of a large run, say), only the first 20 are listed, and RV(failed_users) names them all.
  returned: always
  type: list
  elements: dict
  contains:
    username:
      description: The user.
      type: str
    action:
      description:
        - created, updated, disabled, removed, unchanged, skipped or failed.
        - A change that Keycloak refused, or that was carried out only in part, is failed, never what was planned.
      type: str
    planned:
      description: For a user whose change failed while being applied, the action that was planned.
      type: str
    changes:
      description: For updated users, the fields that changed.
      type: list
      elements: str
    join:
      description: Groups the user was added to.
      type: list
      elements: str
    leave:
      description: Groups the user was removed from.
      type: list
      elements: str
    msg:
      description: Why a user was skipped or failed.
      type: str
  sample:
    - {username: alia, action: created}
    - {username: blake, action: updated, changes: [enabled], join: [], leave: []}
failed_users:
  description:
    - The users that could not be reconciled. The failure's message lists each with its reason, or past 20, the
      reasons with how many users each and the first of their names.
  returned: when a user failed
  type: list
  elements: str
  sample: [blake, casey]
summary:
  description:
    - How many users each action concerned, as carried out; after a failure, only what was done before it is
      counted as created, updated, disabled or removed, the rest as failed.
  returned: always
  type: dict
  sample: {created: 1, updated: 1, unchanged: 998}
"""

from ansible_collections.nebari.platform.plugins.module_utils.keycloak.client import (
    KeycloakError,
    client_from_module,
    keycloak_module,
)
from ansible_collections.nebari.platform.plugins.module_utils.keycloak.reconcile import reconcile_users
from ansible_collections.nebari.platform.plugins.module_utils.keycloak.users import user_argument_spec


def main():
    module = keycloak_module(dict(
        realm=dict(type="str", required=True),
        users=dict(type="list", elements="dict", default=[], options=user_argument_spec()),
        absent=dict(type="list", elements="str", default=[]),
        prune=dict(type="bool", default=False),
        adopt=dict(type="bool", default=True),
        workers=dict(type="int", default=4),
    ))
    params = module.params
    try:
        client = client_from_module(module)
        result = reconcile_users(client, params["realm"], params["users"], absent=params["absent"],
                                 prune=params["prune"], adopt=params["adopt"], workers=params["workers"],
                                 check_mode=module.check_mode, diff=module._diff)
    except KeycloakError as exc:
        module.fail_json(msg=exc.message, status=exc.status)
    if result.get("failed"):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
