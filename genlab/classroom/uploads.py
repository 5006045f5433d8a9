"""A user's uploaded zip of images, kept under the data folder by its content hash and
under the name the user gave it, so every message about it names the user's file.

An upload is read from memory while the user settles the settings (`load_zip_bytes`) and
written to disk only when a run is launched on it (`store_upload`); in a class, into the
user's own folder, within their quota. It is removed with the last run that used it
(`remove_unused`).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from genlab import settings
from genlab.classroom.access import OverQuota, User
from genlab.store.atomic import write_bytes_atomic
from genlab.store.locks import exclusive

UPLOAD_LIMIT_MB = 200
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(filename: str) -> str:
    """The browser-sent file name reduced to a harmless .zip name: letters, digits, '.', '_'
    and '-' only, no leading dot, at most 60 characters."""
    stem = _UNSAFE.sub("_", Path(filename).stem).strip("._")[:56] or "upload"
    return f"{stem}.zip"


def uploads_dir() -> Path:
    return settings.data_dir() / "uploads"


def content_id(raw: bytes) -> str:
    """An upload's name for its content: the start of its SHA-256."""
    return hashlib.sha256(raw).hexdigest()[:16]


def upload_path(content: str, filename: str, user: User | None = None) -> Path:
    """Where `store_upload` keeps the bytes with this `content_id`:
    uploads/[<user>/]<content id>/<safe name>."""
    folder = uploads_dir() / user.name if user else uploads_dir()
    return folder / content / safe_name(filename)


def used_bytes(user: User) -> int:
    folder = uploads_dir() / user.name
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) if folder.is_dir() else 0


def store_upload(raw: bytes, filename: str = "upload.zip", user: User | None = None) -> Path:
    """Keep an uploaded zip at `upload_path` (the same bytes under the same name are kept
    once); return its path. A student past their quota gets OverQuota, and nothing is
    written; the check and the write hold the uploads' lock, so two uploads at once cannot
    both fit in room for one."""
    target = upload_path(content_id(raw), filename, user)
    uploads_dir().mkdir(parents=True, exist_ok=True)
    with exclusive(settings.data_dir() / ".uploads.lock"):
        if target.exists():
            return target
        if user is not None and not user.teacher:
            used, limit = used_bytes(user), settings.upload_quota_mb() * 2**20
            if used + len(raw) > limit:
                raise OverQuota(f"{user.name}'s uploads would take {(used + len(raw)) / 2**20:.0f} MB of the "
                                f"{limit / 2**20:.0f} MB allowed per student: delete runs on uploads you no longer "
                                "need (an upload goes with its last run)")
        target.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(target, raw)
    return target


def remove_unused(path: str | None, paths_in_use: set[str]) -> bool:
    """Remove an uploaded file (and its emptied folders) when no run uses it any more;
    anything outside the uploads folder is left alone. Returns whether it was removed."""
    if not path or path in paths_in_use:
        return False
    target, root = Path(path).resolve(), uploads_dir().resolve()
    if root not in target.parents or not target.is_file():
        return False
    target.unlink()
    for folder in target.parents:
        if folder == root or any(folder.iterdir()):
            break
        folder.rmdir()
    return True
