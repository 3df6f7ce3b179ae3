"""The corpus tests share the lifecycle fixture of the end-to-end tests."""

from tests.integration.conftest import lifecycle

__all__ = ["lifecycle"]
