# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keycloak's rules for usernames that preflight repeats: the scripts its realm accepts, and when two usernames
are the same to a reader.

Keycloak 26's user profile validates usernames with up-username-not-idn-homograph: only characters of the Latin
and Common scripts pass (дмитрий, 李小龙, or аlia with a Cyrillic а, are refused). Python's standard library has no
script property, so a character's Unicode name and category stand for it: ASCII, names that start with LATIN,
punctuation, symbols and spaces, and the script-neutral digits. fold() maps a username to what a reader sees:
NFKC, case folded, and the Cyrillic and Greek letters that look like Latin ones replaced by those.
"""

from __future__ import annotations

import unicodedata

LATIN_NAMES = ("LATIN ", "FULLWIDTH LATIN ", "MODIFIER LETTER SMALL ", "MODIFIER LETTER CAPITAL ")
COMMON_NUMBER_NAMES = ("DIGIT ", "FULLWIDTH DIGIT ", "SUPERSCRIPT ", "SUBSCRIPT ", "CIRCLED DIGIT ", "VULGAR FRACTION ")
# Case-folded Cyrillic and Greek letters that look like a Latin letter (capital or small form)
LOOK_ALIKES = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "з": "3", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w",
    "ӏ": "l", "ү": "y", "ɡ": "g",
    "α": "a", "β": "b", "ε": "e", "ζ": "z", "η": "h", "ι": "i", "κ": "k", "μ": "m", "ν": "n", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "y", "χ": "x", "ϲ": "c", "ϳ": "j",
}


def is_latin_or_common(char):
    """Whether Keycloak's homograph validator accepts this character (Latin or Common script)."""
    if ord(char) < 128:
        return True
    name = unicodedata.name(char, "")
    category = unicodedata.category(char)
    if name.startswith(LATIN_NAMES):
        return True
    if category[0] in "PSZ":
        return True
    return category[0] == "N" and name.startswith(COMMON_NUMBER_NAMES)


def foreign_characters(username):
    """The characters of username that are neither Latin nor Common, in order, each once."""
    found = []
    for char in username:
        if not is_latin_or_common(char) and char not in found:
            found.append(char)
    return found


def fold(username):
    """What a reader sees: NFKC, case folded, Cyrillic and Greek look-alikes as the Latin letter."""
    text = unicodedata.normalize("NFKC", username).casefold()
    return "".join(LOOK_ALIKES.get(char, char) for char in text)


def describe_character(char):
    return "%r (%s)" % (char, unicodedata.name(char, "U+%04X" % ord(char)))
