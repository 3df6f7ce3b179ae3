"""Alembic migrations of the store (applied by ``Store`` at construction)."""
