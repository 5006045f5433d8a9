"""A user's uploaded zip of images, kept under the data folder by its content hash."""

from __future__ import annotations

import hashlib
from pathlib import Path

from genlab.atomic import write_bytes_atomic
from genlab.data import data_dir

UPLOAD_LIMIT_MB = 200


def store_upload(raw: bytes) -> Path:
    """Keep an uploaded zip as uploads/<sha256 prefix>.zip (the same zip is kept once); return its path."""
    target = data_dir() / "uploads" / f"{hashlib.sha256(raw).hexdigest()[:16]}.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        write_bytes_atomic(target, raw)
    return target
