"""Issue 7: the CLI keeps working against the same store while the server runs, and what
it does is notified. A webfarm instantiated over the API on the local VIM (root) is
scaled out by ``vnfm scale`` in its own process; the subscriber hears START and every
RESULT of that SCALE, in order, through the server's delivery worker."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.api.server import (
    WEBFARM,
    Server,
    make_server,
    onboard_via_api,
    op_id_of,
    wait_op,
    zip_dir,
)
from tests.integration.conftest import cleanup_instance, requires_root
from tests.notify.subscriber import Subscriber

pytestmark = requires_root

INST = "/vnflcm/v2/vnf_instances"
OP_OCC = "VnfLcmOperationOccurrenceNotification"
FAST = {"notify_timeout": "3", "notify_retry_min": "0.2", "notify_poll_interval": "0.2"}


@pytest.fixture
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = make_server(tmp_path_factory.mktemp("vnfm-cli-notify"), **FAST).start()
    try:
        yield srv
    finally:
        srv.stop()


def test_cli_scale_next_to_the_server_is_notified(server: Server, subscriber: Subscriber) -> None:
    iid = ""
    try:
        with server.client() as c:
            vnfd_id = onboard_via_api(c, zip_dir(WEBFARM))["vnfdId"]
            r = c.post(
                "/vnflcm/v2/subscriptions",
                json={"callbackUri": subscriber.url, "filter": {"operationTypes": ["SCALE"]}},
            )
            assert r.status_code == 201, r.text
            iid = c.post(INST, json={"vnfdId": vnfd_id, "vnfInstanceName": "cli-scale"}).json()[
                "id"
            ]
            r = c.post(
                f"{INST}/{iid}/instantiate",
                json={"flavourId": "default", "instantiationLevelId": "small"},
            )
            op = wait_op(c, op_id_of(r), ("COMPLETED", "FAILED_TEMP", "ROLLED_BACK"))
            assert op["operationState"] == "COMPLETED", op.get("error")

            out = server.cli("scale", iid, "--type", "SCALE_OUT", "--aspect", "web", "--quiet")
            assert "COMPLETED" in out, out

            got = subscriber.wait_for(3, iid, timeout=30)
            time.sleep(0.5)
            got = subscriber.of(iid)
            states = [(n["operationState"], n["notificationStatus"]) for n in got]
            assert states[0] == ("STARTING", "START")
            assert states[-1] == ("COMPLETED", "RESULT")
            assert all(s == ("PROCESSING", "RESULT") for s in states[1:-1]), states
            assert {n["notificationType"] for n in got} == {OP_OCC}
            assert {n["operation"] for n in got} == {"SCALE"}
            assert len({n["vnfLcmOpOccId"] for n in got}) == 1
            added = [v for v in got[-1].get("affectedVnfcs", []) if v["changeType"] == "ADDED"]
            assert added, got[-1]  # FULL verbosity: what the scale-out added

            server.cli("terminate", iid, "--quiet")
            server.cli("delete", iid)
            assert c.get(f"{INST}/{iid}").status_code == 404
    finally:
        if iid:
            cleanup_instance(iid)
