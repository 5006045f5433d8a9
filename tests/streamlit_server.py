"""`streamlit run app.py` on a free localhost port and a page in Debian's Chromium, for the
browser tests and the lab-rate benchmark."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


def server_pid(port: int) -> int:
    """The Streamlit process serving `port` (found by its command line)."""
    for proc in Path("/proc").iterdir():
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:  # it ended while being read
            continue
        if b"streamlit" in b" ".join(cmd) and str(port).encode() in cmd:
            return int(proc.name)
    raise LookupError(f"no streamlit process on port {port}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(runs: Path, data: Path, log_path: Path, port: int | None = None,
                     args: tuple[str, ...] = (), app: Path = ROOT / "app.py",
                     launcher: tuple[str, ...] = ("-m", "streamlit")) -> Iterator[str]:
    """Start the app (or another `app`, with another `launcher` of Streamlit's command line)
    with its own runs and data folders and any more `streamlit run` options; yield its URL;
    stop it."""
    port = port or free_port()
    env = dict(os.environ, GENLAB_RUNS=str(runs), GENLAB_DATA=str(data), GENLAB_WATCH_SECONDS="1")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, *launcher, "run", str(app), "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", *args],
            cwd=app.parent, env=env, stdout=log, stderr=log, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 60
            while True:
                try:
                    if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                        break
                except OSError:
                    if time.time() > deadline or proc.poll() is not None:
                        raise RuntimeError("streamlit did not start: " + log_path.read_text()) from None
                    time.sleep(0.5)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=20)


@contextmanager
def chromium_page(width: int = 1400, height: int = 1600) -> Iterator:
    """A Playwright page in Debian's headless Chromium (never a downloaded browser)."""
    from playwright.sync_api import expect, sync_playwright

    # A loaded 2-core machine can take longer than expect's 5 s to draw a page; what the
    # tests check is what appears, not how fast (benchmarks/ measure that).
    expect.set_options(timeout=30_000)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(60_000)
            yield page
        finally:
            browser.close()
