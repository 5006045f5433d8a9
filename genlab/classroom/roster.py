"""The class roster: the accounts the teacher makes from the command line.

Two kinds of account. Where the school has an OpenID Connect provider (configured for
Streamlit's `st.login` in `.streamlit/secrets.toml`), an account is an e-mail address the
provider vouches for (`python -m genlab class add ana@school.edu --sso`): no password here,
and only addresses on the roster get in. For an offline classroom, an account is a name
with a password (`python -m genlab class add NAME [--teacher]`).

Passwords are generated (`secrets`), printed once, and stored only as argon2id hashes
(argon2-cffi's PasswordHasher: salt, parameters and rehashing are the library's). A name
with MAX_FAILURES wrong passwords within LOCKOUT_S is refused until the window has passed,
and every refusal says the same thing, whichever part was wrong. A login opens a session: a
random token (`secrets`) the browser keeps in a cookie, so a reload stays logged in; the
roster keeps only the token's SHA-256 and its expiry. The roster is one JSON file beside the
runs (`<runs>/.roster.json`), replaced atomically under a lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from genlab.classroom.access import User
from genlab.config import ConfigError
from genlab.store.atomic import write_json_atomic
from genlab.store.jsonfile import read_json_object
from genlab.store.locks import exclusive

ROSTER = ".roster.json"
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,39}$")
EMAIL = re.compile(r"^[a-z0-9][a-z0-9._+-]{0,63}@[a-z0-9][a-z0-9.-]{0,189}$")
MAX_FAILURES = 5
LOCKOUT_S = 600.0
WRONG = "Wrong name or password."
SESSION_S = 12 * 3600.0  # a login lasts a school day
_HASHER = PasswordHasher()
# Checked when the name is unknown, so an unknown name takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


class LoginRefused(Exception):
    """A login that did not succeed; the message is safe to show (it names no part)."""


@contextlib.contextmanager
def _editing(runs_dir: Path, part: str = "accounts") -> Iterator[dict[str, Any]]:
    """One part of the roster ("accounts" or "sessions"), to read and change under the
    roster's lock; the whole roster is written back after."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    with exclusive(runs_dir / ".roster.lock"):
        path = runs_dir / ROSTER
        whole = _read(path) if path.exists() else {}
        whole.setdefault("accounts", {})
        whole.setdefault("sessions", {})
        yield whole[part]
        write_json_atomic(path, whole)


def _read(path: Path) -> dict[str, Any]:
    return read_json_object(path, f"the class in {path.parent}", ConfigError)


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise ConfigError(f"a name is 1-40 lower-case letters, digits, '.', '_' or '-', starting with a "
                          f"letter or digit, not {name!r}")
    return name


def check_email(email: str) -> str:
    if not EMAIL.match(email):
        raise ConfigError(f"an account that logs in through the school's provider is its e-mail address "
                          f"in lower case (name@domain), not {email!r}")
    return email


def add(runs_dir: Path, name: str, teacher: bool = False) -> str:
    """Make (or reset) an account; return its new password, which is stored only as a hash."""
    check_name(name)
    password = secrets.token_urlsafe(9)
    with _editing(runs_dir) as accounts:
        accounts[name] = {"hash": _HASHER.hash(password), "teacher": teacher, "created": time.time(), "failures": []}
    return password


def add_sso(runs_dir: Path, email: str, teacher: bool = False) -> None:
    """Let the provider's user `email` in (an account with no password: `log_in` refuses it)."""
    check_email(email)
    with _editing(runs_dir) as accounts:
        accounts[email] = {"sso": True, "teacher": teacher, "created": time.time()}


def sso_user(runs_dir: Path, email: object) -> User | None:
    """The roster's user for an e-mail address the provider vouched for, or None when the
    address is not on the roster as an `--sso` account."""
    if not isinstance(email, str):
        return None
    email = email.strip().lower()
    account = _accounts(runs_dir).get(email)
    if account is None or not account.get("sso"):
        return None
    return User(email, bool(account.get("teacher")))


def remove(runs_dir: Path, name: str) -> None:
    """Remove an account and end its sessions."""
    with _editing(runs_dir) as accounts:
        if accounts.pop(name, None) is None:
            raise ConfigError(f"there is no account {name!r}")
    with _editing(runs_dir, "sessions") as sessions:
        for key in [k for k, v in sessions.items() if v["user"] == name]:
            del sessions[key]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(runs_dir: Path, user: User, now: float | None = None) -> str:
    """A new session token for `user`, valid for SESSION_S; expired sessions are dropped."""
    now = time.time() if now is None else now
    token = secrets.token_urlsafe(32)
    with _editing(runs_dir, "sessions") as sessions:
        for key in [k for k, v in sessions.items() if v["expires"] <= now]:
            del sessions[key]
        sessions[_digest(token)] = {"user": user.name, "expires": now + SESSION_S}
    return token


def session_user(runs_dir: Path, token: str | None, now: float | None = None) -> User | None:
    """The user of a live session token, or None (no token, unknown, expired, account removed)."""
    path = runs_dir / ROSTER
    if not isinstance(token, str) or not token or not path.exists():  # a cookie is the visitor's to forge
        return None
    whole = _read(path)
    session = whole.get("sessions", {}).get(_digest(token))
    now = time.time() if now is None else now
    if session is None or session["expires"] <= now or session["user"] not in whole.get("accounts", {}):
        return None
    return User(session["user"], bool(whole["accounts"][session["user"]].get("teacher")))


def close_session(runs_dir: Path, token: str | None) -> None:
    if token:
        with _editing(runs_dir, "sessions") as sessions:
            sessions.pop(_digest(token), None)


def _accounts(runs_dir: Path) -> dict[str, Any]:
    path = runs_dir / ROSTER
    return _read(path).get("accounts", {}) if path.exists() else {}


def members(runs_dir: Path) -> list[User]:
    return [User(name, bool(a.get("teacher"))) for name, a in sorted(_accounts(runs_dir).items())]


def has_passwords(runs_dir: Path) -> bool:
    """Whether any account logs in with a password (so the app shows the password form)."""
    return any("hash" in a for a in _accounts(runs_dir).values())


def log_in(runs_dir: Path, name: str, password: str, now: float | None = None) -> User:
    """The user, when the password is theirs; LoginRefused otherwise (also while a name is
    locked out after too many wrong passwords)."""
    now = time.time() if now is None else now
    with _editing(runs_dir) as accounts:  # a failure is written back before it is reported
        outcome = _check(accounts, name, password, now)
    if isinstance(outcome, str):
        raise LoginRefused(outcome)
    return outcome


def _check(accounts: dict[str, Any], name: str, password: str, now: float) -> User | str:
    """The user, or why not (recording a wrong password in the account)."""
    account = accounts.get(name)
    if account is None or "hash" not in account:  # unknown, or a provider's account
        with contextlib.suppress(VerificationError, InvalidHashError):
            _HASHER.verify(_DUMMY_HASH, password)
        return WRONG
    recent = [t for t in account.get("failures", []) if now - t < LOCKOUT_S]
    if len(recent) >= MAX_FAILURES:
        wait = LOCKOUT_S - (now - min(recent))
        return f"Too many wrong passwords for this name: try again in {max(1, round(wait / 60))} min."
    try:
        _HASHER.verify(account["hash"], password)
    except (VerificationError, InvalidHashError):
        account["failures"] = [*recent, now]
        return WRONG
    account["failures"] = []
    if _HASHER.check_needs_rehash(account["hash"]):
        account["hash"] = _HASHER.hash(password)
    return User(name, bool(account.get("teacher")))
