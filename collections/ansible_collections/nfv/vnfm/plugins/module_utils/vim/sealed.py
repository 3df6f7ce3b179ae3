# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""VIM credentials handed to a module sealed, opened only in the module's process.

The runner never writes a VIM secret in clear under ``VNFM_HOME``: the extra
vars of a run hold ``{vnfmSealed: <Fernet token>, vnfmKeyFile: <keyring>}``
(the same keyring that seals the store's secrets, ``vnfm_runner/secrets.py``),
so a run killed with SIGKILL leaves nothing readable behind. Credentials
given in clear (``ansible-playbook``, AWX) pass through unchanged.
"""

from __future__ import annotations

import json
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vim import VimError

SEALED = "vnfmSealed"
KEY_FILE = "vnfmKeyFile"


def open_credentials(credentials: dict[str, Any] | None) -> dict[str, Any] | None:
    """Clear credentials from their sealed form (anything else is returned as is)."""
    if not isinstance(credentials, dict) or SEALED not in credentials:
        return credentials
    try:
        from cryptography.fernet import Fernet, InvalidToken, MultiFernet
    except ImportError:
        raise VimError("sealed VIM credentials need the Python library cryptography") from None
    try:
        with open(str(credentials[KEY_FILE]), "rb") as keyring:
            keys = keyring.read().split()
        box = MultiFernet([Fernet(k) for k in keys])
        value = json.loads(box.decrypt(str(credentials[SEALED]).encode()))
    except (OSError, KeyError, ValueError, InvalidToken):
        # no detail: neither the token nor the keyring belongs in a message
        raise VimError(
            "the sealed VIM credentials cannot be opened (the sealing key was rotated "
            "or removed during the run); retry the operation"
        ) from None
    return value if isinstance(value, dict) else {}
