"""Reading a JSON object back from a file GenLab wrote, with one clear message for each way
it can have gone wrong (missing, unreadable, corrupt, not an object). The run store, the
class roster and the command line's --config all read through it, each naming its file
the way its reader knows it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_json_object(path: Path, where: str | None = None, error: type[ValueError] = ValueError) -> dict[str, Any]:
    """The JSON object in `path`; `error` when it is missing, unreadable, corrupt or not an
    object, naming the file as "<name> of <where>" (or by its path when `where` is None)."""
    name = f"{path.name} of {where}" if where else str(path)
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except FileNotFoundError as exc:
        raise error(f"{path.name} is missing from {where}" if where else f"{path} does not exist") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{name} is corrupt ({exc})") from exc
    except OSError as exc:  # a folder where a file should be, no permission, an I/O error
        raise error(f"{name} cannot be read ({exc.strerror})") from exc
    if not isinstance(value, dict):
        raise error(f"{name} is not a JSON object")
    return value
