"""Settings of the runner, read from ``VNFM_*`` environment variables."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from pydantic import Field
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
    # Playbooks the runner runs keep one Python per target for the whole run (Mitogen,
    # when installed: vnfm_runner/strategy_plugins/vnfm_warm.py); 0 for stock Ansible.
    warm_interpreters: bool = True
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
    # Seconds an engine's lease on an operation lasts unrenewed (renewed every quarter):
    # how long a dead engine's operation waits before recovery moves it on.
    lease_ttl: float = Field(default=20.0, gt=0)
    # Addresses every outgoing request may reach (vnfm_runner/outbound.py): comma-separated
    # CIDRs. Empty allow: all but the deny list (loopback and private ranges included);
    # link-local, unspecified, multicast and broadcast are refused whatever these say.
    outbound_allow: str = ""
    outbound_deny: str = ""

    def model_post_init(self, context: object) -> None:
        parse_networks(self.outbound_allow, "VNFM_OUTBOUND_ALLOW")
        parse_networks(self.outbound_deny, "VNFM_OUTBOUND_DENY")

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'vnfm.db'}"

    @property
    def packages_dir(self) -> Path:
        return self.home / "packages"

    @property
    def runs_dir(self) -> Path:
        return self.home / "runs"

    @property
    def compile_cache_dir(self) -> Path:
        """Compiled templates and collection modules of the runs (vnfm_runner/compile_cache.py)."""
        return self.home / "cache" / "compiled"


def parse_networks(
    text: str, name: str
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Comma-separated CIDRs (``10.0.0.0/8, fd00::/8, 192.0.2.7``); ValueError names ``name``."""
    out: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{name}: {item!r} is not an IP network (CIDR)") from None
    return tuple(out)
