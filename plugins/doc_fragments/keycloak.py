# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  auth_keycloak_url:
    description:
      - Keycloak's base URL, with the path it is served under (C(https://nebari.example.com/auth) for Nebari).
    type: str
    required: true
  auth_realm:
    description: Realm to log in to.
    type: str
    default: master
  auth_client_id:
    description: Client to log in with.
    type: str
    default: admin-cli
  auth_client_secret:
    description: Secret of O(auth_client_id), for the client-credentials grant (or a confidential client).
    type: str
  auth_username:
    description: Admin user, for the password grant.
    type: str
  auth_password:
    description: Password of O(auth_username).
    type: str
notes:
  - One login per module run; the token is refreshed before it expires and renewed once on a 401 (a restarted
    Keycloak forgets its sessions).
"""
