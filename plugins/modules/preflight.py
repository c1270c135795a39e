#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: preflight
short_description: Validate a Nebari inventory before anything changes
version_added: 0.1.0
description:
  - Reads the inventory contract variables of nebari.platform (provider, domain, namespace, TLS, node groups,
    users and groups, component overrides, secrets) on the controller and checks them all.
  - Lists every problem in one failure, each naming the variable and the entry within it. Changes nothing.
  - Secret variables (for example C(nebari_keycloak_admin_password), C(k3s_token), a user's C(password)) must
    reference a vault variable or be inline-vaulted; a literal string or number is reported, without printing it.
  - A C(nebari_*) variable the collection does not know (a typo) is a warning naming the closest known variable,
    and a problem when C(nebari_strict) is true.
  - Runs as an action plugin on the controller; it needs no connection to any host.
author:
  - nebari.platform maintainers (@nebari-dev)
options:
  skip_variables:
    description:
      - Inventory variables to leave out of the checks, for example while a layer is not in use.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    description: Runs the same in check mode; it never changes anything.
  diff_mode:
    support: none
    description: Nothing to diff.
  platform:
    support: full
    platforms: all
    description: Runs on the controller only.
notes:
  - The checks live in C(plugins/plugin_utils/preflight/), one module per area of the inventory.
"""

EXAMPLES = r"""
- name: Validate the inventory
  nebari.platform.preflight:

- name: Validate everything but the user list
  nebari.platform.preflight:
    skip_variables: [nebari_users]
"""

RETURN = r"""
problems:
  description: Every problem found, in the order the checks found them.
  returned: always
  type: list
  elements: dict
  contains:
    variable:
      description: The inventory variable at fault.
      type: str
      sample: nebari_users
    entry:
      description: Where within the variable, or null for the variable as a whole.
      type: str
      sample: "[3] (alia)"
    message:
      description: What is wrong and how to fix it.
      type: str
      sample: "duplicate username: same as nebari_users[0] (Alia) (Keycloak compares usernames case-insensitively)"
checked:
  description: The inventory variables that were defined and checked.
  returned: always
  type: list
  elements: str
  sample: [nebari_cluster_provider, nebari_domain]
"""
