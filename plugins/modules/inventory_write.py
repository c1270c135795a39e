#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: inventory_write
short_description: Write a Nebari inventory directory from the guided init's answers or a Nebari Classic config
version_added: 0.1.0
description:
  - Writes an inventory directory for nebari.platform on the controller - C(hosts.yml), C(group_vars/all/) with
    one file per layer, C(secrets.yml) with references to C(vault.yml), which is encrypted with ansible-vault, a
    C(.gitignore) and a C(README.md).
  - With O(source=init), from the answers of the guided init (C(playbooks/init.yml)). With O(source=classic), from
    a Nebari Classic C(nebari-config.yaml) and optionally its users, plus C(IMPORT-REPORT.md) naming every key
    that has no counterpart and why.
  - Checks everything first - bad answers, a file that is not YAML, an unknown provider, a Classic release older
    than it knows, a profile whose fields contradict each other - and fails naming the key, with nothing written.
  - Secrets it generates (Keycloak admin password, conda-store token, k3s token, the services' client secrets) are
    kept from the existing C(vault.yml) on later runs, so a second run changes nothing. Nothing in C(vault.yml) is
    removed. Files it does not write are never touched.
  - Runs as an action plugin on the controller.
author:
  - nebari.platform maintainers (@nebari-dev)
options:
  dest:
    description: The inventory directory to write.
    type: path
    required: true
  source:
    description: Where the inventory comes from.
    type: str
    required: true
    choices: [init, classic]
  answers:
    description:
      - The init's answers (O(source=init)) - provider, domain, namespace, tls, acme_email, tls_secret, servers,
        agents, ssh_user, api_endpoint, metallb_addresses, cluster, region, profile, project, location,
        resource_group, subscription, kubeconfig, context, gpu_pools, admin_username, admin_email.
      - See C(docs/init.md) for each one.
    type: dict
    default: {}
  classic_config:
    description: Path of the Nebari Classic C(nebari-config.yaml) (O(source=classic)).
    type: path
  classic_users:
    description:
      - Users to import - the JSON C(nebari keycloak export-users) prints, or a CSV with a header row naming
        username, email, first_name, last_name, groups, enabled.
    type: path
  group_separator:
    description: Separator of the group names in the CSV's groups column.
    type: str
    default: ";"
  vault_password_file:
    description:
      - File holding the ansible-vault password C(vault.yml) is encrypted with. Created with a random password
        (mode 0600) when missing; keep it out of git.
    type: path
    required: true
  force:
    description:
      - Write into O(dest) although it exists and is not empty (to update an inventory this wrote before). Only the
        files it writes are changed.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Reports which files would change and writes nothing (not even a missing password file).
  diff_mode:
    support: full
    description: Shows each file's change; for C(vault.yml) only the names of the secrets, never their values.
  platform:
    support: full
    platforms: all
    description: Runs on the controller only.
"""

EXAMPLES = r"""
- name: Write an inventory for a k3s cluster from answers
  nebari.platform.inventory_write:
    dest: inventories/prod
    source: init
    vault_password_file: ~/.nebari-vault-pass
    answers:
      provider: k3s
      domain: nebari.example.com
      servers: [192.168.10.11]
      agents: {user: [192.168.10.21], worker: [192.168.10.31]}
      metallb_addresses: [192.168.10.240-192.168.10.250]

- name: Import a Nebari Classic deployment
  nebari.platform.inventory_write:
    dest: inventories/prod
    source: classic
    classic_config: nebari-config.yaml
    classic_users: users.json
    vault_password_file: ~/.nebari-vault-pass
"""

RETURN = r"""
dest:
  description: The inventory directory.
  returned: always
  type: str
files:
  description: The files written (or, in check mode, that would be), relative to O(dest).
  returned: always
  type: list
  elements: str
  sample: [group_vars/all/nebari.yml, group_vars/all/vault.yml]
unmapped:
  description: Keys of the Classic file with no counterpart, each with the reason (O(source=classic)).
  returned: always
  type: list
  elements: dict
  sample: [{key: ci_cd, reason: "Classic's generated CI pipelines; ..."}]
notes:
  description: What to check after the import or init.
  returned: always
  type: list
  elements: str
password_file_created:
  description: Whether O(vault_password_file) was created with a new random password.
  returned: always
  type: bool
"""
