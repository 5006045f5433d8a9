"""`make serve PROCS=2`: two app processes behind nginx (deploy/class_server.py) share one
run store and one roster; a browser sticks to one process (its pictures live there), and a
logged-in student whose process goes away is still logged in on the other."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from app_pages.components.login import COOKIE
from genlab.classroom import roster
from genlab.classroom.access import User
from tests.streamlit_client import Tab
from tests.streamlit_server import free_port, server_pid
from tests.support import tiny_run

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(),
                                 reason="nginx is not installed (apt-get install nginx)")]


def process_of(url: str, route: str) -> str:
    """Which app process nginx sends a browser with this route cookie to."""
    request = urllib.request.Request(f"{url}/_stcore/health", headers={"Cookie": f"genlab_route={route}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["X-GenLab-Process"].split(", ")[-1]  # the last one tried answered


def status(url: str, path: str, cookies: dict[str, str]) -> int:
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    try:
        with urllib.request.urlopen(urllib.request.Request(url + path, headers={"Cookie": cookie}), timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:  # nothing listens yet
        return 0


async def runs_page(url: str, cookies: dict[str, str]) -> str:
    async with Tab(url, cookies=cookies) as tab:
        return (await tab.open("runs")).texts()


def test_two_processes_behind_nginx_share_logins_and_keep_a_browser_on_one(tmp_path):
    runs = tmp_path / "runs"
    run = tiny_run(runs, name="shared")
    roster.add(runs, "ada")
    token = roster.open_session(runs, User("ada"))
    port = free_port()
    env = dict(os.environ, GENLAB_RUNS=str(runs), GENLAB_DATA=str(tmp_path / "data"), GENLAB_WATCH_SECONDS="1")
    with open(tmp_path / "serve.log", "wb") as log:
        server = subprocess.Popen([sys.executable, str(ROOT / "deploy" / "class_server.py"), "--processes", "2",
                                   "--port", str(port), "--address", "127.0.0.1"],
                                  cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while status(url, "/_stcore/health", {}) != 200:
            assert time.time() < deadline and server.poll() is None, (tmp_path / "serve.log").read_text()
            time.sleep(0.5)
        routes = {}
        for i in range(40):  # two browsers that nginx sends to different processes
            routes.setdefault(process_of(url, f"browser{i}"), f"browser{i}")
        assert len(routes) == 2, routes
        (first, one), (second, other) = routes.items()
        assert all(process_of(url, one) == first for _ in range(5))  # sticky
        for route in (one, other):
            page = asyncio.run(runs_page(url, {COOKIE: token, "genlab_route": route}))
            assert run.id in page and "Password" not in page  # logged in on either process
        assert "Password" in asyncio.run(runs_page(url, {"genlab_route": one}))  # no cookie, no entry
        # The process behind `one` goes away: that browser lands on the other, still logged in.
        app_port = int(first.rsplit(":", 1)[1])
        os.kill(server_pid(app_port), signal.SIGTERM)
        deadline = time.time() + 30
        while process_of(url, one) != second:
            assert time.time() < deadline
            time.sleep(0.5)
        page = asyncio.run(runs_page(url, {COOKIE: token, "genlab_route": one}))
        assert run.id in page and "Password" not in page
    finally:
        server.terminate()
        server.wait(timeout=60)
