#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: jupyterhub_offboard
short_description: Users who lost access keep no running JupyterHub server and no token
version_added: 0.1.0
description:
  - For each user given (users who are disabled, absent or pruned in Keycloak), stops every running server of the
    user (the default one and named ones) and revokes every token the hub issued to the user (API tokens and the
    tokens of the user's servers), through the hub's REST API.
  - A user the hub has never seen, or with nothing running and no token, is no change; so a second run changes
    nothing.
  - The hub user and the user's home volume are kept (deleting a hub user deletes the user's volume).
  - The token needs the scopes C(list:users), C(read:users), C(read:servers), C(servers) and C(tokens); the stack
    layer gives them to the hub's service C(nebari-platform), whose token z2jh keeps in the hub's Secret.
author:
  - nebari.platform maintainers (@nebari-dev)
options:
  jupyterhub_url:
    description: The hub's public URL, without C(/hub) (C(https://nebari.example.com)).
    type: str
    required: true
  jupyterhub_token:
    description: An API token of the hub with the scopes above.
    type: str
    required: true
  users:
    description: Usernames of the users who lost access.
    type: list
    elements: str
    required: true
extends_documentation_fragment:
  - nebari.platform.http_options
attributes:
  check_mode:
    support: full
    description: Reports the servers it would stop and the tokens it would revoke, and changes nothing.
  diff_mode:
    support: full
    description: Per user, the running servers and the number of tokens, before and after.
  platform:
    support: full
    platforms: all
    description: Talks to the hub's REST API from where it runs.
"""

EXAMPLES = r"""
- name: Stop the servers and revoke the tokens of users who left
  nebari.platform.jupyterhub_offboard:
    jupyterhub_url: https://nebari.example.com
    jupyterhub_token: "{{ hub_service_token }}"
    users: [blake, casey]
"""

RETURN = r"""
users:
  description: The users something was taken from (or, in check mode, would be), with what was taken.
  returned: always
  type: list
  elements: dict
  sample:
    - {username: blake, servers: [""], tokens: [{id: a4, note: "Server at /user/blake/"}]}
msg:
  description: What was taken from whom, in a sentence.
  returned: always
  type: str
  sample: "blake: 1 server stopped, 1 token revoked"
summary:
  description: How many users, servers and tokens.
  returned: always
  type: dict
  sample: {users: 1, servers: 1, tokens: 1}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nebari.platform.plugins.module_utils.jupyterhub import offboard
from ansible_collections.nebari.platform.plugins.module_utils.jupyterhub.client import (
    JupyterHubClient,
    JupyterHubError,
)


def summary(entries):
    return {"users": len(entries), "servers": sum(len(e["servers"]) for e in entries),
            "tokens": sum(len(e["tokens"]) for e in entries)}


def sentence(entries, check_mode):
    if not entries:
        return "no user who lost access has a running server or a token"
    verbs = ("would be stopped", "would be revoked") if check_mode else ("stopped", "revoked")
    return "; ".join("%s: %d server%s %s, %d token%s %s" % (
        e["username"], len(e["servers"]), "" if len(e["servers"]) == 1 else "s", verbs[0],
        len(e["tokens"]), "" if len(e["tokens"]) == 1 else "s", verbs[1]) for e in entries)


def main():
    argument_spec = JupyterHubClient.argument_spec()
    argument_spec.update(users=dict(type="list", elements="str", required=True))
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        client = JupyterHubClient.from_module(module)
        planned = offboard.plan(client, module.params["users"])
    except JupyterHubError as exc:
        module.fail_json(msg="JupyterHub at %s: %s" % (module.params["jupyterhub_url"], exc.message))
    result = dict(changed=bool(planned), users=planned, summary=summary(planned),
                  msg=sentence(planned, module.check_mode))
    if module._diff:
        result["diff"] = offboard.diff(planned)
    if planned and not module.check_mode:
        done, error = offboard.apply(client, planned)
        done = [entry for entry in done if entry["servers"] or entry["tokens"]]
        result.update(users=done, summary=summary(done), changed=bool(done), msg=sentence(done, False))
        if error is not None:
            result["msg"] = "JupyterHub at %s: %s (done until then: %s)" % (
                module.params["jupyterhub_url"], error.message, summary(done))
            module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
