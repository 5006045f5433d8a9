"""A user's uploaded zip of images, kept under the data folder by its content hash and
under the name the user gave it, so every message about it names the user's file."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from genlab.atomic import write_bytes_atomic
from genlab.data import data_dir

UPLOAD_LIMIT_MB = 200
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(filename: str) -> str:
    """The browser-sent file name reduced to a harmless .zip name: letters, digits, '.', '_'
    and '-' only, no leading dot, at most 60 characters."""
    stem = _UNSAFE.sub("_", Path(filename).stem).strip("._")[:56] or "upload"
    return f"{stem}.zip"


def store_upload(raw: bytes, filename: str = "upload.zip") -> Path:
    """Keep an uploaded zip as uploads/<sha256 prefix>/<safe file name> (the same bytes under
    the same name are kept once); return its path."""
    target = data_dir() / "uploads" / hashlib.sha256(raw).hexdigest()[:16] / safe_name(filename)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        write_bytes_atomic(target, raw)
    return target
