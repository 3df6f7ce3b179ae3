"""What the files below a directory say of themselves: a cheap test of "did anything
change here" without reading them (the package model cache, the compile cache's
generation)."""

from __future__ import annotations

import os
from pathlib import Path

Stamp = tuple[str, int, int]  # (path relative to the directory, size, mtime in ns)


def stamps(root: str | Path) -> tuple[Stamp, ...]:
    """(relative path, size, modification time) of every file below ``root``, in a fixed
    order; files that vanish while being read, and an absent ``root``, give nothing."""
    out: list[Stamp] = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(folder, name)
            try:
                info = os.stat(full)
            except OSError:
                continue
            out.append((os.path.relpath(full, root), info.st_size, info.st_mtime_ns))
    return tuple(out)
