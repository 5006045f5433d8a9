"""A class on one server under load: `make serve`'s app (GENLAB_CLASS=1) with 100 runs on
disk and two workers training, opened by N students at once, each in their own browser
context (one Debian Chromium, Playwright) and logged in as their own account.

Each student opens Runs (until the runs table shows), Samples on their own run (until its
grid shows), moves the Samples page's step slider three times (until the grid changes),
then opens the Class page (until its first grid shows). Students arrive within the first
few seconds, as a class does when the teacher says "open GenLab". Reported: median and
95th percentile of each, and the app's memory (resident set of the Streamlit process,
sampled every half second). Baseline, side by side on the same server and workers: one
student alone, before the class arrives (after one untimed visit, which imports torch and
loads the models).

Usage: python benchmarks/class_load.py [--students 30] [--runs 100] [--workers 2]
       [--post-script-gc]   (Streamlit's default full gc.collect() after every script run)
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
from genlab.teaching.demos import demo_runs  # noqa: E402
from tests.streamlit_server import CHROMIUM, FLAGS, free_port, streamlit_server  # noqa: E402

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


def server_pid(port: int) -> int:
    """The Streamlit process serving `port` (found by its command line)."""
    for proc in Path("/proc").iterdir():
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"streamlit" in b" ".join(cmd) and str(port).encode() in cmd:
            return int(proc.name)
    raise RuntimeError(f"no streamlit process on port {port}")


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
    parser.add_argument("--post-script-gc", action="store_true")
    args = parser.parse_args()
    random.seed(0)
    base = Path(tempfile.mkdtemp())
    runs_dir = base / "runs"
    names = [f"student{i:02d}" for i in range(args.students)]
    first = class_runs(runs_dir, args.runs, names)
    tokens = {name: roster.open_session(runs_dir, User(name)) for name in names if roster.add(runs_dir, name)}
    os.environ.update(GENLAB_CLASS="1", GENLAB_RUNS=str(runs_dir), GENLAB_MAX_JOBS=str(max(1, args.workers)))
    workers = [jobs.launch(make_config("dcgan", "fashion-mnist", steps=1_000_000, name=f"load-{i}"), runs_dir)
               for i in range(args.workers)]
    port = free_port()
    gc = ("--runner.postScriptGC", "true") if args.post_script_gc else ()
    try:
        with streamlit_server(runs_dir, base / "data", base / "streamlit.log", port=port, args=gc) as url:
            pid = server_pid(port)
            one = [(tokens[names[0]], first[names[0]])]
            asyncio.run(visit(url, one, pid, 0.0))  # the app's first visit imports torch and loads models
            idle_mb = rss_mb(pid)
            alone, _, _ = asyncio.run(visit(url, one, pid, 0.0))
            after_one_mb = rss_mb(pid)
            groups = {"app": [pid], "workers": [r.status()["pid"] for r in workers if r.status().get("pid")]}
            before = cpu_use(groups)
            crowd, memory, wall = asyncio.run(visit(url, [(tokens[n], first[n]) for n in names], pid, args.arrive_s))
            after = cpu_use(groups)
            after_mb = rss_mb(pid)
    finally:
        for run in workers:
            jobs.cancel(runs_dir, run.id)
    cpu = {k: after[k] - before[k] for k in after}
    report(args, alone, crowd, (idle_mb, after_one_mb, max(memory), after_mb), wall, cpu)
    shutil.copy(base / "streamlit.log", Path(tempfile.gettempdir()) / "class-load-streamlit.log")
    shutil.rmtree(base, ignore_errors=True)


def report(args: argparse.Namespace, alone: dict, crowd: dict, memory: tuple[float, ...], wall: float,
           cpu: dict[str, float]) -> None:
    print(f"{args.students} students, {args.runs} runs on disk, {args.workers} worker(s) training a DCGAN, "
          f"{os.cpu_count()} cores, postScriptGC {'on' if args.post_script_gc else 'off'}; "
          f"the class's visits took {wall:.0f} s in all")
    print("| wait | one student alone: median s | class: median s | class: p95 s | class median / alone |")
    print("|---|---|---|---|---|")
    failed = crowd.pop("failed") + alone.pop("failed")
    for name, times in crowd.items():
        if not times or not alone[name]:
            print(f"| {name} | no visit finished | | | |")
            continue
        one = statistics.median(alone[name])
        print(f"| {name} | {one:.2f} | {statistics.median(times):.2f} | {percentile(times, 0.95):.2f} "
              f"| {statistics.median(times) / one:.1f}x |")
    print(f"\n{len(failed)} visit(s) failed" + "".join(f"\n- {line}" for line in failed))
    rest = cpu["machine"] - cpu["app"] - cpu["workers"]
    print(f"\nCPU during the class's visits, of {wall * os.cpu_count():.0f} core-seconds: the app "
          f"{cpu['app']:.0f} s, the workers {cpu['workers']:.0f} s, everything else (Chromium's pages, "
          f"Playwright) {rest:.0f} s")
    idle, after_one, peak, after = memory
    print(f"\nApp memory (RSS): {idle:.0f} MB after a first visit, {after_one:.0f} MB after one student, "
          f"{peak:.0f} MB at the class's peak, {after:.0f} MB after the class left")


if __name__ == "__main__":
    main()
