"""The security suites reuse the lifecycle fixture of the integration tests."""

from tests.integration.conftest import lifecycle

__all__ = ["lifecycle"]
