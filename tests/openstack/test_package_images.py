"""A VNF package that ships its image: instantiate uploads it to Glance (the VIM has no
image of that name), the server boots from it, terminate removes it.

Real service (``vnfm_runner.lcm.Vnfm``), real ansible-runner, the project's OpenStack test
bed; checked on the VIM with openstacksdk (admin). Skipped when the bed is down (this test
never starts it), unless ``CI`` is set.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.openstack.test_openstack_vim import (
    _from_fixture,
    _testbed_up,
    add_bed_vim,
    brute_force_cleanup,
    leftovers,
    prefix_of,
)
from tests.openstack.test_operations_openstack import NO_HOOKS, PUBLIC_LINK, _variant

openstack = pytest.importorskip("openstack")

pytestmark = [pytest.mark.openstack, pytest.mark.timeout(1800)]

REPO = Path(__file__).resolve().parents[2]
IMAGE_FILE = "Files/images/lb-tiny.img"


def _package_with_image(dst: Path, image_name: str) -> tuple[Path, bytes]:
    """webfarm whose lb VDU boots an image the package ships (a few KB, raw)."""
    pkg = dst / "pkg"
    content = b"vnfm-toolkit package image\n" + os.urandom(4096)
    digest = hashlib.sha256(content).hexdigest()
    with contextlib.suppress(FileExistsError):
        dst.mkdir(parents=True)
    # the copy (new vnfdId) first; the manifest is regenerated after the edit below
    _variant(pkg, str(uuid.uuid4()))
    (pkg / IMAGE_FILE).parent.mkdir(parents=True, exist_ok=True)
    (pkg / IMAGE_FILE).write_bytes(content)
    vnfd = pkg / "Definitions" / "webfarm_df_default.yaml"
    text = vnfd.read_text()
    lb = text.index("\n    lb:\n")
    end = text.index("\n    web:\n") if "\n    web:\n" in text[lb:] else len(text)
    block = text[lb:end]
    block = re.sub(
        r"sw_image_data:\n(\s+)name: [^\n]+\n",
        lambda m: f"sw_image_data:\n{m[1]}name: {image_name}\n",
        block,
        count=1,
    )
    block = re.sub(r"(\s+)hash: [0-9a-f]{64}", lambda m: f"{m[1]}hash: {digest}", block, count=1)
    block = re.sub(r"disk_format: qcow2", "disk_format: raw", block, count=1)
    block = re.sub(
        r"\n(\s+)artifacts:\n",
        lambda m: (
            f"\n{m[1]}artifacts:\n{m[1]}  sw_image:\n"
            f"{m[1]}    type: tosca.artifacts.nfv.SwImage\n"
            f"{m[1]}    file: ../{IMAGE_FILE}\n"
        ),
        block,
        count=1,
    )
    assert image_name in block and IMAGE_FILE in block, block[:2000]
    vnfd.write_text(text[:lb] + block + text[end:])
    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "package-manifest.py"), str(pkg)],
        check=True,
        capture_output=True,
    )
    return pkg, content


def test_instantiate_uploads_the_image_the_package_ships(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if not _testbed_up():
        if os.environ.get("CI"):
            pytest.fail("the OpenStack test bed is not up (scripts/openstack-testbed up)")
        pytest.skip("the OpenStack test bed is not up (scripts/openstack-testbed up)")
    bed = request.getfixturevalue("openstack_cloud")
    cloud = _from_fixture(bed)
    from vnfm_runner.lcm import Vnfm
    from vnfm_runner.settings import Settings

    sdk = bed.connect(cloud.admin)
    image_name = f"vnfm-test-pkg-image-{uuid.uuid4().hex[:8]}"
    assert not list(sdk.image.images(name=image_name))
    pkg_dir, content = _package_with_image(tmp_path, image_name)
    svc = Vnfm.open(Settings(home=tmp_path / "vnfm-home", default_vim="local"), recover=False)
    # the web VDUs boot the bed's cirros; lb's image comes from the package
    add_bed_vim(svc, cloud=cloud.demo, clouds_file=cloud.path, one_host=True)
    pkg = svc.onboard(pkg_dir)
    inst = svc.create(vnfd_id=pkg.vnfd_id, name="pkg-image")["id"]
    upload_name = f"{prefix_of(inst)}-img-lb"
    try:
        op = svc.instantiate(
            instance_id=inst,
            request={
                "flavourId": "default",
                "instantiationLevelId": "small",
                "extVirtualLinks": [PUBLIC_LINK],
                "additionalParams": NO_HOOKS,
            },
            vim_name="bed",
        )
        assert op["operationState"] == "COMPLETED", json.dumps(op.get("error"))[:4000]
        (image,) = list(sdk.image.images(name=upload_name))
        assert image.status == "active" and image.size == len(content)
        assert image.disk_format == "raw"
        assert b"".join(sdk.image.download_image(image, stream=True).iter_content(65536)) == (
            content
        )
        info = svc.instance(inst).doc["instantiatedVnfInfo"]
        lb = next(v for v in info["vnfcResourceInfo"] if v["vduId"] == "lb")
        server = sdk.compute.get_server(lb["computeResource"]["resourceId"])
        assert server.image.id == image.id
        webs = [v for v in info["vnfcResourceInfo"] if v["vduId"] == "web"]
        cirros = {i.id for i in sdk.image.images(name="cirros")}
        for web in webs:
            assert sdk.compute.get_server(web["computeResource"]["resourceId"]).image.id in cirros

        op = svc.terminate(
            instance_id=inst,
            request={"terminationType": "FORCEFUL", "additionalParams": NO_HOOKS},
        )
        assert op["operationState"] == "COMPLETED", json.dumps(op.get("error"))[:4000]
        assert not list(sdk.image.images(name=upload_name))  # the instance's image went with it
        assert not any(leftovers(sdk, inst).values()), leftovers(sdk, inst)
    finally:
        brute_force_cleanup(sdk, inst)
        for image in list(sdk.image.images(name=upload_name)):
            with contextlib.suppress(Exception):
                sdk.image.delete_image(image)
