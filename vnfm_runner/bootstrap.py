"""The composition root: where the real pieces are made and wired together, once.

Constructors elsewhere only connect and remember (``Store(url)``, ``Vnfm(settings, store)``):
what changes the world happens here, as explicit steps an entry point takes —
the schema brought to head (``store/migrate.py``), the notification journal
installed on the store's sessions (``notify/journal.py``), the ports of the
LCM handlers wired to the store, ansible-runner, the VIM registry and the
NFVO's grant interface. Crash recovery is the entry points' own explicit call
(``Vnfm.open``; the server's start and its recovery loop).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from vnfm_runner.grants import GrantClient
from vnfm_runner.lcm.playbooks import AnsiblePlaybooks
from vnfm_runner.lcm.ports import Events, Ports
from vnfm_runner.notify.journal import Journal
from vnfm_runner.settings import Settings
from vnfm_runner.store import migrate
from vnfm_runner.store.db import Store, now
from vnfm_runner.vims import VimRegistry, preflight


def open_store(url: str) -> Store:
    """A store ready for use: its schema at head (idempotent: one query when it is)
    and the notification journal installed, so changes announce themselves."""
    store = Store(url)
    migrate.upgrade(store.engine)
    store.install_journal(Journal())
    return store


class SystemClock:
    def now(self) -> datetime:
        return now()


def wire(
    settings: Settings, store: Store, events: Events, vims: VimRegistry, grants: GrantClient
) -> Ports:
    """The real ports of the LCM handlers (pure: nothing runs, nothing is written)."""
    return Ports(
        records=store,
        playbooks=AnsiblePlaybooks(settings),
        vims=vims,
        grants=grants,
        clock=SystemClock(),
        events=events,
        lease_ttl=timedelta(seconds=settings.lease_ttl),
        preflight=preflight,
    )
