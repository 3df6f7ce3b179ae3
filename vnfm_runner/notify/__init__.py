"""Durable SOL003 VNF LCM notifications: an outbox in the store and a delivery worker.

``Vnfm.listeners`` gets :attr:`DeliveryWorker.listener`, which writes one
outbox row per (matching subscription, notification) as events happen; the
worker sends them (see worker.py). The API server runs one; so can any
process on the same store (``python -m vnfm_runner.notify``).

Nothing here imports the API package: subscriptions come in through the
:class:`Subscriptions` protocol (``vnfm_runner.api.subscriptions.SubscriptionRegistry``).
"""

from vnfm_runner.notify.config import NotifySettings
from vnfm_runner.notify.outbox import Outbox, OutboxListener, Subscriptions
from vnfm_runner.notify.worker import DeliveryWorker

__all__ = ["DeliveryWorker", "NotifySettings", "Outbox", "OutboxListener", "Subscriptions"]
