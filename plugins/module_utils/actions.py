# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the reconciling modules share (keycloak_users, conda_store_environments): planned actions, their count,
and carrying them out side by side."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor


class Action(dict):
    """One planned change: `action` (its kind) and what it needs to be carried out."""

    @property
    def kind(self):
        return self["action"]


def summary(actions):
    """How many actions of each kind."""
    counts = {}
    for action in actions:
        counts[action.kind] = counts.get(action.kind, 0) + 1
    return counts


def pool_map(workers, function, items):
    """function over items, in up to `workers` threads (in order, one by one when there is one worker or item)."""
    items = list(items)
    if workers > 1 and len(items) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(function, items))
    return [function(item) for item in items]
