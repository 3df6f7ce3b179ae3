"""The package model is read once while the package's files stand still; each caller
gets its own copy; a changed file or a broken package is read (and refused) again."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vnfm_runner import package_models
from vnfm_runner.core import PackageError
from vnfm_runner.paths import EXAMPLES_DIR


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    calls: list[str] = []
    real = package_models.load_vnf

    def counting(path: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(package_models, "load_vnf", counting)
    package_models.forget()
    yield calls
    package_models.forget()


@pytest.fixture
def webfarm(tmp_path: Path) -> Path:
    return Path(shutil.copytree(EXAMPLES_DIR / "webfarm", tmp_path / "webfarm"))


def test_a_package_is_read_once_and_each_caller_gets_its_own_model(
    reads: list[str], webfarm: Path
) -> None:
    first = package_models.package_model(webfarm)
    flavours = [f.id for f in first.flavours]
    first.flavours.clear()  # a caller that changes its model
    second = package_models.package_model(webfarm)
    assert len(reads) == 1
    assert second is not first and [f.id for f in second.flavours] == flavours
    assert [f.id for f in package_models.package_model(str(webfarm)).flavours] == flavours
    assert len(reads) == 1


def test_a_changed_file_is_read_again(reads: list[str], webfarm: Path) -> None:
    package_models.package_model(webfarm)
    readme = webfarm / "README.md"
    later = readme.stat().st_mtime + 10
    os.utime(readme, (later, later))
    package_models.package_model(webfarm)
    assert len(reads) == 2


def test_a_broken_package_is_refused_every_time(reads: list[str], webfarm: Path) -> None:
    (webfarm / "TOSCA-Metadata" / "TOSCA.meta").write_text("nonsense: [\n")
    for _ in range(2):
        with pytest.raises(PackageError):
            package_models.package_model(webfarm)
    assert len(reads) == 2


def test_only_the_last_models_are_kept(
    reads: list[str], webfarm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(package_models, "KEEP", 1)
    other = Path(shutil.copytree(webfarm, webfarm.parent / "other"))
    package_models.package_model(webfarm)
    package_models.package_model(other)
    package_models.package_model(other)
    package_models.package_model(webfarm)
    assert len(reads) == 3
