"""The API's shape, read in-process from the app: one task route per row of the
operation table, a response documented on every route, listings written once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute

from vnfm_runner.api import models, vnflcm
from vnfm_runner.api.app import create_app
from vnfm_runner.api.deps import Listing
from vnfm_runner.domain import OPERATIONS, Operation
from vnfm_runner.settings import Settings

INST = "/vnflcm/v2/vnf_instances"
LISTING = {"filter", "nextpage_opaque_marker", "all_fields", "fields", "exclude_fields"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    home: Path = tmp_path_factory.mktemp("vnfm-routes")
    return create_app(Settings(home=home))


def _routes() -> dict[tuple[str, str], APIRoute]:
    return {
        (method, r.path): r
        for r in vnflcm.router.routes
        if isinstance(r, APIRoute)
        for method in r.methods
    }


def test_one_task_route_per_row_of_the_operation_table() -> None:
    routes = _routes()
    for spec in OPERATIONS.values():
        if spec.operation is Operation.CUSTOM:
            continue  # package-defined: no SOL003 task resource
        if spec.operation is Operation.MODIFY_INFO:
            route = routes[("PATCH", f"{INST}/{{instance_id}}")]
        else:
            route = routes[("POST", f"{INST}/{{instance_id}}/{spec.api_task}")]
        assert route.status_code == 202, spec.operation
        body = route.body_field
        assert body is not None and body.field_info.annotation is getattr(
            models, spec.request_model
        )


def test_every_route_documents_its_answers(app: Any) -> None:
    doc = app.openapi()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            ok = [s for s in op["responses"] if str(s).startswith("2")]
            assert ok, f"{method} {path}"
            for status in ok:
                content = op["responses"][status].get("content", {})
                schema = content.get("application/json", {}).get("schema")
                # a JSON answer names its model; the rest are bodiless or files
                assert schema is None or schema != {}, f"{method} {path} {status}"
            errors = op["responses"].get("404") or op["responses"].get("400")
            if path != "/oauth2/token":
                assert errors is not None, f"{method} {path}"
                assert errors["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ProblemDetails"
                }


def test_every_list_takes_the_same_listing_parameters(app: Any) -> None:
    doc = app.openapi()
    lists = [
        p
        for p, item in doc["paths"].items()
        if "get" in item and "{" not in p and not p.endswith("api_versions")
    ]
    # instances, op occs, packages, alarms, 3 x subscriptions (LCM, package management, FM),
    # VNF indicators and their subscriptions, PM jobs and thresholds
    assert len(lists) == 11, lists
    for path in lists:
        names = {p["name"] for p in doc["paths"][path]["get"]["parameters"]}
        assert names >= LISTING, path


def test_listing_selector_checks_combinations() -> None:
    with pytest.raises(Exception, match="cannot be combined"):
        Listing(fields="a", exclude_fields="b").selector(())
