"""How operate stops a VNFC, read once for every driver (module_utils/vim/stop.py)."""

from __future__ import annotations

from typing import Any

import pytest
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.base import VimError
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.stop import stop_grace, stop_settings


def plan(**inputs: Any) -> dict[str, Any]:
    return {"inputs": inputs}


def test_the_grace_a_stopping_vnfc_gets() -> None:
    assert stop_grace({}) is None  # no operate yet: the VIM's own default
    assert stop_grace(plan(stopType="GRACEFUL")) is None
    assert stop_grace(plan(stopType="GRACEFUL", gracefulStopTimeout=2.5)) == 3  # rounded up
    assert stop_grace(plan(stopType="GRACEFUL", gracefulStopTimeout=0)) == 0
    assert stop_grace(plan(stopType="FORCEFUL", gracefulStopTimeout=30)) == 0
    assert stop_settings(plan(gracefulStopTimeout=7)) == ("GRACEFUL", 7.0)


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"inputs": ["stopType"]}, "'inputs' must be a mapping"),
        (plan(stopType="SOON"), "inputs.stopType must be GRACEFUL or FORCEFUL, got 'SOON'"),
        (plan(gracefulStopTimeout=True), "inputs.gracefulStopTimeout must be a number"),
        (plan(gracefulStopTimeout=-1), "inputs.gracefulStopTimeout must be a number"),
        (plan(gracefulStopTimeout="30"), "inputs.gracefulStopTimeout must be a number"),
    ],
)
def test_a_bad_value_names_its_field(doc: dict[str, Any], field: str) -> None:
    with pytest.raises(VimError, match=field.replace("(", r"\(")):
        stop_grace(doc)
