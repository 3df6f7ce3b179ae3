"""Where the project's Ansible content lives, for a source checkout."""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS_DIR = REPO_ROOT / "collections"
COLLECTION_DIR = COLLECTIONS_DIR / "ansible_collections" / "nfv" / "vnfm"
PLAYBOOKS_DIR = REPO_ROOT / "playbooks"
EXAMPLES_DIR = REPO_ROOT / "examples" / "packages"


def ensure_core_importable() -> None:
    """Put ``collections/`` on sys.path so ``ansible_collections.nfv.vnfm`` imports."""
    entry = str(COLLECTIONS_DIR)
    if COLLECTIONS_DIR.is_dir() and entry not in sys.path:
        sys.path.insert(0, entry)
