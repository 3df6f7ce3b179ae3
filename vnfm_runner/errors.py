"""Errors of the service layer that entry points turn into messages or HTTP codes.

Kept apart from the service so that commands can name them without importing
the engine (fast start of the CLI).
"""

from __future__ import annotations

from vnfm_runner import paths

paths.ensure_core_importable()

from ansible_collections.nfv.vnfm.plugins.module_utils.errors import VnfmError  # noqa: E402

VIM_TYPES = ("local", "openstack")


class LcmError(VnfmError):
    """A request that cannot be carried out (message is user-facing)."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


class NotFound(LcmError):
    def __init__(self, message: str) -> None:
        super().__init__(message, 404)


class VimConfigError(Exception):
    """A VIM registration or a vimConnectionInfo that cannot be used."""
