"""The VNF model of an onboarded package, read once per process while its files stand still.

Every operation (and every pass of the assurance loops) starts from its instance's
package model; reading it parses and checks the whole VNFD (30-70 ms for webfarm, per
operation, issue 17). An onboarded package's files do not change, but the model is
keyed by what the files say of themselves anyway (path, size, modification time of
each), so an edited directory is read again. Callers get their own deep copy: a model
one of them changes never reaches another.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from pathlib import Path

from vnfm_runner.core import VnfModel, load_vnf
from vnfm_runner.file_stamps import Stamp, stamps

KEEP = 32  # models kept (a few per product and version)

_lock = threading.Lock()
_models: OrderedDict[tuple[str, tuple[Stamp, ...]], VnfModel] = OrderedDict()


def package_model(path: str | Path) -> VnfModel:
    """The model of the package unpacked at ``path`` (load_vnf's errors as they are)."""
    root = Path(path)
    if not root.is_dir():  # an archive: read as it is
        model, _warnings = load_vnf(root)
        return model
    key = (str(root.resolve()), stamps(root))
    with _lock:
        cached = _models.get(key)
        if cached is not None:
            _models.move_to_end(key)
            return copy.deepcopy(cached)
    model, _warnings = load_vnf(root)
    with _lock:
        _models[key] = model
        while len(_models) > KEEP:
            _models.popitem(last=False)
    return copy.deepcopy(model)


def forget() -> None:
    """Drop every kept model (tests)."""
    with _lock:
        _models.clear()
