# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory seen by preflight checks, the problems they find, and small validators they share.

Checks never raise on bad input: they add a Problem naming the variable and the entry, and go on, so that one
run reports every problem at once.
"""

from __future__ import annotations

import re

# RFC 1123 DNS label and subdomain, as Kubernetes validates names and label values' prefixes.
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# Kubernetes label name part and label value
LABEL_NAME = re.compile(r"^(?=.{1,63}$)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
LABEL_VALUE = re.compile(r"^(?=.{0,63}$)([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
# Pragmatic e-mail check: one @, no spaces, a dot in the domain; what Keycloak itself accepts is wider.
EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


class Problem:
    """One thing wrong with the inventory: the variable, the entry within it (if any) and what is wrong."""

    __slots__ = ("variable", "entry", "message")

    def __init__(self, variable, message, entry=None):
        self.variable = variable
        self.entry = entry
        self.message = message

    def where(self):
        return self.variable + (self.entry or "")

    def as_dict(self):
        return {"variable": self.variable, "entry": self.entry, "message": self.message}

    def __str__(self):
        return "%s: %s" % (self.where(), self.message)

    def __repr__(self):
        return "Problem(%r)" % str(self)


class Inventory:
    """What the checks read: templated values of the contract variables, their raw (untemplated) form, and
    host-level variables of every inventory host.

    values: name -> templated value, only for variables that are defined
    raw: name -> value as written in the inventory (templates not expanded), for the secret checks
    hosts: host name -> {variable: templated value} for the host-level variables checks ask for
    vaulted: predicate telling whether a raw value is an inline ansible-vault value
    groups: inventory group name -> its hosts (Ansible's groups)
    names: every variable name the inventory defines (for the unknown-variable check); default: those of values
    """

    def __init__(self, values, raw=None, hosts=None, vaulted=None, groups=None, names=None):
        self.groups = groups or {}
        self.names = set(names if names is not None else values)
        self.values = values
        self.raw = raw if raw is not None else dict(values)
        self.hosts = hosts or {}
        self.vaulted = vaulted or (lambda value: False)

    def defined(self, name):
        return name in self.values

    def get(self, name, default=None):
        return self.values.get(name, default)


class Problems(list):
    """A list of Problem with helpers for the common shapes of check; warnings holds what is reported but does
    not fail the run."""

    def __init__(self, *args):
        super().__init__(*args)
        self.warnings = []

    def add(self, variable, message, entry=None):
        self.append(Problem(variable, message, entry))

    def warn(self, variable, message, entry=None):
        self.warnings.append(Problem(variable, message, entry))

    def expect_type(self, variable, value, types, type_name, entry=None):
        """Add a problem and return False when value is not of the given type (bool is never an int here)."""
        if isinstance(value, bool) and bool not in _as_tuple(types):
            ok = False
        else:
            ok = isinstance(value, types)
        if not ok:
            self.add(variable, "must be %s, got %s" % (type_name, describe(value)), entry)
        return ok

    def unknown_keys(self, variable, mapping, allowed, entry=None):
        """Add a problem for every key of mapping that is not in allowed (typos are the usual cause)."""
        for key in sorted(set(mapping) - set(allowed), key=str):
            self.add(variable, "unknown key %r (allowed: %s)" % (key, ", ".join(sorted(allowed))), entry)


def _as_tuple(types):
    return types if isinstance(types, tuple) else (types,)


def describe(value):
    """A short description of a value for messages: its type and, for scalars, the value itself."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean (%s)" % value
    if isinstance(value, (int, float)):
        return "a number (%s)" % value
    if isinstance(value, str):
        return "a string (%r)" % (value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


def is_label_key(key):
    """A Kubernetes label or taint key: optional DNS subdomain prefix and a name part."""
    if not isinstance(key, str) or not key:
        return False
    prefix, dummy, name = key.rpartition("/")
    if prefix and not DNS_SUBDOMAIN.match(prefix):
        return False
    return bool(LABEL_NAME.match(name))


def is_label_value(value):
    return isinstance(value, str) and bool(LABEL_VALUE.match(value))
