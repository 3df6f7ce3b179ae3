"""Errors of the service layer that entry points turn into messages or HTTP codes.

Kept apart from the service so that commands can name them without importing
the engine (fast start of the CLI).
"""

from __future__ import annotations

from vnfm_runner import paths

paths.ensure_core_importable()

from ansible_collections.nfv.vnfm.plugins.module_utils.errors import VnfmError  # noqa: E402
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.registry import vim_types  # noqa: E402

# the VIM types `vnfm vim add --type` takes: those the collection has a driver for
VIM_TYPES = tuple(vim_types())


class LcmError(VnfmError):
    """A request that cannot be carried out (message is user-facing)."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


class NotFound(LcmError):
    def __init__(self, message: str) -> None:
        super().__init__(message, 404)


class VimConfigError(Exception):
    """A VIM registration or a vimConnectionInfo that cannot be used (``status`` as in
    LcmError: 422 invalid by default, 404 unknown, 409 in use or taken)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status
