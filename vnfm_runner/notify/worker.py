"""The delivery worker: sends the outbox's PENDING rows, in order, with retries.

One dispatcher thread looks at the outbox when woken (this process committed a
change that wrote notifications: the store's journal wakes it) or every
``poll_interval`` (another process — the CLI, another server — wrote some; a
retry is due), claims due rows and hands them to a bounded pool of sender
threads:

- **order**: only the oldest PENDING row of a (subscription, VNF instance or
  package) queue is ever due, so notification n+1 waits until n is SENT or DROPPED;
- **isolation**: at most ``per_subscriber`` deliveries in flight to one
  subscriber and ``workers`` in all; an attempt lasts at most ``timeout``
  seconds, so a subscriber that never answers holds one sender for that long
  and nobody else waits on it;
- **retries**: a failed attempt reschedules the row with exponential backoff
  (``retry_min`` doubling up to ``retry_max``) and holds the subscriber back
  as long; a row older than ``max_age`` is DROPPED (recorded with the reason);
- **crash safety**: rows live in the store; a claim is a lease, so a row whose
  worker died is taken over when its lease expires, and a stopping worker
  gives its leases back. Delivery is at least once: a subscriber may see a
  notification twice (same ``id``) after a crash, never out of order.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from prometheus_client import CollectorRegistry

from vnfm_runner.notify import documents, fm, packages
from vnfm_runner.notify import indicators as ind
from vnfm_runner.notify.config import NotifySettings
from vnfm_runner.notify.metrics import NotifyMetrics
from vnfm_runner.notify.outbox import Claimed, Outbox, Subscriptions, new_worker_id
from vnfm_runner.notify.sender import NOTIFICATION_VERSION, Sender
from vnfm_runner.store.db import Store, now

log = logging.getLogger("vnfm.notify")
HOUSEKEEPING_EVERY = 60.0  # seconds between sweeps for too-old and long-finished rows


class DeliveryWorker:
    """Delivery of one process, for the notifications any process wrote to the store."""

    def __init__(
        self,
        store: Store,
        subscriptions: Subscriptions,
        settings: NotifySettings | None = None,
        *,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.settings = settings or NotifySettings()
        self.store = store
        self.outbox = Outbox(store)
        self.subscriptions = subscriptions
        self.worker_id = new_worker_id()
        self.sender = Sender(self.settings.timeout)
        self.metrics = NotifyMetrics(self.outbox, registry)
        self._workers = max(1, self.settings.workers)
        self._per_subscriber = max(1, self.settings.per_subscriber)
        self._lease = timedelta(seconds=max(self.settings.lease, 3 * self.settings.timeout))
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._in_flight: dict[str, int] = {}  # subscription id -> deliveries running
        self._hold: dict[str, float] = {}  # subscription id -> monotonic time to wait for
        self._pool: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        self._housekeeping_at = 0.0

    # -- life cycle ----------------------------------------------------------------------------
    def start(self) -> DeliveryWorker:
        if self._thread is not None:
            return self
        self._stop.clear()
        self.store.journal.wakers.append(self.wake)
        self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="vnfm-notify-send")
        self._thread = threading.Thread(target=self._run, name="vnfm-notify", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop claiming, let deliveries in flight end (one attempt's timeout at most),
        give back the leases left and close the HTTP client."""
        self._stop.set()
        self._wake.set()
        if self.wake in self.store.journal.wakers:
            self.store.journal.wakers.remove(self.wake)
        if self._thread is not None:
            self._thread.join(timeout=self.settings.timeout + 5)
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        deadline = time.monotonic() + self.settings.timeout + 1
        with self._idle:
            while self._in_flight and time.monotonic() < deadline:
                self._idle.wait(timeout=0.1)
        try:
            self.outbox.release(self.worker_id)
        except Exception as exc:
            log.warning("could not release notification leases: %s", type(exc).__name__)
        self.sender.close()

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.pump()
            except Exception as exc:
                log.warning("notification delivery pass failed: %s", type(exc).__name__)
            self._wake.wait(self.settings.poll_interval)
            self._wake.clear()

    # -- one pass ---------------------------------------------------------------------------------
    def pump(self) -> int:
        """Claim the due rows this worker has room for and start sending them."""
        self._housekeeping()
        started = 0
        with self._lock:
            free = self._workers - sum(self._in_flight.values())
        if free <= 0 or self._pool is None:
            return 0
        for seq, sub_id in self.outbox.heads(
            limit=self._workers * 4, skip_subscriptions=self._busy()
        ):
            if self._stop.is_set() or free <= 0:
                break
            with self._lock:
                if self._in_flight.get(sub_id, 0) >= self._per_subscriber:
                    continue
            row = self.outbox.claim(seq, self.worker_id, self._lease)
            if row is None:
                continue  # another worker took it, or it is done
            with self._lock:
                self._in_flight[sub_id] = self._in_flight.get(sub_id, 0) + 1
            free -= 1
            started += 1
            self._pool.submit(self._deliver, row)
        return started

    def _busy(self) -> set[str]:
        """Subscribers not to send to now: full, or backing off after a failure."""
        clock = time.monotonic()
        with self._lock:
            for sub_id in [s for s, until in self._hold.items() if until <= clock]:
                del self._hold[sub_id]
            full = {s for s, n in self._in_flight.items() if n >= self._per_subscriber}
            return full | set(self._hold)

    def _housekeeping(self) -> None:
        clock = time.monotonic()
        if clock - self._housekeeping_at < HOUSEKEEPING_EVERY:
            return
        self._housekeeping_at = clock
        dropped = self.outbox.drop_older_than(now() - timedelta(seconds=self.settings.max_age))
        if dropped:
            self.metrics.dropped.labels("max_age").inc(dropped)
            log.warning(
                "gave up on %d notification(s) older than %.0f s", dropped, self.settings.max_age
            )
        self.outbox.purge(now() - timedelta(days=self.settings.keep_days))

    # -- one delivery -----------------------------------------------------------------------------
    def _deliver(self, row: Claimed) -> None:
        try:
            self._attempt(row)
        except Exception as exc:  # the lease expires and another pass retries
            log.error("notification %s: delivery broke: %s", row.id, type(exc).__name__)
        finally:
            with self._idle:
                left = self._in_flight.get(row.subscription_id, 1) - 1
                if left > 0:
                    self._in_flight[row.subscription_id] = left
                else:
                    self._in_flight.pop(row.subscription_id, None)
                self._idle.notify_all()
            self._wake.set()

    def _attempt(self, row: Claimed) -> None:
        sub = self.subscriptions.get(row.subscription_id)
        if sub is None:
            if self.outbox.dropped(row.seq, self.worker_id, "the subscription was deleted"):
                self.metrics.dropped.labels("subscription_deleted").inc()
            return
        package = row.notification_type in (packages.ONBOARDING, packages.CHANGE)
        outcome = self.sender.send(
            row.subscription_id,
            str(sub["callbackUri"]),
            documents.with_base_url(row.payload, self.settings.base_url),
            self.subscriptions.authentication(row.subscription_id),
            version=packages.VERSION
            if package
            else fm.VERSION
            if row.notification_type in fm.TYPES
            else ind.VERSION
            if row.notification_type in ind.TYPES
            else NOTIFICATION_VERSION,
        )
        if outcome.ok:
            if self.outbox.sent(row.seq, self.worker_id):
                self.metrics.sent.labels(row.notification_type).inc()
                self.metrics.lag.observe(max(0.0, (now() - row.created_at).total_seconds()))
            with self._lock:
                self._hold.pop(row.subscription_id, None)
            return
        self.metrics.failed.inc()
        age = (now() - row.created_at).total_seconds()
        if age >= self.settings.max_age:
            reason = f"gave up after {row.attempts + 1} attempts: {outcome.detail}"
            if self.outbox.dropped(row.seq, self.worker_id, reason):
                self.metrics.dropped.labels("max_age").inc()
            log.warning(
                "notification %s to subscription %s dropped: %s",
                row.id,
                row.subscription_id,
                reason,
            )
            return
        delay = self.backoff(row.attempts)
        self.outbox.failed(
            row.seq, self.worker_id, outcome.detail, now() + timedelta(seconds=delay)
        )
        with self._lock:
            self._hold[row.subscription_id] = time.monotonic() + delay
        log.info(
            "notification %s to subscription %s failed (%s, attempt %d); retry in %.1f s",
            row.id,
            row.subscription_id,
            outcome.detail,
            row.attempts + 1,
            delay,
        )

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the (attempts+1)-th failed attempt."""
        low, high = self.settings.retry_min, max(self.settings.retry_min, self.settings.retry_max)
        return float(min(high, low * (2 ** min(attempts, 30))))

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {"inFlight": dict(self._in_flight), "held": sorted(self._hold)}
