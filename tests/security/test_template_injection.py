"""Template injection: marker-writing Jinja planted in every input the VNFM reads.

Each planted value is ``{{ lookup('pipe', 'touch <markers>/<where>') }}``: if Ansible
ever templated it, a file named after the input would appear. Inputs covered: CLI
flags, API fields, package files (VNFD texts, a hook's file name), the NFVO's grant
answer, the VIM's own answer (a VNFC's recorded software generation), and every
extra var the runner hands to a playbook — which must all be tagged ``!unsafe``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.api.server import make_server, op_id_of, wait_op, zip_dir
from tests.grants.nfvo import NfvoServer
from tests.integration.conftest import WEBFARM, Lifecycle, cleanup_instance

REPO_ROOT = Path(__file__).resolve().parents[2]
PLAIN_SCALAR_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("int", "float", "bool", "null")}


class Markers:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def payload(self, where: str) -> str:
        return f"{{{{ lookup('pipe', 'touch {self.root}/{where}') }}}}"

    def found(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir())


@pytest.fixture
def markers(tmp_path: Path) -> Markers:
    return Markers(tmp_path / "markers")


def hostile_webfarm(dest: Path, markers: Markers) -> Path:
    """webfarm with payloads in the VNFD's texts (manifest digests regenerated)."""
    shutil.copytree(WEBFARM, dest)
    top = dest / "Definitions" / "webfarm_df_default.yaml"
    text = top.read_text()
    text = text.replace(
        "flavour_description: One load balancer, 1 to 8 web servers",
        f"flavour_description: {json.dumps(markers.payload('vnfd-flavour-description'))}",
    )
    text = text.replace(
        "description: Start the web servers, then the load balancer",
        f"description: {json.dumps(markers.payload('vnfd-artifact-description'))}",
    )
    top.write_text(text)
    _remanifest(dest)
    return dest


def _remanifest(package: Path) -> None:
    subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "package-manifest.py"), str(package)],
        check=True,
        capture_output=True,
    )


def unsafe_violations(extravars_yaml: str) -> list[str]:
    """Top-level extra vars that Ansible would template (not tagged ``!unsafe``)."""
    root = yaml.compose(extravars_yaml, Loader=yaml.SafeLoader)
    assert isinstance(root, yaml.MappingNode)
    bad = []
    for key, value in root.value:
        if value.tag == "!unsafe":
            continue
        if isinstance(value, yaml.ScalarNode) and value.tag in PLAIN_SCALAR_TAGS:
            continue  # a number, boolean or null: nothing to template
        bad.append(f"{key.value} ({value.tag})")
    return bad


@pytest.fixture
def recorded_extravars(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every extra vars document the runner writes for a playbook, in this process."""
    import vnfm_runner.executor as executor

    docs: list[str] = []
    real = executor.dump_extravars

    def recording(variables: dict[str, Any]) -> str:
        text = real(variables)
        docs.append(text)
        return text

    monkeypatch.setattr(executor, "dump_extravars", recording)
    yield docs


def test_unsafe_dump_tags_every_value_and_refuses_retyping() -> None:
    from vnfm_runner.unsafe import UnsafeVarError, dump_extravars

    text = dump_extravars(
        {"s": "/a/path", "d": {"x": "on"}, "l": ["{{ x }}"], "n": 3, "b": True, "z": None}
    )
    assert unsafe_violations(text) == []
    tags = {k.value: v.tag for k, v in yaml.compose(text, Loader=yaml.SafeLoader).value}
    assert tags["s"] == tags["d"] == tags["l"] == "!unsafe", tags
    for retyped in ("on", "12", "", "null", "1.5"):
        with pytest.raises(UnsafeVarError):
            dump_extravars({"v": retyped})


def test_the_marker_fires_when_a_value_is_templated_and_not_when_tagged(
    tmp_path: Path, markers: Markers
) -> None:
    """The probe itself works: the same payload writes its marker through plain extra
    vars, and not through the runner's (so the sweeps below can fail)."""
    from vnfm_runner.unsafe import dump_extravars

    play = tmp_path / "play.yml"
    play.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.debug:\n        msg: '{{ v }}'\n"
    )
    for name, text in (
        ("plain", yaml.safe_dump({"v": {"x": markers.payload("plain")}})),
        ("tagged", dump_extravars({"v": {"x": markers.payload("tagged")}})),
    ):
        extra = tmp_path / f"{name}.yml"
        extra.write_text(text)
        done = subprocess.run(
            [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,",
             "-c", "local", str(play), "-e", f"@{extra}"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-2000:]
    assert markers.found() == ["plain"]


def test_a_hook_file_name_that_is_a_template_is_refused(tmp_path: Path, markers: Markers) -> None:
    pkg = tmp_path / "webfarm"
    shutil.copytree(WEBFARM, pkg)
    evil = "x{{ lookup('pipe','id') }}.yml"
    shutil.copy(pkg / "Scripts" / "instantiate_end.yml", pkg / "Scripts" / evil)
    top = pkg / "Definitions" / "webfarm_df_default.yaml"
    top.write_text(
        top.read_text().replace(
            "file: ../Scripts/instantiate_end.yml", f'file: "../Scripts/{evil}"'
        )
    )
    _remanifest(pkg)
    done = subprocess.run(
        [sys.executable, "-m", "vnfm_runner", "package", "validate", str(pkg)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**_env(tmp_path)},
    )
    assert done.returncode != 0, done.stdout
    out = done.stdout + done.stderr
    assert "webfarm_df_default.yaml:" in out and "template delimiters" in out, out
    assert "Traceback" not in out


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    import os

    return {**os.environ, "VNFM_HOME": str(tmp_path / "home"), **extra}


def test_no_input_is_ever_templated_through_cli_service_grant_and_vim(
    lifecycle: Lifecycle, markers: Markers, recorded_extravars: list[str]
) -> None:
    from vnfm_runner.lcm import Vnfm
    from vnfm_runner.settings import Settings

    lc = lifecycle
    pkg = hostile_webfarm(lc.tmp / "webfarm", markers)
    vnfd_id = lc.onboard(pkg)
    inst = lc.track(
        lc.cli_ok(
            "create",
            "--vnfd-id",
            vnfd_id,
            "--name",
            markers.payload("cli-name"),
            "--description",
            markers.payload("cli-description"),
        )
        .strip()
        .splitlines()[-1]
    )
    granted = {
        "computeResourceFlavours": [{"vnfdVirtualComputeDescId": "web", "vimFlavourId": "m1.web"}],
        "softwareImages": [{"vnfdSoftwareImageId": "web", "vimSoftwareImageId": "img-7"}],
    }
    with NfvoServer("sync", assets=granted) as nfvo:
        svc = Vnfm.open(Settings(home=lc.home, nfvo_url=nfvo.url, grant_timeout=10), recover=False)
        op = svc.instantiate(
            instance_id=inst,
            request={
                "flavourId": "default",
                "instantiationLevelId": "small",
                "localizationLanguage": markers.payload("request-language"),
                "additionalParams": {
                    "note": markers.payload("request-param-value"),
                    markers.payload("request-param-key"): "x",
                    "nested": [{"deep": markers.payload("request-nested")}],
                },
                "extensions": {"e": markers.payload("request-extensions")},
            },
        )
        assert op["operationState"] == "COMPLETED", op.get("error")

        # The VIM's answer: the software generation a VNFC records is read back by
        # discovery on every reconcile.
        subprocess.run(
            [
                "ip",
                "-n",
                f"vnfm-{inst}-web-1",
                "link",
                "set",
                "lo",
                "alias",
                markers.payload("vim-lo-alias")[:200],
            ],
            check=True,
        )
        op = svc.run_operation(
            instance_id=inst,
            operation="SCALE",
            request={
                "type": "SCALE_OUT",
                "aspectId": "web",
                "numberOfSteps": 1,
                "additionalParams": {"why": markers.payload("scale-param")},
            },
        )
        assert op["operationState"] in ("COMPLETED", "FAILED_TEMP"), op
        if op["operationState"] == "FAILED_TEMP":
            svc.rollback(op["id"])

        # A hostile grant: refused before anything reaches Ansible, the field named.
        nfvo.assets = {
            "computeResourceFlavours": [
                {
                    "vnfdVirtualComputeDescId": "web",
                    "vimFlavourId": markers.payload("grant-flavour"),
                }
            ],
            "softwareImages": [
                {"vnfdSoftwareImageId": "web", "vimSoftwareImageId": markers.payload("grant-image")}
            ],
        }
        op = svc.run_operation(
            instance_id=inst,
            operation="HEAL",
            request={"vnfcInstanceId": ["web-0"], "cause": markers.payload("heal-cause")},
        )
        assert op["operationState"] == "FAILED_TEMP", op
        assert "vimFlavourId" in json.dumps(op.get("error")), op.get("error")
        svc.fail(op["id"])

        nfvo.assets = granted
        lc.cli_ok(
            "modify",
            inst,
            "--name",
            markers.payload("cli-modify"),
            "--set",
            f"owner={markers.payload('cli-set')}",
        )
        op = svc.run_operation(
            instance_id=inst,
            operation="HEAL",
            request={"vnfcInstanceId": ["web-0"], "cause": markers.payload("heal-cause-2")},
        )
        assert op["operationState"] == "COMPLETED", op.get("error")
        op = svc.terminate(
            instance_id=inst,
            request={
                "terminationType": "FORCEFUL",
                "additionalParams": {"t": markers.payload("terminate-param")},
            },
        )
        assert op["operationState"] == "COMPLETED", op.get("error")

    assert markers.found() == [], "templated: " + ", ".join(markers.found())
    assert recorded_extravars, "no playbook ran"
    seen: set[str] = set()
    for doc in recorded_extravars:
        assert unsafe_violations(doc) == [], doc[:2000]
        seen.update(str(k) for k in yaml.safe_load(doc.replace("!unsafe", "")) or {})
    assert {
        "vnfm_request",
        "vnfm_vim_mapping",
        "vnfm_hooks",
        "vnfm_package_dir",
        "vnfm_vnf_instance_id",
        "vnfm_additional_params",
        "vnfm_operation_id",
    } <= seen, seen


def test_no_api_field_is_templated(tmp_path: Path, markers: Markers) -> None:
    from tests.integration.conftest import privileged

    if not privileged():
        pytest.skip("needs root for the local VIM")
    (tmp_path / "home").mkdir()
    srv = make_server(tmp_path / "home").start()
    inst = None
    try:
        with srv.client() as c:
            r = c.post(
                "/vnfpkgm/v1/vnf_packages",
                json={"userDefinedData": {"k": markers.payload("api-pkg-udd")}},
            )
            assert r.status_code == 201, r.text
            pkg_id = r.json()["id"]
            r = c.put(
                f"/vnfpkgm/v1/vnf_packages/{pkg_id}/package_content",
                content=zip_dir(WEBFARM),
                headers={"Content-Type": "application/zip"},
            )
            assert r.status_code == 202, r.text
            vnfd_id = _wait_onboarded(c, pkg_id)
            r = c.post(
                "/vnflcm/v2/vnf_instances",
                json={
                    "vnfdId": vnfd_id,
                    "vnfInstanceName": markers.payload("api-name"),
                    "vnfInstanceDescription": markers.payload("api-description"),
                    "metadata": {"m": markers.payload("api-metadata")},
                },
            )
            assert r.status_code == 201, r.text
            inst = r.json()["id"]
            r = c.post(
                f"/vnflcm/v2/vnf_instances/{inst}/instantiate",
                json={
                    "flavourId": "default",
                    "instantiationLevelId": "small",
                    "additionalParams": {
                        "a": markers.payload("api-param"),
                        "lcm-operation-user-data": markers.payload("api-userdata"),
                    },
                },
            )
            done = wait_op(c, op_id_of(r), ("COMPLETED", "FAILED_TEMP", "ROLLED_BACK"))
            assert done["operationState"] == "COMPLETED", done.get("error")
            r = c.patch(
                f"/vnflcm/v2/vnf_instances/{inst}",
                json={"extensions": {"x": markers.payload("api-patch")}},
                headers={"Content-Type": "application/merge-patch+json"},
            )
            assert r.status_code == 202, r.text
            wait_op(c, op_id_of(r), ("COMPLETED", "FAILED_TEMP"))
            r = c.post(
                f"/vnflcm/v2/vnf_instances/{inst}/terminate",
                json={
                    "terminationType": "FORCEFUL",
                    "additionalParams": {"t": markers.payload("api-terminate")},
                },
            )
            done = wait_op(c, op_id_of(r), ("COMPLETED", "FAILED_TEMP"))
            assert done["operationState"] == "COMPLETED", done.get("error")
    finally:
        srv.stop()
        if inst:
            cleanup_instance(inst)
    assert markers.found() == [], "templated: " + ", ".join(markers.found())


def _wait_onboarded(c: Any, pkg_id: str) -> str:
    import time

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        doc = c.get(f"/vnfpkgm/v1/vnf_packages/{pkg_id}").json()
        if doc["onboardingState"] == "ONBOARDED":
            return str(doc["vnfdId"])
        assert doc["onboardingState"] != "ERROR", doc
        time.sleep(0.2)
    raise AssertionError("package never onboarded")
