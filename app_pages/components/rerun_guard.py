"""Closes a race in Streamlit's AppSession that leaves a page half drawn for ever
(docs/streamlit-fragment-race.md has the report, with a minimal app that reproduces it).

A page's full run ends in its script thread, which queues its last messages (deltas, then
script_finished, then SHUTDOWN) for the event loop. If a fragment's rerun request (a
`run_every` tick, or a click inside a fragment) reaches `AppSession.request_rerun` after the
thread has stopped but before the loop has handled those messages, the stopped ScriptRunner
refuses it, AppSession makes a new ScriptRunner for the fragment alone, and every message the
old one still had queued is dropped as coming from a "non-current ScriptRunner": the page
never completes. A loaded server (the loop behind by seconds) makes that window wide.

The guard: a fragment's rerun never replaces a ScriptRunner whose SHUTDOWN the loop has not
handled yet (AppSession clears `_scriptrunner` when it handles SHUTDOWN, the last message a
runner sends, so a runner still set is one whose messages are still queued). The request is
tried again shortly, after those messages; a full rerun is left as Streamlit does it (it
draws the whole page again). This holds however late the loop is: it depends on the order of
the messages, not on timing.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from streamlit.runtime.app_session import AppSession, AppSessionState

RETRY_S = 0.02
_LOG = logging.getLogger(__name__)


def install() -> bool:
    """Put the guard on AppSession (once per process); False when this Streamlit has no such
    method (then the race is Streamlit's to fix, and tests/test_rerun_race.py says so)."""
    create = getattr(AppSession, "_create_scriptrunner", None)
    if create is None:
        _LOG.warning("GenLab's rerun guard found no AppSession._create_scriptrunner; it is not installed")
        return False
    if getattr(create, "genlab_guard", False):
        return True

    @functools.wraps(create)
    def guarded(session: AppSession, rerun_data: Any) -> None:
        if rerun_data.fragment_id and session._scriptrunner is not None:
            session._event_loop.call_later(RETRY_S, _retry, session, rerun_data, create)
            return
        create(session, rerun_data)

    guarded.genlab_guard = True
    AppSession._create_scriptrunner = guarded
    return True


def _retry(session: AppSession, rerun_data: Any, create: Any) -> None:
    """The deferred fragment rerun: to the runner of a run begun meanwhile, to a new runner once
    the old one's messages are handled, else later again."""
    runner = session._scriptrunner
    if session._state == AppSessionState.SHUTDOWN_REQUESTED:  # the tab is gone
        return
    if runner is None:
        create(session, rerun_data)
    elif not runner.request_rerun(rerun_data):
        session._event_loop.call_later(RETRY_S, _retry, session, rerun_data, create)
