# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""What every VIM driver records on a VNFC besides ownership: the software
generation it was created with and the digest of the heal token that created it
(the local VIM in the ``lo`` alias, OpenStack in server metadata)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Container

from ansible_collections.nfv.vnfm.plugins.module_utils.vim import VimError

_GENERATION_RE = re.compile(r"^[A-Za-z0-9]{1,64}$")


def check_generation(value: object, vnfc_id: str) -> str | None:
    """The plan's ``softwareGeneration`` of a VNFC (None when unknown), checked."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _GENERATION_RE.match(value):
        raise VimError(
            f"plan: {vnfc_id}: softwareGeneration {value!r} must be 1-64 letters or digits"
        )
    return value


def token_digest(token: str | None) -> str | None:
    """What a VNFC records of a ``heal_token``: 16 hex characters of its sha256.

    Any token (an operation id, or whatever an AWX user sets) fits an interface
    alias or a metadata value that way, whatever its characters and length.
    """
    if not token:
        return None
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def heal_targets(heal: list[str] | None, planned: Container[str]) -> set[str]:
    """The VNFC ids to heal, each one of the plan (planned: its VNFC ids)."""
    targets = set(heal or [])
    unknown = sorted(t for t in targets if t not in planned)
    if unknown:
        raise VimError(f"cannot heal {', '.join(unknown)}: not VNFCs of the plan")
    return targets


def made_by(token: str | None, recorded: str | None) -> bool:
    """Whether a VNFC recording the token digest recorded was created by a
    reconcile with heal token digest token (that operation already healed it)."""
    return token is not None and recorded == token
