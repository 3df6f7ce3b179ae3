"""The CLI's composition root: the services its commands call, built on first use.

Imported lazily by the commands: those that need no records start without the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vnfm_runner.lcm import Vnfm
    from vnfm_runner.pkgm import PackageService


def lcm() -> Vnfm:
    """The LCM service over the store of ``VNFM_HOME`` / ``VNFM_DATABASE_URL``."""
    from vnfm_runner.lcm import Vnfm
    from vnfm_runner.settings import Settings

    return Vnfm.open(Settings())  # every command first recovers dead engines' operations


def packages(service: Vnfm | None = None) -> PackageService:
    """The package management service the API uses too (the same rules)."""
    from vnfm_runner.api.config import api_settings
    from vnfm_runner.pkgm import PackageService

    svc = service or lcm()
    cfg = api_settings(svc.settings)
    return PackageService(
        store=svc.store,
        onboarder=svc,
        uploads=cfg.api_dir / "uploads",
        max_package_mb=cfg.api_max_package_mb,
    )
