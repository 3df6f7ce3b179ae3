"""``python -m vnfm_runner.notify``: a delivery worker alone, on the store of ``VNFM_HOME``
(or ``VNFM_DATABASE_URL``), until SIGINT or SIGTERM.

It sends what any process wrote to the outbox; it writes nothing itself (the
store of the process making a change does, in the change's transaction).
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from vnfm_runner.bootstrap import open_store
from vnfm_runner.notify.config import NotifySettings
from vnfm_runner.notify.subscriptions import SubscriptionRegistry
from vnfm_runner.notify.worker import DeliveryWorker
from vnfm_runner.secrets import SecretBox
from vnfm_runner.settings import Settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = Settings()
    store = open_store(settings.db_url)  # migrated, like every process opening it
    worker = DeliveryWorker(
        store, SubscriptionRegistry(store, SecretBox(settings.home)), NotifySettings()
    ).start()
    done = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    done.wait()
    worker.stop()


if __name__ == "__main__":
    main()
