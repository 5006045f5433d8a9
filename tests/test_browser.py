"""End to end in a real browser: Debian's Chromium driven by Playwright against
`streamlit run app.py` on a free localhost port."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    port = free_port()
    env = dict(os.environ, GENLAB_RUNS=str(tmp_path / "runs"), GENLAB_DATA=str(tmp_path / "data"))
    log = open(tmp_path / "streamlit.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not start: " + (tmp_path / "streamlit.log").read_text())
    yield url, tmp_path / "runs"
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


def test_launch_a_run_watch_it_and_walk_its_latent_space(server):
    from playwright.sync_api import expect, sync_playwright

    url, runs = server
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.set_default_timeout(60_000)

        page.goto(f"{url}/train")
        steps = page.get_by_label("Steps", exact=True)
        steps.fill("300")
        steps.press("Enter")
        page.get_by_role("button", name="Launch").click()
        page.wait_for_url(re.compile(r".*/runs\?run="), timeout=60_000)
        run_id = re.search(r"run=([^&]+)", page.url).group(1)
        assert (runs / run_id / "config.json").exists()

        # The Runs page updates by itself while the worker trains in the background.
        expect(page.get_by_text(re.compile(r"completed · step 300/300"))).to_be_visible(timeout=120_000)

        page.goto(f"{url}/samples?runs={run_id}")
        expect(page.get_by_text("Real data")).to_be_visible()
        expect(page.locator("img").first).to_be_visible()

        page.goto(f"{url}/latent?run={run_id}")
        expect(page.get_by_text("t = 0.50")).to_be_visible()
        slider = page.get_by_role("slider", name="Position between A and B")
        slider.focus()
        for _ in range(3):
            slider.press("ArrowRight")
        expect(page.get_by_text("t = 0.65")).to_be_visible()
        assert "t=0.65" in page.url  # the view's state is in the link
        page.screenshot(path=str(ARTIFACTS / "e2e-latent.png"), full_page=True)
        browser.close()
    shutil.copy(runs / run_id / "snapshots" / "step_0000300.png", ARTIFACTS / "e2e-samples.png")
