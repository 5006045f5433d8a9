"""The class roster: the accounts the teacher makes from the command line, logins, sessions.

Two kinds of account. Where the school has an OpenID Connect provider (configured for
Streamlit's `st.login` in `.streamlit/secrets.toml`), an account is an e-mail address the
provider vouches for (`python -m genlab class add ana@school.edu --sso`): no password here,
and only addresses on the roster get in. For an offline classroom, an account is a name
with a password (`python -m genlab class add NAME [--teacher]`); adding a name again resets
its password and ends its sessions.

Passwords are generated (`secrets`), printed once, and stored only as argon2id hashes
(argon2-cffi's PasswordHasher: salt, parameters and rehashing are the library's). Wrong
passwords are counted per name and client address (MAX_FAILURES within LOCKOUT_S) and per
address (MAX_ADDRESS_FAILURES), whether or not the name exists, so the refusal says the same
thing for a real name and an unknown one, and a classmate at another computer cannot lock a
student out; the teacher sees who is locked out and can unlock them (`locked_out`, `unlock`).

A login opens a session: a random token (`secrets`) the browser keeps in a cookie, so a
reload stays logged in; the roster keeps only the token's SHA-256 and its expiry. Removing
an account, resetting its password or logging out ends its sessions; every privileged
action asks `current` for the account as the roster has it now.

The roster is one JSON file beside the runs (`<runs>/.roster.json`, readable by its owner
only: it holds the hashes), replaced atomically under a lock. A password is checked outside
the lock, and a right password writes nothing unless something needs recording (earlier
failures to clear, a hash to upgrade), so logins do not queue behind each other and a full
disk does not refuse them.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import secrets
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from genlab.classroom.access import NotAllowed, User
from genlab.config import ConfigError
from genlab.store.atomic import write_json_atomic
from genlab.store.jsonfile import read_json_object
from genlab.store.locks import exclusive

ROSTER = ".roster.json"
NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,39}")
EMAIL = re.compile(r"[a-z0-9][a-z0-9._+-]{0,63}@[a-z0-9][a-z0-9.-]{0,189}")
MAX_FAILURES = 5  # wrong passwords for one name from one address within LOCKOUT_S
MAX_ADDRESS_FAILURES = 20  # wrong passwords from one address, whatever the names
LOCKOUT_S = 600.0
WRONG = "Wrong name or password."
LOCKED = "Too many wrong passwords from this computer: try again in {minutes} min."
SESSION_S = 12 * 3600.0  # a login lasts a school day
_HASHER = PasswordHasher()
PARTS = ("accounts", "sessions", "failures")


class LoginRefused(Exception):
    """A login that did not succeed; the message is safe to show (it names no part)."""


@functools.cache
def _dummy_hash() -> str:
    """Checked when the name is unknown, so an unknown name takes as long as a wrong password."""
    return _HASHER.hash(secrets.token_urlsafe(16))


def _path(runs_dir: Path) -> Path:
    return runs_dir / ROSTER


def _read(runs_dir: Path) -> dict[str, Any]:
    """The whole roster (empty parts when there is none yet), checked; ConfigError, naming
    what is wrong, when it is not a roster. A roster others may read is made private first."""
    path = _path(runs_dir)
    if not path.exists():
        return {part: {} for part in PARTS}
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        os.chmod(path, 0o600)  # an earlier GenLab wrote it readable by all
    whole = read_json_object(path, f"the class in {runs_dir}", ConfigError)
    _check(whole, path)
    return {part: whole.get(part, {}) for part in PARTS}


def _check(whole: dict[str, Any], path: Path) -> None:
    """ConfigError when a part of the roster is not what GenLab writes."""
    def refuse(what: str) -> None:
        raise ConfigError(f"the class roster {path} is broken: {what}; restore it from a backup, or remove it "
                          "and add the accounts again (python -m genlab class add NAME)")

    for part in PARTS:
        if not isinstance(whole.get(part, {}), dict):
            refuse(f"{part!r} must be an object")
    for name, account in whole.get("accounts", {}).items():
        if not isinstance(account, dict) or not isinstance(account.get("hash", ""), str):
            refuse(f"the account {name!r} is not an account")
    for session in whole.get("sessions", {}).values():
        if not isinstance(session, dict) or not isinstance(session.get("user"), str) or not _is_time(
                session.get("expires")):
            refuse("a session is not a user and an expiry time")
    for key, times in whole.get("failures", {}).items():
        if not isinstance(times, list) or not all(_is_time(t) for t in times):
            refuse(f"the failures of {key!r} are not a list of times")


def _is_time(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@contextlib.contextmanager
def _editing(runs_dir: Path) -> Iterator[dict[str, Any]]:
    """The whole roster, read and changed under the roster's lock, then written back
    (owner-readable only)."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    with exclusive(runs_dir / ".roster.lock"):
        whole = _read(runs_dir)
        yield whole
        write_json_atomic(_path(runs_dir), whole, mode=0o600)


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise ConfigError(f"a name is 1-40 lower-case letters, digits, '.', '_' or '-', starting with a "
                          f"letter or digit, not {name!r}")
    return name


def check_email(email: str) -> str:
    if not EMAIL.fullmatch(email):
        raise ConfigError(f"an account that logs in through the school's provider is its e-mail address "
                          f"in lower case (name@domain), not {email!r}")
    return email


def _end_sessions(whole: dict[str, Any], name: str) -> None:
    for key in [k for k, v in whole["sessions"].items() if v["user"] == name]:
        del whole["sessions"][key]


def add(runs_dir: Path, name: str, teacher: bool = False) -> str:
    """Make (or reset) an account; return its new password, which is stored only as a hash.
    A reset ends the account's sessions."""
    check_name(name)
    password = secrets.token_urlsafe(9)
    with _editing(runs_dir) as whole:
        whole["accounts"][name] = {"hash": _HASHER.hash(password), "teacher": teacher, "created": time.time()}
        _end_sessions(whole, name)
    return password


def add_sso(runs_dir: Path, email: str, teacher: bool = False) -> None:
    """Let the provider's user `email` in (an account with no password: `log_in` refuses it).
    Adding it again (to change its role) ends its sessions."""
    check_email(email)
    with _editing(runs_dir) as whole:
        whole["accounts"][email] = {"sso": True, "teacher": teacher, "created": time.time()}
        _end_sessions(whole, email)


def remove(runs_dir: Path, name: str) -> None:
    """Remove an account and end its sessions."""
    with _editing(runs_dir) as whole:
        if whole["accounts"].pop(name, None) is None:
            raise ConfigError(f"there is no account {name!r}")
        _end_sessions(whole, name)


def _user(name: str, account: dict[str, Any]) -> User:
    return User(name, bool(account.get("teacher")))


def sso_user(runs_dir: Path, email: object) -> User | None:
    """The roster's user for an e-mail address the provider vouched for, or None when the
    address is not on the roster as an `--sso` account."""
    if not isinstance(email, str):
        return None
    email = email.strip().lower()
    account = _read(runs_dir)["accounts"].get(email)
    return _user(email, account) if account is not None and account.get("sso") else None


def current(runs_dir: Path, user: User | None) -> User | None:
    """The user as the roster has them now (their role may have changed since they logged
    in); NotAllowed when the account is gone. None (no class) stays None."""
    if user is None:
        return None
    account = _read(runs_dir)["accounts"].get(user.name)
    if account is None:
        raise NotAllowed(f"{user.name} is no longer on this class's roster: log in again, or ask the teacher")
    return _user(user.name, account)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(runs_dir: Path, user: User, now: float | None = None) -> str:
    """A new session token for `user`, valid for SESSION_S; expired sessions are dropped.
    OSError when it cannot be written (a full disk): the login itself still stands."""
    now = time.time() if now is None else now
    token = secrets.token_urlsafe(32)
    with _editing(runs_dir) as whole:
        for key in [k for k, v in whole["sessions"].items() if v["expires"] <= now]:
            del whole["sessions"][key]
        whole["sessions"][_digest(token)] = {"user": user.name, "expires": now + SESSION_S}
    return token


def session_user(runs_dir: Path, token: str | None, now: float | None = None) -> User | None:
    """The user of a live session token, or None (no token, unknown, expired, ended, account removed)."""
    if not isinstance(token, str) or not token:  # a cookie is the visitor's to forge
        return None
    whole = _read(runs_dir)
    session = whole["sessions"].get(_digest(token))
    now = time.time() if now is None else now
    if session is None or session["expires"] <= now or session["user"] not in whole["accounts"]:
        return None
    return _user(session["user"], whole["accounts"][session["user"]])


def close_session(runs_dir: Path, token: str | None) -> None:
    if isinstance(token, str) and token and _path(runs_dir).exists():
        with _editing(runs_dir) as whole:
            whole["sessions"].pop(_digest(token), None)


def members(runs_dir: Path) -> list[User]:
    return [_user(name, a) for name, a in sorted(_read(runs_dir)["accounts"].items())]


def has_passwords(runs_dir: Path) -> bool:
    """Whether any account logs in with a password (so the app shows the password form)."""
    return any("hash" in a for a in _read(runs_dir)["accounts"].values())


def _failure_keys(name: str, address: str) -> tuple[str, str]:
    """Where wrong passwords are counted: this name from this address, and this address."""
    return f"name {name} from {address}", f"address {address}"


def _recent(times: list[float], now: float) -> list[float]:
    return [t for t in times if now - t < LOCKOUT_S]


def _key_wait_s(key: str, times: list[float], now: float) -> float:
    """Seconds until the count under `key` (a name from an address, or an address) falls
    below its limit again; 0 when it is below now."""
    limit = MAX_FAILURES if key.startswith("name ") else MAX_ADDRESS_FAILURES
    recent = sorted(_recent(times, now))
    return LOCKOUT_S - (now - recent[-limit]) if len(recent) >= limit else 0.0


def _wait_s(failures: dict[str, list[float]], name: str, address: str, now: float) -> float:
    """Seconds until this name may try again from this address (0: now)."""
    return max(_key_wait_s(key, failures.get(key, []), now) for key in _failure_keys(name, address))


def log_in(runs_dir: Path, name: str, password: str, address: str = "unknown", now: float | None = None) -> User:
    """The user, when the password is theirs; LoginRefused otherwise, and while this name
    (from this client address) or this address has had too many wrong passwords. The hash is
    checked outside the roster's lock; only a failure, earlier failures to clear or a hash to
    upgrade are written."""
    now = time.time() if now is None else now
    whole = _read(runs_dir)
    wait = _wait_s(whole["failures"], name, address, now)
    if wait > 0:
        raise LoginRefused(LOCKED.format(minutes=max(1, round(wait / 60))))
    account = whole["accounts"].get(name)
    stored = account.get("hash") if account else None
    try:  # an unknown name, or a provider's account, is checked against a dummy hash: the same time
        _HASHER.verify(stored or _dummy_hash(), password)
        right = stored is not None
    except (VerificationError, InvalidHashError):
        right = False
    if not right:
        _record_failure(runs_dir, name, address, now)
        raise LoginRefused(WRONG)
    rehash = _HASHER.check_needs_rehash(stored)
    if rehash or whole["failures"].get(_failure_keys(name, address)[0]):
        _record_success(runs_dir, name, address, _HASHER.hash(password) if rehash else None)
    return _user(name, account)


def _record_failure(runs_dir: Path, name: str, address: str, now: float) -> None:
    """Count a wrong password for the name from this address and for the address, forgetting
    the counts that have expired; a full disk does not turn the refusal into an error."""
    with contextlib.suppress(OSError), _editing(runs_dir) as whole:
        failures = whole["failures"]
        for key in [k for k, times in failures.items() if not _recent(times, now)]:
            del failures[key]  # counts whose every time has expired: the file does not grow for ever
        for key in _failure_keys(name, address):
            failures[key] = [*_recent(failures.get(key, []), now), now]


def _record_success(runs_dir: Path, name: str, address: str, new_hash: str | None) -> None:
    """Forget the name's failures from this address; store an upgraded hash."""
    with contextlib.suppress(OSError), _editing(runs_dir) as whole:
        whole["failures"].pop(_failure_keys(name, address)[0], None)
        if new_hash and name in whole["accounts"]:
            whole["accounts"][name]["hash"] = new_hash


def locked_out(runs_dir: Path, now: float | None = None) -> list[tuple[str, int]]:
    """Who may not log in now, for the teacher: ("name amy from 10.0.0.7" or "address
    10.0.0.7", minutes left), longest wait first."""
    now = time.time() if now is None else now
    waits = {key: _key_wait_s(key, times, now) for key, times in _read(runs_dir)["failures"].items()}
    found = [(key, max(1, round(wait / 60))) for key, wait in waits.items() if wait > 0]
    return sorted(found, key=lambda f: -f[1])


def unlock(runs_dir: Path, who: str) -> int:
    """Forget the wrong passwords of a name (from every address) or of an address; how many
    counts were cleared."""
    with _editing(runs_dir) as whole:
        keys = [k for k in whole["failures"] if k == f"address {who}" or k.startswith(f"name {who} from ")]
        for key in keys:
            del whole["failures"][key]
    return len(keys)
