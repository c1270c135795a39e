# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Templating the inventory's variables for preflight, one at a time, with errors a person can act on.

A literal value that happens to hold Jinja's markers ({#, {{ or {% inside a password kept in the vault, say) is
a template syntax error when the variable is templated. The error names neither the variable that holds the text
(often a vault_* variable the contract variable refers to) nor the fix, so evaluate() finds that variable and
says to tag the value !unsafe. Messages never quote the value itself: it may be a secret.
"""

from __future__ import annotations

import re

from ansible import errors

SYNTAX_ERROR = getattr(errors, "AnsibleTemplateSyntaxError", None)
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def evaluate(templar, variables, name):
    """Template variables[name]: (value, None), or (None, what is wrong) naming the variable with the bad text."""
    try:
        return template(templar, variables[name]), None
    except errors.AnsibleError as exc:
        if not _is_syntax_error(exc):
            return None, "cannot be evaluated: %s" % first_line(exc)
        source = _syntax_source(templar, variables, name, set([name]))
        if source == name:
            return None, ("template syntax error (%s); if the value is literal text, tag it !unsafe "
                          "(%s: !unsafe '...')" % (first_line(exc), name))
        return None, ("template syntax error in %s, which it refers to (%s); if the value of %s is literal text "
                      "(a password, say), tag it !unsafe (%s: !unsafe '...')" % (source, first_line(exc), source, source))


def template(templar, value):
    """A variable's value templated; a list entry by entry, leaving alone the entries that cannot hold a template.

    The result is the same as templating the whole value, but the templar copies every container and string it
    walks: with 10,000 entries in nebari_users that took over a second, for entries that are plain data."""
    if isinstance(value, list):
        return [templar.template(item) if _may_hold_template(item) else item for item in value]
    return templar.template(value)


def _may_hold_template(value):
    """False for plain data without a '{' (every Jinja delimiter starts with one); True for anything else (an
    inline !vault value, say), which the templar then handles."""
    if isinstance(value, str):
        return "{" in value
    if isinstance(value, dict):
        return any(_may_hold_template(key) or _may_hold_template(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_may_hold_template(item) for item in value)
    return not isinstance(value, (bool, int, float, type(None)))


def first_line(exc):
    return str(getattr(exc, "message", exc)).strip().splitlines()[0]


def _is_syntax_error(exc):
    if SYNTAX_ERROR is not None:
        return isinstance(exc, SYNTAX_ERROR)
    return "syntax error" in first_line(exc).lower()


def _syntax_source(templar, variables, name, seen):
    """The variable, name or one it refers to (recursively), whose own text is the syntax error."""
    for other in _references(variables.get(name)):
        if other in seen or other not in variables:
            continue
        seen.add(other)
        try:
            templar.template(variables[other])
        except errors.AnsibleError as exc:
            if _is_syntax_error(exc):
                return _syntax_source(templar, variables, other, seen)
    return name


def _references(value):
    """Names that may be variables, in every string of value, in order."""
    if isinstance(value, str):
        return IDENTIFIER.findall(value) if ("{{" in value or "{%" in value) else []
    if isinstance(value, dict):
        return [n for item in value.values() for n in _references(item)]
    if isinstance(value, (list, tuple)):
        return [n for item in value for n in _references(item)]
    return []
