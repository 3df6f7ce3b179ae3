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


@pytest.fixture
def subscribers() -> Iterator[list[Subscriber]]:
    """The subscribers a test makes (tests.notify.subscriber.new_subscriber), closed after it."""
    made: list[Subscriber] = []
    try:
        yield made
    finally:
        for sub in made:
            sub.close()
