"""Where the project's Ansible content lives: an installed wheel or a source checkout.

A wheel (``setup.py``) carries the collection as the top-level package
``ansible_collections.nfv.vnfm`` and the playbooks, inventories and example packages
under ``vnfm_runner/_content/``. A checkout has them at its root; there the collection is
importable because the virtualenv names ``collections/`` in a ``.pth`` file
(``scripts/setup.sh``) and pytest's ``pythonpath`` does the same. Nothing here edits
``sys.path``.
"""

from __future__ import annotations

import functools
import importlib.util
from importlib.resources import files
from pathlib import Path

COLLECTION_PACKAGE = "ansible_collections.nfv.vnfm"

_PACKAGE_DIR = Path(str(files("vnfm_runner")))
_INSTALLED_CONTENT = _PACKAGE_DIR / "_content"
#: True in an installed wheel, False in a source checkout (editable install included).
INSTALLED = _INSTALLED_CONTENT.is_dir()
#: The directory holding playbooks/, inventories/ and examples/: the wheel's package
#: data, or the checkout's root.
CONTENT_ROOT = _INSTALLED_CONTENT if INSTALLED else _PACKAGE_DIR.parent
REPO_ROOT = CONTENT_ROOT  # the name callers used when only a checkout existed
PLAYBOOKS_DIR = CONTENT_ROOT / "playbooks"
# the runner's own playbooks (nested extra vars); PLAYBOOKS_DIR holds the flat AWX ones
RUNNER_PLAYBOOKS_DIR = PLAYBOOKS_DIR / "runner"
INVENTORIES_DIR = CONTENT_ROOT / "inventories"
LOCAL_INVENTORY = INVENTORIES_DIR / "local" / "hosts.yml"
EXAMPLES_DIR = CONTENT_ROOT / "examples" / "packages"


def _installed_collection() -> Path | None:
    """The importable collection's directory (the one with ``meta/runtime.yml``)."""
    try:
        spec = importlib.util.find_spec(COLLECTION_PACKAGE)
    except ImportError:  # a parent namespace package is missing
        return None
    for location in (spec.submodule_search_locations or []) if spec else []:
        if (Path(location) / "meta" / "runtime.yml").is_file():
            return Path(location)
    return None


def _collection_dir() -> Path:
    checkout = CONTENT_ROOT / "collections" / "ansible_collections" / "nfv" / "vnfm"
    if not INSTALLED and checkout.is_dir():
        return checkout
    # a wheel: site-packages/ansible_collections/nfv/vnfm (checkout path as a last resort,
    # so that ensure_core_importable() can name what is missing)
    return _installed_collection() or checkout


COLLECTION_DIR = _collection_dir()
#: What ANSIBLE_COLLECTIONS_PATH names: the directory holding ``ansible_collections/``.
COLLECTIONS_DIR = COLLECTION_DIR.parents[2]


@functools.cache
def ensure_core_importable() -> None:
    """Fail with a clear message when ``ansible_collections.nfv.vnfm`` cannot be imported.

    The runner imports the model and the planner from the collection's module_utils.
    """
    if _installed_collection() is None:
        raise ImportError(
            f"the collection nfv.vnfm is not importable as {COLLECTION_PACKAGE}: install the "
            "vnfm-toolkit wheel, or in a checkout run scripts/setup.sh (it names "
            f"{CONTENT_ROOT / 'collections'} in the virtualenv)"
        )
