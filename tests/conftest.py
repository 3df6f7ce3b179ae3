"""Fixtures shared by several test folders."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.notify.subscriber import Subscriber


@pytest.fixture
def subscriber() -> Iterator[Subscriber]:
    """A real HTTP callback server an NFVO would run, closed after the test."""
    sub = Subscriber()
    try:
        yield sub
    finally:
        sub.close()
