# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Package specs of a conda-store environment: is a conda dependency a MatchSpec, a pip one a requirement?

conda_problem() follows the common forms of conda's MatchSpec grammar: ``name``, ``name version [build]``,
``name=1.2``, ``name=1.2=build``, ``name==1.2``, ``name>=1.2,<2``, ``name 1.2.*``, ``channel::name...`` and
bracketed keys ``name[version='>=1.2', build=py*]``. It refuses what conda refuses to solve, such as doubled or
garbled operators (``>=>1``, ``>==2``, ``===``) and empty versions. pip_problem() asks packaging's Requirement,
as pip itself does; pip options (``--index-url ...``) and URLs or paths are passed through as pip receives them.
Both return None for a good spec and a short reason otherwise.
"""

from __future__ import annotations

import re

try:
    from packaging.requirements import InvalidRequirement, Requirement
except ImportError:  # pragma: no cover - packaging comes with ansible-core on the controller
    Requirement = None

NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*")
CHANNEL = re.compile(r"^[A-Za-z0-9_.~:/@+-]+$")
VERSION = re.compile(r"^(?:\*|[A-Za-z0-9][A-Za-z0-9_+!]*(?:\.[A-Za-z0-9_+!]+)*(?:\.?\*)?)$")
BUILD = re.compile(r"^[A-Za-z0-9_.+!*]+$")
OPERATOR = re.compile(r"^(==|!=|<=|>=|~=|<|>|=)?(.*)$")
BRACKET_KEYS = ("version", "build", "build_number", "channel", "subdir", "md5", "sha256", "license", "fn", "url",
                "features", "track_features", "name")
BRACKET_ITEM = re.compile(r"""^\s*([a-z_]+)\s*=\s*(?:'([^']*)'|"([^"]*)"|([^'",\s]+))\s*(?:,|$)""")


def conda_problem(spec):
    """None when spec is a conda MatchSpec of a common form, else why not."""
    text = spec.strip()
    if "::" in text:
        channel, dummy, text = text.partition("::")
        if not CHANNEL.match(channel):
            return "channel %r before :: is not a channel name or URL" % channel
    bracket = None
    if text.endswith("]"):
        start = text.find("[")
        if start < 0:
            return "has ] without ["
        text, bracket = text[:start], text[start + 1:-1]
    name = NAME.match(text)
    if not name:
        return "does not start with a package name"
    reason = _version_and_build(text[name.end():])
    if reason is None and bracket is not None:
        reason = _bracket(bracket)
    return reason


def pip_problem(requirement):
    """None when requirement is what pip accepts in a requirements file, else why not."""
    text = requirement.strip()
    if Requirement is None or text.startswith(("-", ".", "/")) or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text):
        return None
    try:
        Requirement(text)
    except InvalidRequirement as exc:
        return "is not a pip requirement (%s)" % str(exc).splitlines()[0]
    return None


def version_spec_problem(text):
    """None when text is a conda version spec: constraints joined by , (and) and | (or), each [operator]version."""
    text = re.sub(r"\s*([,|])\s*", r"\1", text.strip().replace("(", "").replace(")", ""))
    if not text:
        return "has an empty version"
    for alternative in text.split("|"):
        for constraint in alternative.split(","):
            operator, version = OPERATOR.match(constraint.strip()).groups()
            if not version:
                return "has an empty version%s" % (" after %s" % operator if operator else "")
            if not VERSION.match(version.strip()):
                return "has a malformed version constraint %r" % constraint
    return None


def _version_and_build(rest):
    """The part after the name: nothing, ' version [build]', '=version[=build]' or operators '>=1.2,<2'."""
    if not rest:
        return None
    if rest[0].isspace():
        rest = re.sub(r"\s*([<>=!~,|]+)\s*", r"\1", rest.strip())
        parts = rest.split()
        if len(parts) > 2:
            return "has more than a version and a build after the name"
        if len(parts) == 2 and not BUILD.match(parts[1]):
            return "has a malformed build string %r" % parts[1]
        return version_spec_problem(parts[0]) if parts else None
    if rest.startswith("=") and not rest.startswith("=="):
        version, dummy, build = rest[1:].partition("=")
        if not VERSION.match(version):
            return "has a malformed version %r after =" % version if version else "has an empty version after ="
        if dummy and not BUILD.match(build):
            return "has a malformed build string %r" % build if build else "has an empty build string after ="
        return None
    if rest[0] in "<>=!~":
        return version_spec_problem(rest)
    return "has %r after the package name" % rest


def _bracket(text):
    rest = text.strip()
    while rest:
        item = BRACKET_ITEM.match(rest)
        if not item:
            return "has a malformed [key=value, ...] part %r" % text
        key, value = item.group(1), next(v for v in item.groups()[1:] if v is not None)
        if key not in BRACKET_KEYS:
            return "has an unknown key %r in [...] (known: %s)" % (key, ", ".join(BRACKET_KEYS))
        if key == "version":
            reason = version_spec_problem(value)
            if reason:
                return reason
        rest = rest[item.end():].strip()
    return None
