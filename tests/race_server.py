"""`python tests/race_server.py run APP [streamlit options]`: Streamlit's own command line,
with the event loop made late, on purpose and every time, in the one place the fragment race
needs (docs/streamlit-fragment-race.md): a fragment's rerun request that arrives while a
script thread runs is handled only once that thread has ended, after it queued its last
messages, as a loop busy for a few seconds handles it. For tests/test_rerun_race.py."""

import sys

from streamlit.runtime.app_session import AppSession
from streamlit.web import cli

_handle = AppSession.request_rerun


def late(session: AppSession, client_state) -> None:
    runner = session._scriptrunner
    thread = getattr(runner, "_script_thread", None)
    if client_state is not None and client_state.fragment_id and thread is not None:
        thread.join(timeout=60)
    _handle(session, client_state)


AppSession.request_rerun = late
sys.exit(cli.main())
