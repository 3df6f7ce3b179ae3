"""Alembic environment, run by ``vnfm_runner.store.migrate`` only.

The caller hands over an open connection (``config.attributes["connection"]``)
inside the transaction the migrations run in.
"""

from __future__ import annotations

from alembic import context

from vnfm_runner.store.migrate import context_options

context.configure(**context_options(context.config.attributes["connection"]))
with context.begin_transaction():
    context.run_migrations()
