"""Settings of the API server (``VNFM_*`` environment variables, like the runner's)."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from vnfm_runner.settings import Settings


class ApiSettings(Settings):
    """The runner's settings plus the server's own."""

    model_config = SettingsConfigDict(env_prefix="VNFM_", extra="ignore")

    workers: int = 4  # operations run at once by this server
    api_user: str | None = None  # HTTP Basic
    api_password: SecretStr | None = None
    oauth_clients: SecretStr | None = None  # "id:secret,id2:secret2"
    api_anonymous: bool = False  # no credentials needed (tests, a private socket)
    api_token_ttl: int = 3600  # seconds an OAuth2 access token lives
    api_page_size: int = 100  # items per page of a list
    api_max_package_mb: int = 512  # largest package upload
    api_verify_callback: bool = True  # GET a subscription's callbackUri at creation
    api_metrics_public: bool = True  # /metrics without credentials (Prometheus scrapes)
    tls_cert: Path | None = None
    tls_key: Path | None = None

    def oauth_client_map(self) -> dict[str, str]:
        """Client id -> secret from ``VNFM_OAUTH_CLIENTS``."""
        out: dict[str, str] = {}
        raw = self.oauth_clients.get_secret_value() if self.oauth_clients else ""
        for item in raw.split(","):
            client_id, sep, secret = item.strip().partition(":")
            if sep and client_id and secret:
                out[client_id] = secret
        return out

    @property
    def api_dir(self) -> Path:
        return self.home / "api"


def api_settings(settings: Settings | None) -> ApiSettings:
    """ApiSettings from the runner's settings (API fields from the environment)."""
    if isinstance(settings, ApiSettings):
        return settings
    if settings is None:
        return ApiSettings()
    return ApiSettings(**settings.model_dump(exclude_unset=True))
