#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: conda_store_environments
short_description: Reconcile a list of conda-store environments in one run
version_added: 0.1.0
description:
  - Makes the environments a list names match it, in a few requests per namespace and one per changed environment.
  - Creates missing environments (and the namespaces they imply), submits a new specification only when it really
    differs from the stored one, and deletes the environments listed with O(environments[].state=absent).
  - Environments the list does not name are never read nor touched.
  - Each environment succeeds or fails on its own; the module fails at the end, naming every environment that did
    not reconcile and why (with the build id and the tail of its log for a failed build).
author:
  - nebari.platform maintainers (@nebari-dev)
options:
  environments:
    description: The environments, each as an C(environment.yml) would describe it, plus its namespace.
    type: list
    elements: dict
    default: []
    suboptions:
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
  workers:
    description: Requests in flight at once when reading builds and applying changes.
    type: int
    default: 4
extends_documentation_fragment:
  - nebari.platform.conda_store
  - nebari.platform.http_options
  - nebari.platform.conda_store.ENVIRONMENT
attributes:
  check_mode:
    support: full
    description: Reports every action it would take and submits nothing.
  diff_mode:
    support: full
    description: Before and after of the specification of each changed environment.
  platform:
    support: full
    platforms: all
    description: Talks to conda-store's REST API from where it runs.
"""

EXAMPLES = r"""
- name: Shared environments
  nebari.platform.conda_store_environments:
    conda_store_url: https://nebari.example.com/conda-store
    conda_store_token: "{{ vault_conda_store_service_token }}"
    environments:
      - namespace: global
        name: data-science
        channels: [conda-forge]
        dependencies: [python=3.12, pandas, scikit-learn, {pip: [nebari-extras==1.0]}]
      - namespace: ml-team
        name: torch-gpu
        dependencies: [python=3.12, pytorch]
        variables: {CUDA_MODULE_LOADING: LAZY}
      - {namespace: ml-team, name: old-experiment, state: absent}
  register: envs

- name: What changed
  ansible.builtin.debug:
    msg: "{{ envs.summary }}"
"""

RETURN = r"""
environments:
  description: One entry per environment of the list, in its order.
  returned: always
  type: list
  elements: dict
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
      description: For updated environments, what differs (channels, conda, pip, variables, description).
      type: list
      elements: str
    build_id:
      description: The build this run submitted, or the newest build of an unchanged environment.
      type: int
    build_status:
      description: Status of that build (QUEUED, BUILDING, COMPLETED, FAILED, CANCELED).
      type: str
    previous_build_id:
      description: For updated and rebuilt environments, the newest build before this run.
      type: int
    previous_build_status:
      description: For updated and rebuilt environments, the status of that build.
      type: str
    stale_for:
      description: For an environment rebuilt because its newest build was stuck, how many seconds it had been
        QUEUED or BUILDING (see O(stale_build_timeout)).
      type: float
    failed:
      description: Present and true when this environment did not reconcile.
      type: bool
    msg:
      description: Why it did not.
      type: str
    log_tail:
      description: The last lines of the log of a build that failed.
      type: str
  sample:
    - {namespace: global, name: data-science, action: created, build_id: 12, build_status: QUEUED}
    - {namespace: ml-team, name: torch-gpu, action: updated, changes: [conda], build_id: 13, build_status: COMPLETED,
       previous_build_id: 9}
namespaces_created:
  description: Namespaces that did not exist and that the new environments created.
  returned: always
  type: list
  elements: str
summary:
  description: How many environments each action concerned.
  returned: always
  type: dict
  sample: {created: 1, updated: 1, unchanged: 198}
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
    argument_spec.update(environment_options())
    argument_spec.update(
        environments=dict(type="list", elements="dict", default=[], options=environment_argument_spec()),
        workers=dict(type="int", default=4),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        result = run(module, CondaStoreClient.from_module(module), module.params["environments"])
    except CondaStoreError as exc:
        module.fail_json(msg=exc.message, status=exc.status)
    if result.get("failed"):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
