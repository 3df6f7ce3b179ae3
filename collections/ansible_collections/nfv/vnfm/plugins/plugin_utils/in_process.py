# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""A module's code run in the task's worker on the controller (issue 17).

The collection's action plugins of the same name as a module (``vnf_plan``,
``vnf_resources``) take the module's own argument spec and entry function from
``module_utils`` and answer as the module would: the arguments checked and given their
defaults, the module's refusals as a one-line ``msg``, an unexpected exception as a
failure with its cause and its traceback in ``exception``, ``no_log`` values masked, and
the result in plain JSON types. Nothing is shipped and no interpreter started.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable
from typing import Any

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values


def run_as_module(
    args: dict[str, Any],
    spec: dict[str, dict[str, Any]],
    entry: Callable[[dict[str, Any]], dict[str, Any]],
    refusals: tuple[type[Exception], ...],
    required_if: list[Any] | None = None,
) -> dict[str, Any]:
    """What the module would return for ``args`` (its JSON), ``failed`` included."""
    # The arguments as a module receives them (plain JSON types).
    plain = json.loads(json.dumps(args))
    checked = ArgumentSpecValidator(spec, required_if=required_if).validate(plain)
    if checked.error_messages:
        return {"failed": True, "msg": "; ".join(checked.error_messages)}
    result: dict[str, Any]
    try:
        # ... and the result as the module's JSON would carry it back.
        result = json.loads(json.dumps(entry(checked.validated_parameters)))
    except refusals as exc:
        result = {"failed": True, "changed": False, "msg": str(exc)}
    except Exception as exc:  # what a module would die of: its cause and traceback
        result = {
            "failed": True,
            "changed": False,
            "msg": f"{type(exc).__name__}: {exc}",
            "exception": traceback.format_exc(),
        }
    masked: dict[str, Any] = remove_values(result, checked._no_log_values)
    return masked
