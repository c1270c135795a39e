# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight check that every nebari_* variable of the inventory is one the collection knows.

A typo (nebari_user: for nebari_users:) is otherwise silently ignored and the default used. The known names are
read from the collection's own files, so they never fall behind: the top-level keys of every role's
defaults/main.yml and vars/main.yml (with the commented-out ones, which document inventory-only variables such as
secrets), the options of every role's meta/argument_specs.yml, the variables the checks read, and what the roles
and playbooks set or read themselves (set_fact and vars keys, register and loop_var names, "nebari_x | default").
An unknown name is a warning naming the closest known variable; with nebari_strict: true it is a problem.
"""

from __future__ import annotations

import difflib
import glob
import os
import re

VARIABLES = ("nebari_strict",)
PREFIX = "nebari_"

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DEFAULTS_KEY = re.compile(r"^#? ?(nebari_\w+):", re.M)  # top-level key, or one documented in a comment
ANY_KEY = re.compile(r"^\s*(nebari_\w+):", re.M)  # argument_specs options; set_fact and vars keys in tasks
USED = re.compile(r"\b(?:register|loop_var):\s*(nebari_\w+)|\b(nebari_\w+)\s*\|\s*default\b")

_KNOWN = []


def known_names(root=ROOT):
    """The nebari_* variables the collection declares, sets or reads (read once from its files)."""
    if _KNOWN:
        return _KNOWN[0]
    names = set()
    for pattern, regex in ((("roles/*/defaults/main.yml", "roles/*/vars/main.yml"), DEFAULTS_KEY),
                           (("roles/*/meta/argument_specs.yml", "roles/*/tasks/*.yml", "playbooks/*.yml"), ANY_KEY),
                           (("roles/*/tasks/*.yml", "roles/*/templates/**/*.j2", "playbooks/*.yml"), USED)):
        for path in sorted(set(p for glob_pattern in pattern
                               for p in glob.glob(os.path.join(root, glob_pattern), recursive=True))):
            with open(path, encoding="utf-8") as f:
                for match in regex.finditer(f.read()):
                    names.update(name for name in match.groups() if name)
    _KNOWN.append(frozenset(names))
    return _KNOWN[0]


def check(inv, problems, read=()):
    """read: the variables the other checks read (known too, though some are in no role file)."""
    strict = inv.get("nebari_strict", False)
    if not problems.expect_type("nebari_strict", strict, bool, "true or false"):
        strict = False
    known = known_names() | set(read)
    for name in sorted(inv.names):
        if not name.startswith(PREFIX) or name in known:
            continue
        # compared without the shared prefix, which would make every name look close
        close = difflib.get_close_matches(name[len(PREFIX):], sorted(k[len(PREFIX):] for k in known
                                                                     if k.startswith(PREFIX)), n=1)
        message = "is not a variable of nebari.platform%s; it is ignored%s" % (
            " (did you mean %s%s?)" % (PREFIX, close[0]) if close else "",
            "" if strict else " (nebari_strict: true makes this a failure)")
        (problems.add if strict else problems.warn)(name, message)
