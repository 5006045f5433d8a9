"""The smallest app that shows the race (docs/streamlit-fragment-race.md): a `run_every`
fragment beside a main script whose output is large. Run it under load, or with
tests/race_server.py, which makes the server handle a fragment tick late, as a busy event
loop does: the page then stops before "END" and never finishes."""

import time

import streamlit as st


@st.fragment(run_every=0.5)
def clock() -> None:
    st.write(f"tick {time.time():.1f}")


clock()
for i in range(300):
    st.write(f"row {i}")
st.write("END")
