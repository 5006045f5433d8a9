"""What polls, seen from the wire (tests/streamlit_client.py against a real server): a page
whose runs are all finished runs no timer; a page showing a training run polls, and once
the run ends the page is drawn again and stops polling; a class member's tab follows their
own runs only."""

from __future__ import annotations

import asyncio
import subprocess

import pytest

from app_pages.components.login import COOKIE
from genlab.classroom import roster
from genlab.classroom.access import User
from genlab.store.atomic import write_json_atomic
from genlab.store.lifecycle import process_start
from tests.streamlit_client import Tab
from tests.streamlit_server import streamlit_server
from tests.support import force_status, seems_to_train, state, tiny_run, wait_for

pytestmark = pytest.mark.slow
PAGES = ("", "runs", "samples", "class_view")  # the sidebar is on every page; these have live parts of their own


async def polling_after(url: str, page: str, cookies: dict | None = None, wait_s: float = 0.5) -> tuple[int, int]:
    """(timers running, ticks sent) on `page` `wait_s` seconds after it was drawn."""
    page, _, query = page.partition("?")
    async with Tab(url, cookies=cookies) as tab:
        await tab.open(page, query=query)
        await asyncio.sleep(wait_s)
        return tab.polling, tab.ticks_sent


def test_nothing_polls_when_every_run_has_ended_and_an_evaluation_polls_only_itself(tmp_path):
    """Then a completed run is evaluated: live (its table line and its evaluation), but its
    progress line once asked for the page again on every tick, for as long as it was evaluated."""
    runs = tmp_path / "runs"
    run = tiny_run(runs)
    force_status(run, state="completed", step=8)
    sleeper = subprocess.Popen(["sleep", "600"])

    async def evaluated(url: str) -> None:
        async with Tab(url) as tab:
            await tab.open("runs", query=f"run={run.id}")
            assert tab.polling == 2  # the live table's line and the evaluation
            await asyncio.sleep(4.5)
            assert tab.full_runs == 1 and tab.ticks_sent >= 2

    try:
        with streamlit_server(runs, tmp_path / "data", tmp_path / "log") as url:
            for page in PAGES:
                assert asyncio.run(polling_after(url, page)) == (0, 0), page
            write_json_atomic(run.evaluating_path, {"pid": sleeper.pid, "pid_start": process_start(sleeper.pid)})
            asyncio.run(evaluated(url))
    finally:
        sleeper.kill()


def test_a_training_run_is_followed_until_it_ends_then_the_page_stops_polling(tmp_path):
    runs = tmp_path / "runs"
    run = tiny_run(runs)
    sleeper = seems_to_train(run, step=4)

    async def watch(url: str) -> None:
        async with Tab(url) as tab:
            first = await tab.open("runs")
            assert tab.polling >= 2  # the live table, the run's line, its pictures; the sidebar
            assert "running" in first.texts()
            sleeper.kill()  # the worker dies: the watcher finds it, the run becomes interrupted
            await asyncio.to_thread(wait_for, lambda: state(run) == "interrupted", 30)
            for _ in range(100):
                if tab.polling == 0:
                    break
                await asyncio.sleep(0.2)
            assert tab.polling == 0, "a finished view still polls"
            again = await tab.open("runs")
            assert "interrupted" in again.texts() and tab.polling == 0

    try:
        with streamlit_server(runs, tmp_path / "data", tmp_path / "log") as url:
            asyncio.run(watch(url))
    finally:
        sleeper.kill()


def test_a_student_tab_follows_their_own_runs_not_the_class(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_CLASS", "1")
    runs = tmp_path / "runs"
    for name in ("ada", "bob"):
        roster.add(runs, name)
    theirs = tiny_run(runs)
    sleeper = seems_to_train(theirs, step=4, user="bob")
    ada = {COOKIE: roster.open_session(runs, User("ada"))}
    bob = {COOKIE: roster.open_session(runs, User("bob"))}
    try:
        with streamlit_server(runs, tmp_path / "data", tmp_path / "log") as url:
            assert asyncio.run(polling_after(url, "runs", ada)) == (0, 0)
            assert asyncio.run(polling_after(url, "class_view", ada)) == (0, 0)
            timers, ticks = asyncio.run(polling_after(url, "runs", bob, wait_s=2.5))
            assert timers >= 2 and ticks >= 1
            everyone, _ = asyncio.run(polling_after(url, "runs?everyone=true", ada, wait_s=0.5))
            assert everyone >= 1  # asked for: the class's live runs are followed
    finally:
        sleeper.kill()
