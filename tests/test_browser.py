"""End to end in a real browser: Debian's Chromium driven by Playwright against
`streamlit run app.py` on a free localhost port."""

import re
import shutil
from pathlib import Path

import pytest

from genlab.teaching.lessons import LESSONS
from tests.streamlit_server import CHROMIUM, ROOT, chromium_page, streamlit_server
from tests.support import force_status, tiny_run

ARTIFACTS = ROOT / "test-artifacts"

pytestmark = [pytest.mark.slow,  # a real browser against a real server
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")]


@pytest.fixture
def server(tmp_path):
    with streamlit_server(tmp_path / "runs", tmp_path / "data", tmp_path / "streamlit.log") as url:
        yield url, tmp_path / "runs"


def test_launch_a_run_watch_it_and_walk_its_latent_space(server):
    from playwright.sync_api import expect

    url, runs = server
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_page(height=1600) as page:

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
    from playwright.sync_api import expect

    url, runs = server
    make_zip(tmp_path / "shapes.zip")
    with chromium_page(height=1600) as page:
        page.goto(f"{url}/train")
        page.get_by_label("Dataset").click()
        page.get_by_role("option", name=re.compile("^folder")).click()
        page.locator("input[type=file]").set_input_files(str(tmp_path / "shapes.zip"))
        # The page names the user's file, says what it found, and fits the batch to it:
        # 36 training images (10% are held out) cannot fill the default batch of 128.
        expect(page.get_by_text(re.compile(r"^shapes.zip: 40 images \(36 to train on"))).to_be_visible()
        expect(page.get_by_text("Batch size lowered from 128 to 36")).to_be_visible()
        # and shows what the model will see, before anything is launched
        expect(page.get_by_text(re.compile(r"^What the model will see: 16 of the 36"))).to_be_visible()
        steps = page.get_by_label("Steps", exact=True)
        steps.fill("30")
        steps.press("Enter")
        expect(page.get_by_text(re.compile("Estimated training time"))).to_be_visible()
        assert not (tmp_path / "data" / "uploads").exists()  # read from memory until Launch (#13)
        page.get_by_role("button", name="Launch").click()
        page.wait_for_url(re.compile(r".*/runs\?run="))
        run_id = re.search(r"run=([^&]+)", page.url).group(1)
        expect(page.get_by_text(re.compile(r"completed · step 30/30"))).to_be_visible(timeout=120_000)
        expect(page.get_by_text(re.compile(r"^shapes.zip: 40 images"))).to_be_visible()  # on the Runs page too
    info = (runs / run_id / "dataset.json").read_text()
    assert '"circles"' in info and '"squares"' in info


def step_value(page, after_ms: int = 0) -> int:
    """The lab's step count (read `after_ms` from now)."""
    page.wait_for_timeout(after_ms)
    return int(page.get_by_test_id("stMetricValue").first.inner_text())


def poll(condition, page, timeout_ms: int = 30_000) -> bool:
    """Whether `condition()` comes true within `timeout_ms`, looking every half second."""
    for _ in range(timeout_ms // 500):
        if condition():
            return True
        page.wait_for_timeout(500)
    return False


def test_the_2d_lab_plays_live_and_pauses(server):
    from playwright.sync_api import expect

    url, _ = server
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_page(height=1400) as page:
        page.goto(f"{url}/lab?toy=grid&model=vae&present=true")
        expect(page.get_by_test_id("stMetricLabel").filter(has_text="Modes captured")).to_be_visible(timeout=60_000)
        assert step_value(page) == 0
        page.get_by_text("Play", exact=True).click()
        # The page updates by itself, several times, with no further input.
        expect(page.get_by_test_id("stMetricValue").first).not_to_have_text("0", timeout=30_000)
        first = step_value(page)
        assert poll(lambda: step_value(page) > first, page)  # it goes on by itself
        page.wait_for_timeout(3000)  # long enough for redraws to pile up where the server outruns the browser
        page.get_by_text("Play", exact=True).click()
        # #25 item 10: paused, the picture stops at once (it went on for 8-20 s, replaying redraws it
        # had fallen behind on). Read after 2 s: a window the server was already training when the
        # click came can land up to about a second later on this 2-core machine (1 run in 3 failed
        # at 1 s, before #24's changes as after).
        paused = step_value(page, after_ms=2000)
        page.wait_for_timeout(3000)
        assert step_value(page) == paused
        assert "present=true" in page.url and "toy=grid" in page.url
        page.screenshot(path=str(ARTIFACTS / "e2e-lab.png"), full_page=True)


@pytest.fixture(scope="module")
def demo_server(demos_dir, tmp_path_factory):
    """The app over a copy of the demo runs that ship."""
    base = tmp_path_factory.mktemp("presenter")
    with streamlit_server(demos_dir, base / "data", base / "streamlit.log") as url:
        yield url


# Each page's main picture (the first image, or the first Plotly figure), and a text drawn
# after everything else on the page.
MAIN_FIGURE = {"lessons?lesson=gan-vs-vae": ("[data-testid='stImage']", "What these runs show"),
               # the collapsed run's picture: its clump is at the bottom of the ring
               "lessons?lesson=mode-collapse": ("[data-testid='stImage']", "What these runs show"),
               "lessons?lesson=priors": ("[data-testid='stImage']", "with the whole prior"),
               "lessons?lesson=memorisation": ("[data-testid='stImage']", "Memorisation: the samples"),
               # four runs side by side, their pictures in a row: each a fifth of the width
               "lessons?lesson=regularisation": ("[data-testid='stImage']", "What these runs show", 0.2),
               # the repairs' rows of pictures, then the benchmark and its findings
               "lessons?lesson=repair": ("[data-testid='stImage']", "Filling a missing box"),
               # each run's samples, a row per class, in its half of the page
               "lessons?lesson=training-data": ("[data-testid='stImage']", "Classification Accuracy Score"),
               "compare": ("[data-testid='stImage']", "Evaluation"),
               # the gallery, four to a row, once the filters are folded away
               "class_view": ("[data-testid='stImage']", "The class experiment", 0.2),
               "lab": (".js-plotly-plot", "What am I looking at?")}


WIDE_CHECKED = ("lessons?lesson=gan-vs-vae", "compare", "class_view", "lab")


@pytest.mark.parametrize("width, height", [(1280, 720), (1920, 1080)])
def test_presenter_mode_puts_the_picture_on_the_first_screen(demo_server, width, height):
    """#12: at 1280x720 no picture was on the first screen of a lesson, Compare or the lab,
    and the sidebar and the app's chrome stayed. Screenshots land in test-artifacts/."""
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    boxes = {}  # path: (top, height, share on the first screen)
    # A full-HD projector has room to spare: there, one lesson and the pages laid out by width.
    pages = {p: f for p, f in MAIN_FIGURE.items() if height == 720 or p in WIDE_CHECKED}
    with chromium_page(width=width, height=height) as page:
        for path, (selector, last, *share) in pages.items():
            page.goto(f"{demo_server}/{path}{'&' if '?' in path else '?'}present=true")
            expect(page.get_by_text(last).first).to_be_attached(timeout=60_000)
            figure = page.locator(selector).first
            expect(figure).to_be_visible(timeout=60_000)
            page.wait_for_timeout(500)  # let the layout settle
            name = re.sub(r"\W+", "-", path)
            page.screenshot(path=str(ARTIFACTS / f"presenter-{name}-{width}x{height}.png"))
            box = figure.bounding_box()
            shown = min(box["y"] + box["height"], height) - max(box["y"], 0)
            boxes[path] = (round(box["y"]), round(box["height"]), round(shown / box["height"], 2))
            assert box["width"] >= width * (share[0] if share else 0.25), (path, box)  # not a thumbnail
            assert page.get_by_test_id("stSidebar").get_attribute("data-collapsed") == "true", path
            expect(page.get_by_test_id("stToolbar")).to_be_hidden()
        # #25 item 9: the figure's top on the first screen was not enough (the lab's plot began
        # at y = 550-625 of 720): it is on the first screen whole, or nearly (three quarters).
        assert {p: b for p, b in boxes.items() if not (b[0] >= 0 and b[2] >= 0.75)} == {}, boxes
        page.goto(f"{demo_server}/samples?present=true&fresh=true")
        label = page.get_by_text("Fresh samples", exact=True)
        expect(label).to_be_visible(timeout=60_000)
        assert label.evaluate("e => e.scrollWidth <= e.clientWidth"), "the label is cut"


def test_the_truncation_slider_redraws_the_samples_and_goes_into_the_url(demo_server):
    """#16: the priors lesson's truncation slider, moved with the keyboard as a person would."""
    from playwright.sync_api import expect

    with chromium_page(height=3000) as page:
        page.goto(f"{demo_server}/lessons?lesson=priors")
        expect(page.get_by_text("with the whole prior").first).to_be_attached(timeout=120_000)
        slider = page.locator("input[type=range][aria-label='Truncation |z| ≤ t']").first
        caption = page.get_by_text(re.compile(r"seed \d+, truncated at none"))
        expect(caption).to_be_visible()
        grid = page.locator("[data-testid='stImage'] img")
        before = grid.evaluate_all("imgs => imgs.map(i => i.src)")
        slider.press("End")  # the tightest threshold
        expect(page.get_by_text(re.compile(r"seed \d+, truncated at 0.25"))).to_be_visible(timeout=60_000)
        expect(page).to_have_url(re.compile(r"truncation=0.25"))
        assert grid.evaluate_all("imgs => imgs.map(i => i.src)") != before  # the samples were drawn again


def test_view_state_follows_clicks_into_the_url(demo_server):
    """#12's state bugs, clicked in a browser: New seed, the z sliders following endpoint A
    (and kept in the link), and lesson navigation updating ?lesson=."""
    from playwright.sync_api import expect

    from genlab.models import noise

    with chromium_page(height=1400) as page:
        page.goto(f"{demo_server}/samples?runs=demo-gan-ring&fresh=true")
        page.get_by_role("button", name="New seed").click()
        expect(page).to_have_url(re.compile(r"seed=1\b"))
        page.get_by_role("button", name="New seed").click()
        expect(page).to_have_url(re.compile(r"seed=2\b"))

        page.goto(f"{demo_server}/latent?run=demo-vae-2d-fashion")
        z0 = page.get_by_role("slider", name="z[0]")
        expect(z0).to_have_attribute("aria-valuetext", f"{round(float(noise(1, 2, 0)[0, 0]), 2):g}")
        z0.focus()
        z0.press("ArrowRight")
        expect(page).to_have_url(re.compile(r"z0="))
        seed_a = page.get_by_label("Seed A")
        seed_a.fill("5")
        seed_a.press("Enter")
        expect(z0).to_have_attribute("aria-valuetext", f"{round(float(noise(1, 2, 5)[0, 0]), 2):g}")
        expect(page).to_have_url(re.compile(rf"z0={round(float(noise(1, 2, 5)[0, 0]), 2):g}\b"))

        page.goto(f"{demo_server}/lessons")
        page.get_by_role("button", name=LESSONS["beta"].title).click()
        expect(page).to_have_url(re.compile(r"lesson=beta"))
        page.get_by_role("button", name="All lessons").click()
        expect(page).not_to_have_url(re.compile(r"lesson="))
        page.get_by_role("button", name=LESSONS["gan-vs-vae"].title).click()
        expect(page).to_have_url(re.compile(r"lesson=gan-vs-vae"))
        page.reload()
        expect(page.get_by_role("heading", name=LESSONS["gan-vs-vae"].title)).to_be_visible()


def test_the_repair_controls_redraw_the_repairs_and_go_into_the_url(demo_server):
    """#26: the damage chosen on the Repair page is repaired, and kept in the link."""
    from playwright.sync_api import expect

    with chromium_page(height=1600) as page:
        page.goto(f"{demo_server}/repair?damage=noise")
        expect(page.get_by_text("Gaussian noise of sigma 0.3, test images 0 to 7.")).to_be_visible(timeout=120_000)
        page.get_by_role("radio", name="pixels").click()
        expect(page).to_have_url(re.compile(r"damage=pixels"))
        expect(page.get_by_text("50% of the pixels missing, test images 0 to 7.")).to_be_visible(timeout=60_000)
        slider = page.get_by_role("slider", name="Share of pixels missing")
        slider.focus()
        slider.press("ArrowLeft")
        expect(page).to_have_url(re.compile(r"rate=0\.45"))
        expect(page.get_by_text("45% of the pixels missing, test images 0 to 7.")).to_be_visible(timeout=60_000)
        page.reload()
        expect(page.get_by_text("45% of the pixels missing, test images 0 to 7.")).to_be_visible(timeout=60_000)


def test_a_class_login_survives_a_reload_and_logging_out_ends_it(tmp_path, monkeypatch):
    """#13: `make serve` asks every visitor to log in; the session is kept in a cookie."""
    from playwright.sync_api import expect

    from genlab.classroom import roster

    password = roster.add(tmp_path / "runs", "amy")
    monkeypatch.setenv("GENLAB_CLASS", "1")
    with streamlit_server(tmp_path / "runs", tmp_path / "data", tmp_path / "streamlit.log") as url, \
            chromium_page(height=900) as page:
        page.goto(f"{url}/runs")
        page.get_by_label("Name").fill("amy")
        page.get_by_role("textbox", name="Password").fill("wrong")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_text("Wrong name or password.")).to_be_visible()
        page.get_by_role("textbox", name="Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_text("Logged in as amy")).to_be_visible()
        page.wait_for_timeout(1000)  # the cookie is set from the browser
        page.reload()
        expect(page.get_by_text("Logged in as amy")).to_be_visible()
        expect(page.get_by_text("No runs of yours yet.", exact=False)).to_be_visible()  # still /runs
        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_role("button", name="Log in")).to_be_visible()
        page.wait_for_timeout(1000)
        page.reload()
        expect(page.get_by_role("button", name="Log in")).to_be_visible()


def test_a_class_logs_in_through_the_schools_openid_provider(tmp_path, monkeypatch):
    """#13: with [auth] in secrets.toml, st.login takes a visitor to the provider and back;
    an address on the roster gets in, one that is not is told so."""
    from playwright.sync_api import expect

    from genlab.classroom import roster
    from tests.oidc_provider import oidc_provider, secrets_toml
    from tests.streamlit_server import free_port

    roster.add_sso(tmp_path / "runs", "ana@school.edu")
    monkeypatch.setenv("GENLAB_CLASS", "1")
    port = free_port()
    with oidc_provider() as provider:
        (tmp_path / "secrets.toml").write_text(secrets_toml(provider, f"http://127.0.0.1:{port}"))
        with streamlit_server(tmp_path / "runs", tmp_path / "data", tmp_path / "streamlit.log", port=port,
                              args=("--secrets.files", str(tmp_path / "secrets.toml"))) as url, \
                chromium_page(height=900) as page:
            page.goto(url)
            expect(page.get_by_role("textbox", name="Password")).to_have_count(0)  # no password accounts
            provider.user = {"email": "eve@school.edu", "email_verified": True, "name": "Eve"}
            page.get_by_role("button", name="Log in with the school account").click()
            expect(page.get_by_text("eve@school.edu is not on this class's roster")).to_be_visible()
            page.get_by_role("button", name="Log out").click()
            provider.user = {"email": "ana@school.edu", "email_verified": True, "name": "Ana"}
            page.get_by_role("button", name="Log in with the school account").click()
            expect(page.get_by_text("Logged in as ana@school.edu")).to_be_visible()
            page.reload()  # Streamlit's signed cookie keeps the login
            expect(page.get_by_text("Logged in as ana@school.edu")).to_be_visible()
            page.get_by_role("button", name="Log out").click()
            expect(page.get_by_role("button", name="Log in with the school account")).to_be_visible()


def test_a_point_of_the_class_experiment_opens_its_run(demo_server):
    from playwright.sync_api import expect

    with chromium_page(height=2400) as page:
        page.goto(f"{demo_server}/class_view?setting=beta&metric=fid")
        # the model with the most runs comes first (the grid's four GANs): pick the conv VAEs
        page.get_by_label("Model and dataset").click()
        page.get_by_role("option", name="conv-vae on fashion-mnist", exact=True).click()
        points = page.locator(".js-plotly-plot .scatterlayer .point")
        expect(points).to_have_count(2, timeout=60_000)  # beta 1 and beta 4 (the grid's GANs were four)
        point = points.first
        point.scroll_into_view_if_needed()
        box = point.bounding_box()  # Plotly's drag layer lies over the points: click where one is
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_url(re.compile(r".*/runs\?run=demo-(beta4-)?vae-fashion"), timeout=30_000)


FORMULA_CUT = """e => {
  // Whether the formula or any box around it, up to its element, hides part of it.
  for (let n = e; n && !(n.dataset && n.dataset.testid === 'stElementContainer'); n = n.parentElement) {
    if (n.scrollWidth > n.clientWidth + 4) return true;  // a few px: sub-pixel overhang of aligned lines
  }
  return e.getBoundingClientRect().right > document.documentElement.clientWidth;
}"""


@pytest.mark.parametrize("width", [1280, 1400])
def test_every_formula_on_learn_is_whole_on_a_laptop_screen(demo_server, width):
    """#25: the closed-form KL of two Gaussians was cut off at 1280 and 1400 px wide (and, at
    1280, the VAE's KL in its half of the page)."""
    from playwright.sync_api import expect

    with chromium_page(width=width, height=900) as page:
        page.goto(f"{demo_server}/learn")
        expect(page.get_by_text("KL(q‖p), closed form")).to_be_attached(timeout=60_000)  # the page's end
        formulas = page.locator(".katex-display")
        assert formulas.count() >= 6
        cut = [f.inner_text()[:40] for f in formulas.all() if f.evaluate(FORMULA_CUT)]
        assert cut == []


def test_the_app_asks_no_other_server_for_anything(demo_server):
    """#25: offline, the favicon was fetched from a font server."""
    from playwright.sync_api import expect

    asked = []
    with chromium_page() as page:
        page.on("request", lambda request: asked.append(request.url))
        for path in ("", "learn", "lessons?lesson=mode-collapse"):
            page.goto(f"{demo_server}/{path}")
            expect(page.get_by_test_id("stSidebar")).to_be_attached(timeout=60_000)
            page.wait_for_timeout(1500)
        icon = page.locator("link[rel*='icon']").first.get_attribute("href")
    elsewhere = [url for url in asked if not url.startswith((demo_server, "data:", "blob:"))]
    assert elsewhere == []
    assert icon and (icon.startswith(demo_server) or not icon.startswith(("http:", "https:")))


def test_the_runs_table_shows_every_column_on_a_laptop_screen(demo_server, demos_dir):
    """#25 item 13: at 1280 px the Runs table scrolled sideways, its last columns (device,
    the problem) out of sight. A failed run with a long message and a GPU's long name is
    among the demos."""
    from playwright.sync_api import expect

    run = tiny_run(demos_dir, name="out-of-memory")
    force_status(run, state="failed", device="cuda (NVIDIA H200), fused_adam, channels_last",
                 error="out of memory on cuda (NVIDIA H200) at batch size 16384: try a smaller batch, e.g. "
                       "8192, or a smaller model or train fewer runs at once on this GPU (GENLAB_RUNS_PER_GPU)")
    try:
        with chromium_page(width=1280, height=800) as page:
            page.goto(f"{demo_server}/runs")
            grid = page.locator("[data-testid='stDataFrame'] .dvn-scroller").first
            expect(grid).to_be_visible(timeout=60_000)
            page.wait_for_timeout(500)  # the grid sizes its columns after it is drawn
            widths = grid.evaluate("e => [e.scrollWidth, e.clientWidth]")
            assert widths[0] <= widths[1] + 1, widths
    finally:
        shutil.rmtree(run.path)


def test_two_students_answer_a_round_and_the_teacher_sees_both_counted(tmp_path, monkeypatch):
    """#27: the teacher starts a round from the page; two students, each in their own browser,
    answer by click and by key; the teacher's live results count both."""
    from playwright.sync_api import expect

    from genlab.classroom import roster

    runs = tmp_path / "runs"
    for run_id in ("demo-dcgan-fashion", "demo-vae-fashion"):
        shutil.copytree(ROOT / "checkpoints" / run_id, runs / run_id)
    passwords = {name: roster.add(runs, name, teacher=name == "ms-lee") for name in ("amy", "ben", "ms-lee")}
    monkeypatch.setenv("GENLAB_CLASS", "1")

    def log_in(page, url, name):
        page.goto(f"{url}/judge")
        page.get_by_label("Name").fill(name)
        page.get_by_role("textbox", name="Password").fill(passwords[name])
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_text(f"Logged in as {name}")).to_be_visible()

    with streamlit_server(runs, tmp_path / "data", tmp_path / "streamlit.log") as url, \
            chromium_page(height=1400) as teacher:
        log_in(teacher, url, "ms-lee")
        teacher.get_by_role("button", name="Start the round").click()
        expect(teacher.get_by_text("Image 1 of 20")).to_be_visible()
        for name in ("amy", "ben"):
            student = teacher.context.browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            log_in(student, url, name)
            expect(student.get_by_text("Image 1 of 20")).to_be_visible()
            student.get_by_role("button", name="Real").click()
            expect(student.get_by_text("Image 2 of 20")).to_be_visible()
            student.keyboard.press("ArrowRight")  # "generated", by its key
            expect(student.get_by_text("Image 3 of 20")).to_be_visible()
            expect(student.get_by_text("Results so far")).to_have_count(0)
        expect(teacher.get_by_text(re.compile(r"2 people\s*gave 4 answers"))).to_be_visible()
        teacher.screenshot(path=str(ARTIFACTS / "round-teacher.png"), full_page=True)
