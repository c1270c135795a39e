# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one error the Classic importer raises: bad input, named by its key, before anything is written."""

from __future__ import annotations


class ClassicError(ValueError):
    """Input the importer refuses. key: the nebari-config.yaml key (dotted path) at fault."""

    def __init__(self, key, message):
        super().__init__("%s: %s" % (key, message) if key else message)
        self.key = key
