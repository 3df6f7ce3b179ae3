"""Settings of the API server (``VNFM_*`` environment variables, like the runner's)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from vnfm_runner.settings import Settings


class ApiSettings(Settings):
    """The runner's settings plus the server's own."""

    model_config = SettingsConfigDict(env_prefix="VNFM_", extra="ignore")

    workers: int = 4  # operations run at once by this server
    # Operations accepted and waiting for a worker; one more is refused (503 + Retry-After).
    queue_depth: int = Field(default=64, ge=1)
    package_workers: int = Field(default=2, ge=1)  # downloads and onboardings at once
    api_user: str | None = None  # HTTP Basic
    api_password: SecretStr | None = None
    oauth_clients: SecretStr | None = None  # "id:secret,id2:secret2"
    api_anonymous: bool = False  # no credentials needed (tests, a private socket)
    api_token_ttl: int = 3600  # seconds an OAuth2 access token lives
    api_page_size: int = 100  # items per page of a list
    api_max_package_mb: int = 512  # largest package upload
    # Every other request body (api/edge.py): bytes, then what one JSON body may hold.
    api_max_body: int = Field(default=1024 * 1024, ge=1024)
    api_max_json_depth: int = Field(default=64, ge=2)  # nested arrays/objects
    api_max_json_string: int = Field(default=65536, ge=256)  # characters of one string or name
    api_max_json_keys: int = Field(default=1000, ge=16)  # members of one object
    api_fetch_timeout: float = 300.0  # seconds of wall-clock time for a whole upload_from_uri
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
