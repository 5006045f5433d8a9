"""Opening one page of the app in Streamlit's AppTest, as the page tests do."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def open_page(page: str, prepare: Callable[[AppTest], None] | None = None, **params: str) -> AppTest:
    """Run app.py on `app_pages/<page>.py` with the given URL parameters (after `prepare`,
    which may set secrets or the visitor); fail on an exception."""
    at = AppTest.from_file(APP, default_timeout=180)
    if prepare:
        prepare(at)
    at.switch_page(f"app_pages/{page}.py")
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def logged_in(page: str, name: str, password: str, **params: str) -> AppTest:
    """The page in a class (GENLAB_CLASS set by the test), after logging in with the form."""
    at = open_page(page, **params)
    at.text_input(key="login-name").input(name)
    at.text_input(key="login-password").input(password)
    at.button[0].click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at
