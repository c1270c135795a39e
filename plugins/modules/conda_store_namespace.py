#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: conda_store_namespace
short_description: A conda-store namespace, present or absent
version_added: 0.1.0
description:
  - Creates a namespace, or deletes one.
  - Deleting a namespace deletes its environments and their builds, so O(state=absent) refuses while the namespace
    holds environments, naming them, unless O(force=true).
author:
  - nebari.platform maintainers (@nebari-dev)
options:
  name:
    description: The namespace.
    type: str
    required: true
  state:
    description: Whether the namespace exists.
    type: str
    choices: [present, absent]
    default: present
  force:
    description: With O(state=absent), delete the namespace even though it holds environments (they go with it).
    type: bool
    default: false
extends_documentation_fragment:
  - nebari.platform.conda_store
  - nebari.platform.http_options
attributes:
  check_mode:
    support: full
    description: Reports what it would do and changes nothing.
  diff_mode:
    support: full
    description: The namespace and its environments before, and after.
  platform:
    support: full
    platforms: all
    description: Talks to conda-store's REST API from where it runs.
"""

EXAMPLES = r"""
- name: A namespace for the ML team
  nebari.platform.conda_store_namespace:
    conda_store_url: https://nebari.example.com/conda-store
    conda_store_token: "{{ vault_conda_store_service_token }}"
    name: ml-team

- name: Remove an empty namespace (fails, naming them, while it holds environments)
  nebari.platform.conda_store_namespace:
    conda_store_url: https://nebari.example.com/conda-store
    conda_store_token: "{{ vault_conda_store_service_token }}"
    name: old-team
    state: absent
"""

RETURN = r"""
environments:
  description: The environments the namespace held before the run (deleted with it when O(force=true)).
  returned: always
  type: list
  elements: str
  sample: [data-science, torch-gpu]
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nebari.platform.plugins.module_utils.conda_store.client import (
    CondaStoreClient,
    CondaStoreError,
)
from ansible_collections.nebari.platform.plugins.module_utils.conda_store.spec import NAME

# a namespace deleted a moment ago is only marked deleted until conda-store's worker removes it; until then it
# cannot be created again (409)
RECREATE_WAIT = 60


def main():
    argument_spec = CondaStoreClient.argument_spec()
    argument_spec.update(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        force=dict(type="bool", default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    name, state = module.params["name"], module.params["state"]
    if not NAME.match(name):
        module.fail_json(msg="name %r has characters conda-store refuses (allowed: letters, digits and "
                             "- + _ @ $ & ? ^ ~ . =)" % name)
    try:
        client = CondaStoreClient.from_module(module)
        exists = name in client.namespaces()
        environments = sorted(env["name"] for env in client.environments(name)) if exists else []
        result = dict(changed=False, environments=environments)
        if module._diff:
            result["diff"] = dict(before={"namespace": name, "environments": environments} if exists else {},
                                  after={"namespace": name, "environments": environments} if state == "present" else {})
        if state == "present" and not exists:
            result["changed"] = True
            if not module.check_mode:
                create(client, name)
        elif state == "absent" and exists:
            if environments and not module.params["force"]:
                module.fail_json(msg="namespace %s holds %d environments (%s): delete them first, or set force: true "
                                     "to delete them with it" % (name, len(environments), ", ".join(environments)),
                                 environments=environments)
            result["changed"] = True
            if not module.check_mode:
                client.delete_namespace(name)
    except CondaStoreError as exc:
        module.fail_json(msg=exc.message, status=exc.status)
    module.exit_json(**result)


def create(client, name):
    deadline = time.monotonic() + RECREATE_WAIT
    while True:
        try:
            return client.create_namespace(name)
        except CondaStoreError as exc:
            if exc.status != 409 or time.monotonic() > deadline:
                raise
            time.sleep(2)


if __name__ == "__main__":
    main()
