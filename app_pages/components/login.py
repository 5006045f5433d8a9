"""Who is using the app. `make run` (a laptop): nobody in particular, and every action is
allowed. `make serve` (a class server, GENLAB_CLASS=1): everyone logs in with an account
from the roster, and genlab checks what they may do.

Two ways in, both ending in a roster account:
- the school's OpenID Connect provider, through Streamlit's own `st.login` (configured in
  `.streamlit/secrets.toml`, `[auth]`); the provider vouches for an e-mail address, which
  must be on the roster (`python -m genlab class add ana@school.edu --sso`). Streamlit keeps
  that login in its own signed cookie;
- a name and password (`python -m genlab class add NAME`). Its session token lives in a
  cookie, so a reload (a new Streamlit session) finds the user again; Streamlit can read
  cookies (st.context.cookies) but not set them, so a line of script (st.html) sets it from the browser."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping

import streamlit as st

from app_pages.components.shared import runs_dir
from genlab import settings
from genlab.classroom import roster
from genlab.classroom.access import NotAllowed, User


def current_user() -> User | None:
    """The logged-in class member, or None outside a class."""
    return st.session_state.get("user")


COOKIE = "genlab_session"
TOKEN = "session-token"  # this tab's session token: what logging out ends, whatever the browser sends
TAB_ONLY = "tab-only-login"  # logged in while the server could not record a session (a full disk)


def _write_cookie() -> None:
    """Set (or, with an empty token, clear) the session cookie asked for by a login or logout."""
    token = st.session_state.pop("cookie-to-write", None)
    if token is None:
        return
    age = int(roster.SESSION_S) if token else 0
    cookie = f"{COOKIE}={token}; path=/; max-age={age}; SameSite=Strict"
    # The token is the server's own (secrets.token_urlsafe): nothing a visitor sent runs here.
    st.html(f"<script>document.cookie = {json.dumps(cookie)};</script>", unsafe_allow_javascript=True)


def sso_providers() -> list[str]:
    """The OpenID Connect providers configured for st.login in secrets.toml: [""] for one
    `[auth]` section with its own client_id, else the names of its `[auth.NAME]` sections."""
    if not st.secrets.load_if_toml_exists():
        return []
    auth = st.secrets.get("auth", {})
    if "client_id" in auth:
        return [""]
    return [name for name, section in auth.items() if isinstance(section, Mapping)]


def _provider_user() -> User | None:
    """The roster's user for the address the provider vouched for (None when there is no
    provider login, the address is unverified, or it is not on the roster)."""
    if not sso_providers() or not st.user.is_logged_in or st.user.get("email_verified") is False:
        return None
    return roster.sso_user(runs_dir(), st.user.get("email"))


def signed_in() -> bool:
    """Whether the visitor may see the app: always outside a class; in a class, while their
    login stands, checked against the roster on every run of the page (a logout in another
    tab, a removed account or a reset password ends it; a changed role shows at once)."""
    if not settings.class_mode():
        return True
    _write_cookie()
    user = _session_user()
    if user is None:
        for key in ("user", TOKEN, TAB_ONLY):
            st.session_state.pop(key, None)
        return False
    st.session_state["user"] = user
    return True


def _session_user() -> User | None:
    """Who the visitor is now, as the roster has them: through the provider, through a session
    token (this tab's, or after a reload the cookie's), or through a login the server could
    not record."""
    user = _provider_user()
    if user is not None:
        return user
    token = st.session_state.get(TOKEN) or st.context.cookies.get(COOKIE)
    user = roster.session_user(runs_dir(), token)
    if user is not None:
        st.session_state[TOKEN] = token
        return user
    if st.session_state.get(TAB_ONLY) and current_user() is not None:
        with contextlib.suppress(NotAllowed):
            return roster.current(runs_dir(), current_user())
    return None


def client_address() -> str:
    """The visitor's address as the server sees it (a proxy's, behind one), for login limits."""
    return st.context.ip_address or "unknown"


def login_form() -> None:
    """The ways in (a button per provider, the password form when any account has a
    password); the rest of the script waits (st.stop) until a login succeeds."""
    st.title("GenLab")
    if not roster.members(runs_dir()):
        st.error("This class server has no accounts yet. The teacher adds them on the server: "
                 "`python -m genlab class add NAME --teacher`, then one per student (with `--sso` "
                 "and their e-mail address where they log in through the school's provider).")
        st.stop()
    _provider_buttons()
    if roster.has_passwords(runs_dir()):
        _password_form()
    st.stop()


def _provider_buttons() -> None:
    """Log in through the school's provider; a provider's user who is not on the roster is
    told so, with a way to log out (to try another account)."""
    providers = sso_providers()
    if providers and st.user.is_logged_in:
        email = st.user.get("email") or "this account"
        st.error(f"{email} is not on this class's roster. The teacher adds it on the server: "
                 f"`python -m genlab class add {email} --sso`.")
        st.button("Log out", key="sso-logout", on_click=st.logout)
        return
    for name in providers:
        if st.button(f"Log in with {name.title() or 'the school account'}", key=f"sso-{name}", type="primary"):
            st.login(name or None)


def _password_form() -> None:
    with st.form("login"):
        name = st.text_input("Name", key="login-name")
        password = st.text_input("Password", type="password", key="login-password")
        submitted = st.form_submit_button("Log in", type="primary")
    if submitted:
        try:
            user = roster.log_in(runs_dir(), name.strip(), password, address=client_address())
        except roster.LoginRefused as exc:
            st.error(str(exc))
            return
        st.session_state["user"] = user
        try:
            st.session_state[TOKEN] = st.session_state["cookie-to-write"] = roster.open_session(runs_dir(), user)
        except OSError:  # the server's disk is full: in, for this tab
            st.session_state[TAB_ONLY] = True
        st.rerun()


def account_box() -> None:
    """The sidebar's line about who is logged in, with a way out."""
    user = current_user()
    if user is None:
        return
    st.caption(f"Logged in as **{user.name}**" + (" (teacher)" if user.teacher else ""))
    if st.session_state.get(TAB_ONLY):
        st.warning("Logged in for this tab only: the server could not save your login (is its disk full?).")
    if st.button("Log out", key="logout"):
        for token in {st.session_state.get(TOKEN), st.context.cookies.get(COOKIE)}:
            roster.close_session(runs_dir(), token)
        st.session_state["cookie-to-write"] = ""
        for key in ("user", TOKEN, TAB_ONLY):
            st.session_state.pop(key, None)
        if sso_providers() and st.user.is_logged_in:
            st.logout()  # ends the provider's login too, and starts a new session
        st.rerun()
