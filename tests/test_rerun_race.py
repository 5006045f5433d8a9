"""The fragment race (docs/streamlit-fragment-race.md): a `run_every` tick handled after a
page's script thread ended but before the loop handled its last messages leaves the page
half drawn for ever. tests/race_server.py makes the loop that late every time; the light
client sends each fragment's first tick at once, while the page still runs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.streamlit_client import Tab
from tests.streamlit_server import streamlit_server
from tests.support import seems_to_train, tiny_run

ROOT = Path(__file__).resolve().parents[1]
REPRO = ROOT / "docs" / "streamlit-fragment-race" / "repro_app.py"
RACE = (str(ROOT / "tests" / "race_server.py"),)
pytestmark = pytest.mark.slow


async def completes(url: str, page: str, timeout_s: float) -> bool:
    async with Tab(url, eager=True) as tab:
        try:
            await tab.open(page, timeout_s=timeout_s)
            return True
        except TimeoutError:
            return False


def test_the_minimal_app_reproduces_the_race_in_this_streamlit(tmp_path):
    """If this fails, Streamlit fixed the race: app_pages/components/rerun_guard.py can go."""
    with streamlit_server(tmp_path / "runs", tmp_path / "data", tmp_path / "log", app=REPRO,
                          launcher=RACE) as url:
        assert not asyncio.run(completes(url, "", timeout_s=6))


def test_every_page_with_a_live_part_completes_when_its_ticks_come_late(tmp_path):
    runs = tmp_path / "runs"
    sleeper = seems_to_train(tiny_run(runs))  # training, as far as any page can tell
    try:
        with streamlit_server(runs, tmp_path / "data", tmp_path / "log", launcher=RACE) as url:
            for page in ("", "runs", "samples", "class", "runs"):
                assert asyncio.run(completes(url, page, timeout_s=60)), f"page {page!r} never completed"
    finally:
        sleeper.kill()
