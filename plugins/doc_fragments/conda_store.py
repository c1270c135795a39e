# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  conda_store_url:
    description:
      - conda-store's base URL, with the prefix it is served under (C(https://nebari.example.com/conda-store) in
        Nebari, C(http://127.0.0.1:18181/conda-store) in the test bed).
    type: str
    required: true
  conda_store_token:
    description:
      - A conda-store API token. In a deployed Nebari, the service token the stack layer provisions with C(admin)
        on C(*/*); in the test bed, the standalone server's predefined admin token.
    type: str
    required: true
"""

    ENVIRONMENT = r"""
options:
  rebuild_failed:
    description:
      - Submit the specification again when it is unchanged but the environment's newest build failed or was
        canceled. Off by default, so a run does not queue a new build of a broken specification every time; the
        module warns about such environments instead.
    type: bool
    default: false
  wait:
    description:
      - Wait for the builds this run submits to finish. A build that fails or is canceled fails its environment,
        with the build id and the tail of its log; the other environments still reconcile.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait for the builds in all, with O(wait=true). The builds of unchanged environments that are
        still QUEUED or BUILDING are waited for too (they do not count as a change).
    type: int
    default: 1800
  stale_build_timeout:
    description:
      - Seconds after which an environment's newest build that is still QUEUED (since it was scheduled) or BUILDING
        (since it started) is taken as lost, as when a worker was killed with the build in its hands. Such a build
        is cancelled where conda-store's broker allows it and the specification is submitted again (action
        C(rebuilt), with a warning naming the old build). C(0) never does.
    type: int
    default: 3600
notes:
  - A specification is compared with the one stored with the environment's newest build, after completing it as
    conda-store does (default channels and packages, included packages). The order of channels and dependencies
    never counts as a change.
  - conda-store builds environments asynchronously; without O(wait) the module returns once the builds are queued.
"""
