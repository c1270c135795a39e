# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offboarding in JupyterHub: users who lost access keep no running server and no token.

plan() reads the hub and says, per user, which servers would be stopped and which tokens revoked (check mode and the
diff come from it); apply() does it, and stops at the first error with what was done until then.
"""

from __future__ import annotations


def plan(client, usernames):
    """[{username, servers: [names], tokens: [{id, note}]}] for each user the hub knows who has something to take."""
    found = []
    for username in sorted(set(usernames)):
        model = client.user(username)
        if model is None:  # never logged in
            continue
        servers = sorted((model.get("servers") or {}).keys())
        tokens = [{"id": t["id"], "note": t.get("note") or ""} for t in client.tokens(username)]
        if servers or tokens:
            found.append({"username": username, "servers": servers, "tokens": tokens})
    return found


def apply(client, planned):
    """Stop the servers and revoke the tokens of the plan; return (done, error): what was done, user by user, and
    the error that stopped it (None when all was done)."""
    done = []
    for entry in planned:
        record = {"username": entry["username"], "servers": [], "tokens": []}
        done.append(record)
        try:
            for server in entry["servers"]:
                client.stop_server(entry["username"], server)
                record["servers"].append(server)
            for token in entry["tokens"]:
                client.revoke_token(entry["username"], token["id"])
                record["tokens"].append(token)
        except client.error as exc:
            return done, exc
    return done, None


def diff(planned):
    """Before and after, per user: server names ('' is the default server) and the number of tokens."""
    before = {e["username"]: {"servers": e["servers"], "tokens": len(e["tokens"])} for e in planned}
    after = {e["username"]: {"servers": [], "tokens": 0} for e in planned}
    return {"before": before, "after": after}
