"""The subscriptions of one store: SOL003 LCM (``api="vnflcm"``) and SOL005 package
management (``api="vnfpkgm"``), in ``api_subscriptions``.

The document kept is the one the API returns (never credentials); the
``authentication`` is stored sealed with the home's :class:`SecretBox` and
only :meth:`SubscriptionRegistry.authentication` opens it, for the sender.
Which subscriptions a change is for is decided by the store's journal, in the
transaction of the change (journal.py); delivery needs :meth:`get` and
:meth:`authentication` (the ``Subscriptions`` protocol of outbox.py).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from vnfm_runner.secrets import SecretBox
from vnfm_runner.store.db import Store, now
from vnfm_runner.store.tables import SubscriptionRow


class SubscriptionRegistry:
    def __init__(self, store: Store, box: SecretBox) -> None:
        self.store = store
        self.box = box

    def add(self, api: str, base: str, request: dict[str, Any], **extra: Any) -> dict[str, Any]:
        """Record a subscription of ``api`` whose resources live under ``base``."""
        sub_id = str(uuid.uuid4())
        doc: dict[str, Any] = {
            "id": sub_id,
            "filter": request.get("filter") or {},
            "callbackUri": request["callbackUri"],
            **extra,
            "_links": {"self": {"href": f"{base}/{sub_id}"}},
        }
        auth = request.get("authentication")
        sealed = self.box.seal(auth) if auth else None
        with self.store.session() as s:
            s.add(
                SubscriptionRow(
                    id=sub_id, api=api, doc=doc, authentication=sealed, created_at=now()
                )
            )
        return doc

    def get(self, sub_id: str, api: str | None = None) -> dict[str, Any] | None:
        with self.store.reading() as s:
            row = s.get(SubscriptionRow, sub_id)
            if row is None or (api is not None and row.api != api):
                return None
            return dict(row.doc)

    def remove(self, sub_id: str, api: str | None = None) -> bool:
        with self.store.session() as s:
            row = s.get(SubscriptionRow, sub_id)
            if row is None or (api is not None and row.api != api):
                return False
            s.delete(row)
            return True

    def all(self, api: str | None = None) -> list[dict[str, Any]]:
        """The subscriptions (of one API), oldest first."""
        q = select(SubscriptionRow.doc).order_by(SubscriptionRow.created_at, SubscriptionRow.id)
        if api is not None:
            q = q.where(SubscriptionRow.api == api)
        with self.store.reading() as s:
            return [dict(doc) for doc in s.scalars(q)]

    def authentication(self, sub_id: str) -> dict[str, Any] | None:
        """The SubscriptionAuthentication in clear: for the sender only, never logged."""
        with self.store.reading() as s:
            row = s.get(SubscriptionRow, sub_id)
            token = row.authentication if row is not None else None
        return self.box.open(token) if token else None
