"""Settings of notification delivery (``VNFM_NOTIFY_*`` environment variables)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class NotifySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VNFM_NOTIFY_", extra="ignore")

    timeout: float = 5.0  # seconds one delivery attempt may take (connect, send, answer)
    retry_min: float = 1.0  # first backoff after a failed attempt (seconds) ...
    retry_max: float = 60.0  # ... doubled each time up to this cap
    max_age: float = 86400.0  # give up (DROPPED) on a notification older than this
    workers: int = 8  # deliveries in flight at once, all subscribers together
    per_subscriber: int = 1  # deliveries in flight at once to one subscriber
    poll_interval: float = 1.0  # seconds between looks at the outbox when not woken
    lease: float = 60.0  # a claimed row is another worker's after this (seconds)
    keep_days: float = 7.0  # SENT and DROPPED rows are deleted after this
    base_url: str = ""  # prefix of the _links hrefs (e.g. https://vnfm.example:9890)
