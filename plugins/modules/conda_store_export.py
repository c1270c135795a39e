#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: conda_store_export
short_description: Every conda-store environment as nebari_environments entries
version_added: 0.1.0
description:
  - Reads the namespaces and environments of conda-store and the specification of each environment's current build,
    and returns them in the form of the inventory's C(nebari_environments), ready to paste into it.
  - Used by the C(nebari.platform.backup) playbook; also a way to take environments made in conda-store's UI into the
    inventory.
  - Changes nothing.
author:
  - nebari.platform maintainers (@nebari-dev)
options:
  namespaces:
    description: Read only these namespaces (each must exist); all of them when empty.
    type: list
    elements: str
    default: []
  workers:
    description: How many requests run side by side.
    type: int
    default: 4
extends_documentation_fragment:
  - nebari.platform.conda_store
  - nebari.platform.http_options
attributes:
  check_mode:
    support: full
    description: Reads as in a normal run; it never changes anything.
  diff_mode:
    support: none
    description: It changes nothing, so there is nothing to show.
  platform:
    support: full
    platforms: all
    description: Talks to conda-store's REST API from where it runs.
"""

EXAMPLES = r"""
- name: Read every environment
  nebari.platform.conda_store_export:
    conda_store_url: https://nebari.example.com/conda-store
    conda_store_token: "{{ vault_conda_store_service_token }}"
  register: conda_store

- name: Write them as inventory
  ansible.builtin.copy:
    content: "{{ {'nebari_environments': conda_store.environments} | ansible.builtin.to_nice_yaml(indent=2) }}"
    dest: inventories/my-site/group_vars/all/environments.yml
    mode: "0644"
  delegate_to: localhost
"""

RETURN = r"""
environments:
  description: One C(nebari_environments) entry per environment that has a build, in namespace then name order.
  returned: always
  type: list
  elements: dict
  sample:
    - namespace: global
      name: data-science
      channels: [conda-forge]
      dependencies: [python=3.12, pandas, ipykernel]
      description: Shared data-science environment
builds:
  description: The current build of each environment in RV(environments).
  returned: always
  type: list
  elements: dict
  sample: [{namespace: global, name: data-science, build_id: 12, status: COMPLETED}]
left_out:
  description: Environments left out, and why (no build yet).
  returned: always
  type: list
  elements: dict
  sample: [{namespace: analysts, name: draft, reason: no build yet}]
namespaces:
  description: The namespaces read.
  returned: always
  type: list
  elements: str
  sample: [analysts, global]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nebari.platform.plugins.module_utils.conda_store.client import (
    CondaStoreClient,
    CondaStoreError,
)
from ansible_collections.nebari.platform.plugins.module_utils.conda_store.export import export


def main():
    argument_spec = CondaStoreClient.argument_spec()
    argument_spec.update(
        namespaces=dict(type="list", elements="str", default=[]),
        workers=dict(type="int", default=4),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if module.params["workers"] < 1:
        module.fail_json(msg="workers must be 1 or more, not %s" % module.params["workers"])
    try:
        result = export(CondaStoreClient.from_module(module), module.params["namespaces"], module.params["workers"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    except CondaStoreError as exc:
        module.fail_json(msg=exc.message, status=exc.status)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
