#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: conda_store_environment
short_description: One conda-store environment from a specification
version_added: 0.1.0
description:
  - Creates the environment (and its namespace), submits a new specification only when it really differs from the
    stored one, or deletes it with O(state=absent).
  - The same code as M(nebari.platform.conda_store_environments), for one environment; use that module for many.
author:
  - nebari.platform maintainers (@nebari-dev)
options:
  namespace:
    description: Namespace of the environment; created when missing.
    type: str
    required: true
  name:
    description: Name of the environment.
    type: str
    required: true
  channels:
    description: Conda channels (names or URLs). Empty takes conda-store's default channels.
    type: list
    elements: str
    default: []
  dependencies:
    description:
      - "Conda package specs (C(python=3.12), C(conda-forge::numpy>=2)) and at most one C({pip: [requirements]})."
    type: list
    elements: raw
    default: []
  variables:
    description: Environment variables set when the environment is activated.
    type: dict
    default: {}
  description:
    description: Description shown in conda-store.
    type: str
    default: ""
  state:
    description: C(absent) deletes the environment (its builds go with it).
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - nebari.platform.conda_store
  - nebari.platform.http_options
  - nebari.platform.conda_store.ENVIRONMENT
attributes:
  check_mode:
    support: full
    description: Reports what it would do and submits nothing.
  diff_mode:
    support: full
    description: Before and after of the specification.
  platform:
    support: full
    platforms: all
    description: Talks to conda-store's REST API from where it runs.
"""

EXAMPLES = r"""
- name: The team's GPU environment, waiting for its build
  nebari.platform.conda_store_environment:
    conda_store_url: https://nebari.example.com/conda-store
    conda_store_token: "{{ vault_conda_store_service_token }}"
    namespace: ml-team
    name: torch-gpu
    channels: [pytorch, conda-forge]
    dependencies:
      - python=3.12
      - pytorch=2.5
      - pip: [lightning==2.4.0]
    wait: true
    wait_timeout: 3600

- name: Retire an environment
  nebari.platform.conda_store_environment:
    conda_store_url: https://nebari.example.com/conda-store
    conda_store_token: "{{ vault_conda_store_service_token }}"
    namespace: ml-team
    name: old-experiment
    state: absent
"""

RETURN = r"""
environment:
  description: What happened to the environment.
  returned: always
  type: dict
  contains:
    namespace:
      description: Namespace of the environment.
      type: str
    name:
      description: Name of the environment.
      type: str
    action:
      description: created, updated, rebuilt, deleted or unchanged.
      type: str
    changes:
      description: When updated, what differs (channels, conda, pip, variables, description).
      type: list
      elements: str
    build_id:
      description: The build this run submitted, or the newest build when unchanged.
      type: int
    build_status:
      description: Status of that build (QUEUED, BUILDING, COMPLETED, FAILED, CANCELED).
      type: str
    previous_build_id:
      description: When updated or rebuilt, the newest build before this run.
      type: int
    previous_build_status:
      description: When updated or rebuilt, the status of that build.
      type: str
    stale_for:
      description: When rebuilt because the newest build was stuck, how many seconds it had been QUEUED or BUILDING
        (see O(stale_build_timeout)).
      type: float
    log_tail:
      description: The last lines of the log of a build that failed.
      type: str
  sample: {namespace: ml-team, name: torch-gpu, action: updated, changes: [conda], build_id: 13,
           build_status: COMPLETED, previous_build_id: 9}
namespace_created:
  description: Whether the environment's namespace was created.
  returned: always
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nebari.platform.plugins.module_utils.conda_store.client import (
    CondaStoreClient,
    CondaStoreError,
)
from ansible_collections.nebari.platform.plugins.module_utils.conda_store.module import environment_options, run
from ansible_collections.nebari.platform.plugins.module_utils.conda_store.spec import environment_argument_spec


def main():
    argument_spec = CondaStoreClient.argument_spec()
    options = environment_argument_spec()
    argument_spec.update(options)
    argument_spec.update(environment_options())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    environment = dict((key, module.params[key]) for key in options)
    try:
        result = run(module, CondaStoreClient.from_module(module), [environment])
    except CondaStoreError as exc:
        module.fail_json(msg=exc.message, status=exc.status)
    result["environment"] = result.pop("environments")[0]
    result["namespace_created"] = bool(result.pop("namespaces_created"))
    result.pop("summary", None)
    if result.get("failed"):
        result["msg"] = result["environment"].get("msg") or result.get("msg")
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
