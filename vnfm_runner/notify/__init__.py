"""Durable notifications (SOL003 VNF LCM, SOL005 VNF package management): an outbox in
the store and a delivery worker.

The store writes the notifications of a change in the change's own
transaction (journal.py: whichever process makes it); a delivery worker sends
them (worker.py). The API server runs one; so can any process on the same
store (``python -m vnfm_runner.notify``).

Nothing here imports the API package. The names below are loaded when first
used: every ``Store`` imports the journal, and a CLI command need not pay for
the HTTP client and metrics of delivery.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vnfm_runner.notify.config import NotifySettings
    from vnfm_runner.notify.outbox import Outbox, Subscriptions
    from vnfm_runner.notify.subscriptions import SubscriptionRegistry
    from vnfm_runner.notify.worker import DeliveryWorker

_WHERE = {
    "DeliveryWorker": "worker",
    "NotifySettings": "config",
    "Outbox": "outbox",
    "SubscriptionRegistry": "subscriptions",
    "Subscriptions": "outbox",
}
__all__ = ["DeliveryWorker", "NotifySettings", "Outbox", "SubscriptionRegistry", "Subscriptions"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
