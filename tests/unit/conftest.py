"""Make the checkout importable as ansible_collections.nebari.platform (scripts/venv links it under .collections)."""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, ".collections")
if not os.path.isdir(os.path.join(COLLECTIONS, "ansible_collections", "nebari", "platform")):
    raise RuntimeError("run scripts/venv (or make venv) first: it links this checkout under .collections/")
sys.path.insert(0, COLLECTIONS)
