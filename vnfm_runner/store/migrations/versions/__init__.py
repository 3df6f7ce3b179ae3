"""Alembic revisions, oldest first: ``NNNN_<slug>.py``."""
