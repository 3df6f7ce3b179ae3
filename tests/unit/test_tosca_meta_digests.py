"""TOSCA.meta file blocks are integrity claims: a block with a digest must match its file.

A block with ``Algorithm``/``Hash`` whose file is absent, whose digest differs, whose
algorithm is unknown or whose key or value is missing refuses the package (even without
--strict), naming TOSCA.meta's line; a block without a digest only names a file (often an
image delivered out of band), so its absence is a warning. Tacker ships such negative
packages (``csar_in_meta_and_manifest_false_hash`` …) and they must not instantiate.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from vnfd_builders import base_vnfd, dump, write_package

from vnfm_runner.core import PackageError, load_vnf

SCRIPT = b"#!/bin/sh\necho configured\n"
GOOD = hashlib.sha256(SCRIPT).hexdigest()
HEAD = (
    "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-by: tests\n"
    "Entry-Definitions: Definitions/vnfd.yaml\n\n"
)


def package(tmp_path: Path, block: str, with_file: bool = True) -> Path:
    files: dict[str, str | bytes | dict[str, object]] = {"Definitions/vnfd.yaml": dump(base_vnfd())}
    if with_file:
        files["Scripts/install.sh"] = SCRIPT
    return write_package(tmp_path / "pkg", files, meta=HEAD + block)


def test_a_matching_digest_is_accepted_in_any_case(tmp_path: Path) -> None:
    block = f"Name: Scripts/install.sh\nAlgorithm: SHA-256\nHash: {GOOD.upper()}\n"
    model, warnings = load_vnf(package(tmp_path, block))
    assert model.flavours and not [w for w in warnings if "install.sh" in str(w)]


@pytest.mark.parametrize(
    ("block", "with_file", "line", "message"),
    [
        (f"Name: Scripts/install.sh\nAlgorithm: SHA-256\nHash: {'0' * 64}\n", True, 8,
         "Scripts/install.sh: hash mismatch (SHA-256 is " + GOOD),
        (f"Name: Scripts/install.sh\nAlgorithm: SHA-255\nHash: {GOOD}\n", True, 7,
         "unsupported Algorithm 'SHA-255'"),
        (f"Name: Scripts/install.sh\nHash: {GOOD}\n", True, 6,
         "Scripts/install.sh: TOSCA.meta Algorithm is missing (the block gives Hash)"),
        ("Name: Scripts/install.sh\nAlgorithm: SHA-256\nHash:\n", True, 6,
         "Scripts/install.sh: TOSCA.meta Hash has no value"),
        (f"Name: Scripts/instal.sh\nAlgorithm: SHA-256\nHash: {GOOD}\n", True, 6,
         "file listed in TOSCA.meta is not in the package: Scripts/instal.sh"),
    ],
)  # fmt: skip
def test_a_broken_digest_claim_refuses_the_package(
    tmp_path: Path, block: str, with_file: bool, line: int, message: str
) -> None:
    with pytest.raises(PackageError) as info:
        load_vnf(package(tmp_path, block, with_file))
    errors = [str(p) for p in info.value.problems if p.severity == "error"]
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"TOSCA-Metadata/TOSCA.meta:{line}: "), errors
    assert message in errors[0], errors


def test_a_listed_file_without_digest_may_be_absent(tmp_path: Path) -> None:
    block = "Name: Files/images/cirros.img\nContent-Type: application/x-iso9066-image\n"
    _model, warnings = load_vnf(package(tmp_path, block, with_file=False))
    assert [str(w) for w in warnings if "cirros.img" in str(w)] == [
        "TOSCA-Metadata/TOSCA.meta:6: warning: file listed in TOSCA.meta is not in the "
        "package: Files/images/cirros.img"
    ]


def test_a_remote_name_is_never_fetched(tmp_path: Path) -> None:
    block = f"Name: https://example.invalid/image.img\nAlgorithm: SHA-256\nHash: {GOOD}\n"
    model, _warnings = load_vnf(package(tmp_path, block, with_file=False))
    assert model.flavours
