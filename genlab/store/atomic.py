"""Atomic file replacement: a reader sees the old file or the new one, never half of either.

Every file GenLab replaces (JSON state, checkpoints, snapshots, evaluators, uploads) is
written to a temporary name in the same folder, flushed to disk, moved over the old one
with os.replace, and the folder itself is flushed so the rename survives a power cut.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from genlab.store.faults import fault_point

# Temporary files are named .<name>.<pid>.<thread>.tmp: unique per writer, and the pid tells
# which process an abandoned one belonged to.
TMP_SUFFIX = ".tmp"
# Also the older .<name>.<pid>.tmp.
TEMP_PATTERN = re.compile(r"\..+?\.(\d+)(?:\.\d+)?\.tmp")


def temp_path(path: Path) -> Path:
    """A temporary name beside `path`, unique to this process and thread."""
    return path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}{TMP_SUFFIX}")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def replacing(path: Path, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path to write `path`'s new contents to. When the block ends without
    an error, the file and then its folder are flushed and the file replaces `path` (with
    permissions `mode`, when given, before anyone can open it by that name); on an error the
    temporary file is removed and `path` is untouched."""
    path = Path(path)
    tmp = temp_path(path)
    if mode is not None:  # created with its permissions, so its contents are never open to others
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode))
    try:
        yield tmp
        fault_point(f"write:{path.name}")
        if mode is not None:
            os.chmod(tmp, mode)
        _fsync(tmp)
        os.replace(tmp, path)
        _fsync(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    with replacing(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: Path, text: str, mode: int | None = None) -> None:
    with replacing(path, mode) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(path: Path, obj: Any, mode: int | None = None) -> None:
    """`obj` as indented JSON with sorted keys."""
    write_text_atomic(path, json.dumps(obj, indent=1, sort_keys=True), mode)


def remove_stale_temps(folder: Path, alive: Callable[[int], bool]) -> list[str]:
    """Remove the temporary files that processes no longer `alive` left in `folder` (each an
    interrupted atomic write, perhaps a whole checkpoint); return their names."""
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = TEMP_PATTERN.fullmatch(name)
        if match and not alive(int(match.group(1))):
            with contextlib.suppress(OSError):
                (Path(folder) / name).unlink()
                removed.append(name)
    return removed
