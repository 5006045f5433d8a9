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


def make_zip(path: Path) -> None:
    """40 small PNGs in two class folders: light circles and dark squares."""
    import io
    import zipfile

    from PIL import Image, ImageDraw

    with zipfile.ZipFile(path, "w") as zf:
        for i in range(20):
            for cls, shape in (("circles", "ellipse"), ("squares", "rectangle")):
                img = Image.new("L", (40, 40), 0 if cls == "circles" else 255)
                getattr(ImageDraw.Draw(img), shape)([5 + i % 5, 5, 30, 30 + i % 7], fill=128 + i)
                buf = io.BytesIO()
                img.save(buf, format="PNG")
                zf.writestr(f"{cls}/{i}.png", buf.getvalue())


def test_upload_a_zip_of_images_and_train_on_it(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url, runs = server
    make_zip(tmp_path / "shapes.zip")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.set_default_timeout(60_000)
        page.goto(f"{url}/train")
        page.get_by_label("Dataset").click()
        page.get_by_role("option", name=re.compile("^folder")).click()
        page.locator("input[type=file]").set_input_files(str(tmp_path / "shapes.zip"))
        launch = page.get_by_role("button", name="Launch")
        expect(launch).to_be_visible()
        steps = page.get_by_label("Steps", exact=True)
        steps.fill("30")
        steps.press("Enter")
        launch.click()
        # 36 training images (10% are held out) cannot fill the default batch of 128.
        expect(page.get_by_text("larger than the 36 training samples")).to_be_visible()
        batch = page.get_by_label("Batch size", exact=True)
        batch.fill("8")
        batch.press("Enter")
        page.get_by_role("button", name="Launch").click()
        page.wait_for_url(re.compile(r".*/runs\?run="))
        run_id = re.search(r"run=([^&]+)", page.url).group(1)
        expect(page.get_by_text(re.compile(r"completed · step 30/30"))).to_be_visible(timeout=120_000)
        browser.close()
    info = (runs / run_id / "dataset.json").read_text()
    assert '"circles"' in info and '"squares"' in info
