"""A class on one server under load: `make serve`'s app (GENLAB_CLASS=1) with 100 runs on
disk and two workers training, opened by N students at once, each logged in as their own
account.

The students are light clients (tests/streamlit_client.py) that speak Streamlit's websocket
protocol as a browser tab does, timers of `run_every` fragments included, so that what is
measured is the app and not the browsers; the app is pinned to core 0 and the clients to the
other cores. Each student opens Runs, Samples on their own run, moves its step slider three
times, then opens the Class page, reading each view for about --think-s seconds (3) before the
next; each wait is from the request to the run's script_finished. Students arrive within the
first few seconds. Then every student keeps the Class page (or
--idle-page) open and touches nothing for --idle-s seconds: the app's CPU-seconds in that
window, less the same window with no tab open, per tab and minute, is an idle tab's cost.

`--checkout DIR` serves another checkout's app.py (a git worktree of an earlier commit) with
the same runs, for a side-by-side baseline. `--chromium` drives the students with one Debian
Chromium instead (Playwright; the check, for a small class, that the light client waits for
what a browser waits for).

`--play IMAGES` then has every student play a Real-or-generated round of that many images
that the teacher started, answering about every --answer-s seconds (2): the round page's and
each answer's wait, and the app's share of its core meanwhile.

Usage: python benchmarks/class_load.py [--students 30] [--runs 100] [--workers 2]
       [--idle-s 60] [--idle-page runs] [--think-s 3] [--checkout DIR] [--chromium]
       [--play 20 [--answer-s 2]]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app_pages.components.login import COOKIE  # noqa: E402
from genlab import jobs  # noqa: E402
from genlab.classroom import roster  # noqa: E402
from genlab.classroom.access import User  # noqa: E402
from genlab.presets import make_config  # noqa: E402
from genlab.store.atomic import write_json_atomic  # noqa: E402
from genlab.store.runs import read_json  # noqa: E402
from genlab.teaching import rounds  # noqa: E402
from genlab.teaching.demos import demo_runs  # noqa: E402
from tests.streamlit_client import Tab  # noqa: E402
from tests.streamlit_server import CHROMIUM, FLAGS, free_port, server_pid, streamlit_server  # noqa: E402

GRID = "[data-testid='stMain'] img"
VIEW = f"() => Array.from(document.querySelectorAll(\"{GRID}\")).map(e => e.src).join('|')"
STEP_SLIDER = "input[type=range][aria-label='Training step'], [role=slider][aria-label='Training step']"


def class_runs(runs_dir: Path, n_runs: int, students: list[str]) -> dict[str, str]:
    """`n_runs` runs owned by the students in turn (hard links to the demo runs' files, each
    with its own status.json); returns each student's first run."""
    demos = list(demo_runs(ROOT / "checkpoints"))
    first: dict[str, str] = {}
    for i in range(n_runs):
        student, demo = students[i % len(students)], demos[i % len(demos)]
        run_dir = runs_dir / f"{student}-{demo.removeprefix('demo-')}-{i:03d}"
        shutil.copytree(ROOT / "checkpoints" / demo, run_dir, copy_function=os.link,
                        ignore=shutil.ignore_patterns("demo.json", "status.json"))
        status = read_json(ROOT / "checkpoints" / demo / "status.json")
        write_json_atomic(run_dir / "status.json", {**status, "user": student})
        first.setdefault(student, run_dir.name)
    return first


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def timed(page, action, ready: str, times: list[float]) -> None:
    start = time.perf_counter()
    await action()
    await page.locator(ready).first.wait_for(timeout=300_000)
    times.append(time.perf_counter() - start)


async def student(browser, url: str, token: str, run_id: str, delay: float, times: dict[str, list[float]]) -> None:
    """One student's visit, recording each wait in `times` (a wait that failed, with a
    screenshot, under "failed")."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    await context.add_cookies([{"name": COOKIE, "value": token, "url": url}])
    page = await context.new_page()
    page.set_default_timeout(300_000)
    await asyncio.sleep(delay)
    try:
        await timed(page, lambda: page.goto(f"{url}/runs"), "[data-testid='stDataFrame']", times["Runs page"])
        await timed(page, lambda: page.goto(f"{url}/samples?runs={run_id}"), GRID, times["Samples page"])
        slider = page.locator(STEP_SLIDER).first
        for key in ("Home", "End", "Home"):
            before = await page.evaluate(VIEW)
            start = time.perf_counter()
            await slider.press(key)
            await page.wait_for_function(f"before => ({VIEW})() !== before", arg=before, timeout=300_000)
            times["Samples step slider"].append(time.perf_counter() - start)
        await timed(page, lambda: page.goto(f"{url}/class_view"), GRID, times["Class page"])
    except Exception as exc:  # one student's failure is reported, not the end of the class
        times["failed"].append(f"{run_id}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        await page.screenshot(path=f"{tempfile.gettempdir()}/class-load-failed-{run_id}.png", full_page=True)
    finally:
        await context.close()


def wait_for_pid(run, timeout_s: float = 120) -> int:
    """The pid of the worker training `run`, once it has claimed it."""
    deadline = time.time() + timeout_s
    while not (pid := read_json(run.status_path).get("pid")):
        if time.time() > deadline:
            raise RuntimeError(f"run {run.id} did not start")
        time.sleep(0.2)
    return pid


async def memory_sampler(pid: int, samples: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        samples.append(rss_mb(pid))
        await asyncio.sleep(0.5)


TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def busy_s() -> float:
    """CPU seconds every core of the machine has spent busy so far."""
    user, nice, system, idle, iowait, *rest = map(int, Path("/proc/stat").read_text().split("\n")[0].split()[1:])
    return (user + nice + system + sum(rest[:3])) / TICK


def cpu_use(pids: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds so far by group (the app, the workers), and the machine's busy total."""
    return {**{name: sum(cpu_s(p) for p in group) for name, group in pids.items()}, "machine": busy_s()}


PAGES = ("Runs page", "Samples page", "Samples step slider", "Class page", "failed")


async def light_student(url: str, token: str, run_id: str, delay: float, times: dict[str, list],
                        idle: asyncio.Event, idle_page: str, think_s: float) -> None:
    """One student's visit as a light client, reading each view for about `think_s` (uniform
    between half and one and a half times) before the next; then the tab stays open on
    `idle_page` until `idle` is set."""
    async def think() -> None:
        await asyncio.sleep(random.uniform(0.5, 1.5) * think_s)

    await asyncio.sleep(delay)
    try:
        async with Tab(url, cookies={COOKIE: token}) as tab:
            times["Runs page"].append((await tab.open("runs")).seconds)
            await think()
            samples = await tab.open("samples", query=f"runs={run_id}")
            times["Samples page"].append(samples.seconds)
            slider = samples.widget("slider", "Training step")
            for option in (slider.options[0], slider.options[-1], slider.options[0]):
                await think()
                times["Samples step slider"].append((await tab.set_widget(slider, [option])).seconds)
            await think()
            times["Class page"].append((await tab.open("class_view")).seconds)
            page, _, query = idle_page.partition("?")
            await tab.open(page, query=query)
            await idle.wait()
    except Exception as exc:  # one student's failure is reported, not the end of the class
        times["failed"].append(f"{run_id}: {type(exc).__name__}: {exc}")


async def light_class(url: str, visitors: list[tuple[str, str]], pid: int, arrive_s: float, idle_s: float,
                      idle_page: str, think_s: float) -> tuple[dict, list[float], float, float]:
    """Every visitor (token, run) at once as light clients; their times, the app's memory, the wall
    time of the visits, and the app's CPU-seconds while the tabs sat idle for `idle_s`."""
    times: dict[str, list] = {k: [] for k in PAGES}
    memory: list[float] = []
    stop, idle = asyncio.Event(), asyncio.Event()
    sampler = asyncio.create_task(memory_sampler(pid, memory, stop))
    start = time.perf_counter()
    visits = asyncio.gather(*(light_student(url, token, run_id, random.uniform(0, arrive_s), times, idle, idle_page,
                                            think_s) for token, run_id in visitors))
    while sum(len(times[k]) for k in ("Class page", "failed")) < len(visitors):
        await asyncio.sleep(0.2)
    wall = time.perf_counter() - start
    await asyncio.sleep(5)  # every tab has drawn its idle page
    before = cpu_s(pid)
    await asyncio.sleep(idle_s)
    idle_cpu = cpu_s(pid) - before
    idle.set()
    await visits
    stop.set()
    await sampler
    return times, memory, wall, idle_cpu


async def light_player(url: str, token: str, delay: float, times: dict[str, list], every_s: float) -> None:
    """One student playing the open Real-or-generated round: the page, then an answer about
    every `every_s` seconds (Real or Generated at random) until they have judged every image."""
    await asyncio.sleep(delay)
    try:
        async with Tab(url, cookies={COOKIE: token}) as tab:
            run = await tab.open("judge")
            times["Round page"].append(run.seconds)
            while "Image " in run.texts():
                await asyncio.sleep(random.uniform(0.5, 1.5) * every_s)
                run = await tab.click(run.widget("button", random.choice(["Real", "Generated"])))
                times["Answer"].append(run.seconds)
    except Exception as exc:
        times["failed"].append(f"player: {type(exc).__name__}: {exc}")


async def play_round(url: str, tokens: list[str], pid: int, arrive_s: float, every_s: float) -> tuple[dict, float]:
    """Every student plays the open round at once; their times and the app's share of its core."""
    times: dict[str, list] = {"Round page": [], "Answer": [], "failed": []}
    before, start = cpu_s(pid), time.perf_counter()
    await asyncio.gather(*(light_player(url, token, random.uniform(0, arrive_s), times, every_s) for token in tokens))
    return times, (cpu_s(pid) - before) / (time.perf_counter() - start)


def round_runs(runs_dir: Path) -> list[str]:
    """A GAN and a VAE of the class's runs, for the round."""
    names = sorted(p.name for p in runs_dir.iterdir() if p.is_dir() and "-" in p.name)
    return [next(n for n in names if n.split("-", 1)[1].startswith(kind)) for kind in ("dcgan-fashion-0",
                                                                                      "vae-fashion-0")]


async def nobody(pid: int, idle_s: float) -> float:
    """The app's CPU-seconds over `idle_s` with no tab open (its watcher, the workers' files)."""
    before = cpu_s(pid)
    await asyncio.sleep(idle_s)
    return cpu_s(pid) - before


async def visit(url: str, visitors: list[tuple[str, str]], pid: int,
                arrive_s: float) -> tuple[dict, list[float], float]:
    """Every visitor (token, run) at once in one Chromium; their times, the app's memory, the wall time."""
    from playwright.async_api import async_playwright

    times: dict[str, list] = {k: [] for k in ("Runs page", "Samples page", "Samples step slider", "Class page",
                                              "failed")}
    memory: list[float] = []
    stop = asyncio.Event()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        sampler = asyncio.create_task(memory_sampler(pid, memory, stop))
        start = time.perf_counter()
        await asyncio.gather(*(student(browser, url, token, run_id, random.uniform(0, arrive_s), times)
                               for token, run_id in visitors))
        wall = time.perf_counter() - start
        stop.set()
        await sampler
        await browser.close()
    return times, memory, wall


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--arrive-s", type=float, default=5.0, help="students arrive within this many seconds")
    parser.add_argument("--idle-s", type=float, default=60.0)
    parser.add_argument("--think-s", type=float, default=3.0, help="a student reads each view about this long")
    parser.add_argument("--idle-page", default="runs", help="the page (and ?query) each tab keeps open")
    parser.add_argument("--checkout", type=Path, default=ROOT, help="the checkout whose app.py is served")
    parser.add_argument("--chromium", action="store_true")
    parser.add_argument("--play", type=int, default=0, metavar="IMAGES",
                        help="then the students play a Real-or-generated round of this many images")
    parser.add_argument("--answer-s", type=float, default=2.0, help="a player answers about this often")
    args = parser.parse_args()
    random.seed(0)
    base = Path(tempfile.mkdtemp())
    runs_dir = base / "runs"
    names = [f"student{i:02d}" for i in range(args.students)]
    first = class_runs(runs_dir, args.runs, names)
    tokens = {name: roster.open_session(runs_dir, User(name)) for name in names if roster.add(runs_dir, name)}
    os.environ.update(GENLAB_CLASS="1", GENLAB_RUNS=str(runs_dir), GENLAB_MAX_JOBS=str(max(1, args.workers)))
    roster.add(runs_dir, "teacher", teacher=True)  # the teacher's runs train while the class looks on
    workers = [jobs.launch(make_config("dcgan", "fashion-mnist", steps=1_000_000, name=f"load-{i}"), runs_dir,
                           User("teacher", teacher=True)) for i in range(args.workers)]
    port = free_port()
    cores = sorted(os.sched_getaffinity(0))
    try:
        with streamlit_server(runs_dir, base / "data", base / "streamlit.log", port=port,
                              app=args.checkout.resolve() / "app.py") as url:
            pid = server_pid(port)
            if len(cores) > 1:  # the app on one core; this process, its clients and the workers on the others
                os.sched_setaffinity(pid, cores[:1])
                os.sched_setaffinity(0, cores[1:])
                for run in workers:
                    os.sched_setaffinity(wait_for_pid(run), cores[1:])
            one = [(tokens[names[0]], first[names[0]])]
            visitors = [(tokens[n], first[n]) for n in names]
            if args.chromium:
                asyncio.run(visit(url, one, pid, 0.0))  # the app's first visit imports torch and loads models
                alone, _, _ = asyncio.run(visit(url, one, pid, 0.0))
                crowd, memory, wall = asyncio.run(visit(url, visitors, pid, args.arrive_s))
                idle_cpu = empty_cpu = float("nan")
            else:
                asyncio.run(light_class(url, one, pid, 0.0, 0.0, args.idle_page, 0.0))
                alone, _, _, _ = asyncio.run(light_class(url, one, pid, 0.0, 0.0, args.idle_page, 0.0))
                empty_cpu = asyncio.run(nobody(pid, args.idle_s))
                crowd, memory, wall, idle_cpu = asyncio.run(light_class(url, visitors, pid, args.arrive_s,
                                                                        args.idle_s, args.idle_page, args.think_s))
                if args.play:
                    rounds.start_round(runs_dir, round_runs(runs_dir), args.play, 0, User("teacher", teacher=True),
                                       test_size=10_000)
                    played = asyncio.run(play_round(url, [tokens[n] for n in names], pid, args.arrive_s,
                                                    args.answer_s))
    finally:
        for run in workers:
            jobs.cancel(runs_dir, run.id)
    report(args, alone, crowd, memory, wall, (idle_cpu, empty_cpu))
    if args.play:
        report_round(args, *played)
    shutil.copy(base / "streamlit.log", Path(tempfile.gettempdir()) / "class-load-streamlit.log")
    shutil.rmtree(base, ignore_errors=True)


def report(args: argparse.Namespace, alone: dict, crowd: dict, memory: list[float], wall: float,
           idle: tuple[float, float]) -> None:
    print(f"{args.students} students ({'Chromium' if args.chromium else 'light clients'}, about {args.think_s:g} s "
          f"between actions), {args.runs} runs on "
          f"disk, {args.workers} worker(s) training a DCGAN, app {args.checkout.resolve().name} pinned to one of "
          f"{os.cpu_count()} cores; the class's visits took {wall:.0f} s in all")
    print("| wait | one student alone: median s | class: median s | class: p95 s | answered |")
    print("|---|---|---|---|---|")
    failed = crowd.pop("failed") + alone.pop("failed")
    for name, times in crowd.items():
        if not times or not alone[name]:
            print(f"| {name} | no visit finished | | | |")
            continue
        print(f"| {name} | {statistics.median(alone[name]):.2f} | {statistics.median(times):.2f} "
              f"| {percentile(times, 0.95):.2f} | {len(times)} |")
    print(f"\n{len(failed)} visit(s) failed or timed out" + "".join(f"\n- {line}" for line in failed[:10]))
    idle_cpu, empty_cpu = idle
    if idle_cpu == idle_cpu:  # not NaN: light clients
        per_tab = (idle_cpu - empty_cpu) / args.students / (args.idle_s / 60)
        print(f"\nIdle on {args.idle_page}: the app used {idle_cpu:.1f} CPU-s in {args.idle_s:.0f} s with "
              f"{args.students} tabs open ({100 * idle_cpu / args.idle_s:.0f}% of its core), {empty_cpu:.1f} CPU-s "
              f"with none: {per_tab:.3f} CPU-s per tab per minute")
    print(f"App memory (RSS): peak {max(memory, default=0):.0f} MB")


def report_round(args: argparse.Namespace, times: dict[str, list], core_share: float) -> None:
    print(f"\nThen all {args.students} played a round of {args.play} images, an answer about every "
          f"{args.answer_s:g} s each (the app at {100 * core_share:.0f}% of its core meanwhile):")
    print("| wait | median s | p95 s | answered |")
    print("|---|---|---|---|")
    for name in ("Round page", "Answer"):
        values = times[name]
        if values:
            print(f"| {name} | {statistics.median(values):.2f} | {percentile(values, 0.95):.2f} | {len(values)} |")
    print(f"{len(times['failed'])} player(s) failed" + "".join(f"\n- {line}" for line in times["failed"][:10]))


if __name__ == "__main__":
    main()
