"""Who is using the app. `make run` (a laptop): nobody in particular, and every action is
allowed. `make serve` (a class server, GENLAB_CLASS=1): everyone logs in with an account
from the roster (`python -m genlab class add NAME`), and genlab checks what they may do.

A login's session token lives in a cookie, so a reload (a new Streamlit session) finds the
user again; Streamlit can read cookies (st.context.cookies) but not set them, so a tiny
component sets it from the browser."""

from __future__ import annotations

import json
import os

import streamlit as st
import streamlit.components.v1 as components

from genlab import roster
from genlab.access import User
from app_pages.components.shared import runs_dir


def class_mode() -> bool:
    return os.environ.get("GENLAB_CLASS", "") == "1"


def current_user() -> User | None:
    """The logged-in class member, or None outside a class."""
    return st.session_state.get("user")


COOKIE = "genlab_session"


def _write_cookie() -> None:
    """Set (or, with an empty token, clear) the session cookie asked for by a login or logout."""
    token = st.session_state.pop("cookie-to-write", None)
    if token is None:
        return
    age = int(roster.SESSION_S) if token else 0
    cookie = f"{COOKIE}={token}; path=/; max-age={age}; SameSite=Strict"
    components.html(f"<script>document.cookie = {json.dumps(cookie)};</script>", height=0)


def signed_in() -> bool:
    """Whether the visitor may see the app: always outside a class; in a class, once logged
    in, in this session or (after a reload) through a live session cookie."""
    if not class_mode():
        return True
    _write_cookie()
    if current_user() is not None:
        return True
    user = roster.session_user(runs_dir(), st.context.cookies.get(COOKIE))
    if user is not None:
        st.session_state["user"] = user
    return user is not None


def login_form() -> None:
    """The login form; the rest of the script waits (st.stop) until a login succeeds."""
    st.title("GenLab")
    if not roster.members(runs_dir()):
        st.error("This class server has no accounts yet. The teacher adds them on the server: "
                 "`python -m genlab class add NAME --teacher`, then one per student.")
        st.stop()
    with st.form("login"):
        name = st.text_input("Name", key="login-name")
        password = st.text_input("Password", type="password", key="login-password")
        submitted = st.form_submit_button("Log in", type="primary")
    if submitted:
        try:
            user = roster.log_in(runs_dir(), name.strip(), password)
            st.session_state["cookie-to-write"] = roster.open_session(runs_dir(), user)
            st.session_state["user"] = user
            st.rerun()
        except roster.LoginRefused as exc:
            st.error(str(exc))
    st.stop()


def account_box() -> None:
    """The sidebar's line about who is logged in, with a way out."""
    user = current_user()
    if user is None:
        return
    st.caption(f"Logged in as **{user.name}**" + (" (teacher)" if user.teacher else ""))
    if st.button("Log out", key="logout"):
        roster.close_session(runs_dir(), st.context.cookies.get(COOKIE))
        st.session_state["cookie-to-write"] = ""
        del st.session_state["user"]
        st.rerun()
