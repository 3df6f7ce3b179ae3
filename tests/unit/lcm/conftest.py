"""The handler unit tests: real handlers and planner, in-memory ports (fakes.py)."""

from __future__ import annotations

import pytest

from tests.unit.lcm.fakes import World


@pytest.fixture
def world() -> World:
    return World()
