"""Settings of the runner, read from ``VNFM_*`` environment variables."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "vnfm"


class Settings(BaseSettings):
    """All runner settings; build one in the entry point, pass it down."""

    model_config = SettingsConfigDict(env_prefix="VNFM_", extra="ignore")

    home: Path = _default_home()
    database_url: str | None = None
    default_vim: str = "local"
    python_interpreter: str | None = None  # for the controller's own modules
    # The NFVO's SOL003 Grant interface; empty: the built-in auto-grant.
    nfvo_url: str | None = None
    nfvo_user: str | None = None
    nfvo_password: str | None = None
    nfvo_token_url: str | None = None  # OAuth2 client credentials instead of Basic
    nfvo_client_id: str | None = None
    nfvo_client_secret: str | None = None
    grant_timeout: float = 120.0
    # Bounds that keep nothing PROCESSING forever; a request's additionalParams
    # vnfm_task_timeout / vnfm_operation_timeout override them.
    task_timeout: int = 600
    operation_timeout: int = 3600

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'vnfm.db'}"

    @property
    def packages_dir(self) -> Path:
        return self.home / "packages"

    @property
    def runs_dir(self) -> Path:
        return self.home / "runs"
