# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a restore checks before it changes anything, and what it adds: pure functions over a backup."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError


def backup_file_problems(results):
    """One line per file of a backup's manifest that is missing, of another size or another SHA-256, from the
    results of ansible.builtin.stat looped over the manifest's files (get_checksum, checksum_algorithm sha256)."""
    problems = []
    for result in results or []:
        entry, stat = result.get("item") or {}, result.get("stat") or {}
        path = entry.get("path", "?")
        if result.get("failed") or not stat.get("exists"):
            problems.append("%s: missing" % path)
        elif stat.get("size") != entry.get("bytes"):
            problems.append("%s: %s bytes, the manifest says %s (truncated?)" % (path, stat.get("size"), entry.get("bytes")))
        elif stat.get("checksum") != entry.get("sha256"):
            problems.append("%s: its SHA-256 is not the manifest's (changed or corrupt)" % path)
    return problems


def environments_missing(environments, present):
    """The environments of a backup (nebari_environments entries) that conda-store does not hold, given what
    nebari.platform.conda_store_export returned (its environments and left_out, each with namespace and name)."""
    if not isinstance(present, dict):
        raise AnsibleFilterError("environments_missing: give conda_store_export's result")
    have = set((e["namespace"], e["name"]) for e in (present.get("environments") or []) + (present.get("left_out") or []))
    return [e for e in environments or [] if (e["namespace"], e["name"]) not in have]


class FilterModule:
    def filters(self):
        return {"backup_file_problems": backup_file_problems, "environments_missing": environments_missing}
