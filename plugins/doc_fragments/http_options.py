# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The HTTP options every API module of the collection takes (plugins/module_utils/http.py).
    DOCUMENTATION = r"""
options:
  validate_certs:
    description: Verify the service's TLS certificate.
    type: bool
    default: true
  ca_path:
    description: CA bundle to verify the service's certificate with.
    type: path
  http_timeout:
    description: Seconds to wait for each answer.
    type: int
    default: 30
  http_retries:
    description:
      - Retries of a request that got no answer or a 5xx answer, with exponential backoff from 0.5 s.
    type: int
    default: 5
"""
