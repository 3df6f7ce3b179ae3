"""Durable records: VNF packages, VNF instances, LCM operation occurrences, VIMs."""

from vnfm_runner.store.db import Store

__all__ = ["Store"]
