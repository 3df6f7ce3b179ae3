"""The API's records: kept with the store's tables (``vnfm_runner.store.tables``) and made
by its migrations (0004), so every process on the store sees the same schema.

``PkgInfoRow`` (``api_vnf_packages``): the SOL005 side of a package.
``SubscriptionRow`` (``api_subscriptions``): LCM and package management subscriptions.
"""

from __future__ import annotations

from vnfm_runner.store.tables import LCM_API, PKGM_API, PkgInfoRow, SubscriptionRow

__all__ = ["LCM_API", "PKGM_API", "PkgInfoRow", "SubscriptionRow"]
