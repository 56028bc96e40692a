"""A handful of real students: headless Chromium tabs against one server, at the same time.

    python bench/browsers.py sliders --tabs 3 [--duration 60]
    python bench/browsers.py train-same --tabs 3
    python bench/browsers.py train-different --tabs 3

Each tab is a browser context of its own (its own Streamlit session) in one Debian Chromium
(`/usr/bin/chromium`, driven by Playwright's async API, so the tabs act at once). What a student
waits for is timed from the browser's side:
- a nudge (arrow key on a slider; a number box or select box on a page without sliders): from
  the key press to the server's last websocket message ("server") and to the page's last DOM
  change ("settled"), as bench/nudge.py does for one tab;
- opening a page (menu click): until the page is drawn and quiet;
- Train: from the click to the first epoch drawn in the live chart, and to the run's end (the
  Stop button disabled again, the app idle).
Prints p50/p95/max per page and action, errors (exception boxes), server and worker memory, and
the CPU of the server, the workers and Chromium itself (it competes for the same 2 cores).
See bench/README.md; the protocol-level load test for 30-100 students is bench/class_load.py.
"""
import argparse
import asyncio
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from playwright.async_api import async_playwright  # noqa: E402

from bench.classload import procmon, report  # noqa: E402
from bench.classload.dom import quiet_js  # noqa: E402
from bench.classload.server import ROOT, Server, check_loopback, pid_listening_on, tracebacks  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
DEFAULT_VARY = ("lr=0.001,0.003,0.01,0.03,0.1", "epochs=5,10,15,20", "batch=16,32,64,128,256")
QUIET = 0.6  # seconds without a websocket message: the server is done with a nudge

DOM_QUIET_JS = quiet_js(300)  # the page unchanged for 0.3 s, and not running
# Points of the longest line/scatter trace of each chart in the main area, in page order.
POINTS_JS = """() => Array.from(document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot')).map(p =>
    Math.max(0, ...(p.data || []).filter(t => !t.type || t.type === 'scatter' || t.type === 'scattergl')
                                 .map(t => (t.x || t.y || []).length)))"""
# The Stop button: its icon's name ("stop") or its label on a line of its own; null if none.
STOP_JS = """() => { const b = Array.from(document.querySelectorAll('[data-testid="stMain"] button')).find(b =>
    b.innerText.split('\\n').some(l => l.trim().toLowerCase() === 'stop'));
    return b ? b.disabled : null; }"""
STATE_JS = """() => { const a = document.querySelector('[data-testid="stApp"]');
    return a ? a.getAttribute('data-test-script-state') : null; }"""


class Tab:
    """One student's tab: a page that stamps every websocket message from the server."""

    def __init__(self, page, index):
        self.page, self.index = page, index
        self.frames_at = [time.time()]
        self.errors = []
        page.on("websocket", lambda ws: ws.on("framereceived", lambda _: self.frames_at.append(time.time())))

    async def quiet(self, since, quiet=QUIET, timeout=120.0):
        """Wait until no websocket message has come for `quiet` s; the time of the last one."""
        deadline = since + timeout
        while time.time() - max(since, self.frames_at[-1]) < quiet and time.time() < deadline:
            await self.page.wait_for_timeout(50)
        return max(since, self.frames_at[-1])

    async def settled(self, since, timeout=120.0):
        """(last server message, last DOM change) after `since`, once both are quiet."""
        last_frame = await self.quiet(since, timeout=timeout)
        dom_from = time.time()
        dom = await self.page.evaluate(DOM_QUIET_JS)
        last_dom = dom_from + dom / 1000 if dom > 1 else since
        await self.page.wait_for_selector('[data-testid="stMain"] h1', timeout=timeout * 1000)
        return last_frame, max(last_frame, last_dom)

    async def exceptions(self):
        return await self.page.locator('[data-testid="stException"]').count()


class Run:
    """Shared by the tabs of one scenario: settings, samples, training records."""

    def __init__(self, args, base):
        self.args, self.base = args, base
        self.samples, self.training = [], []
        self.go = asyncio.Event()
        self.ready = 0
        self.go_at = None

    def add(self, kind, page, ms, error=None, server_ms=None):
        self.samples.append({"kind": kind, "page": f"/{page}", "ms": ms, "server_ms": server_ms,
                             "error": error, "t": time.time(), "bytes": 0})

    def url(self, page, extra=""):
        return f"{self.base}/{page}?{self.args.query}{extra}"


async def open_page(run, tab, page, extra="", via_menu=False):
    start = time.time()
    error = None
    try:
        link = tab.page.locator(f'[data-testid="stSidebarNav"] a[href$="/{page}"]')
        if via_menu and await link.count():
            await link.first.click()
        else:
            await tab.page.goto(run.url(page, extra))
        server_done, settled = await tab.settled(start)
        if await tab.exceptions():
            error = "exception box on the page"
    except Exception as e:  # noqa: BLE001  (a timeout, a closed page)
        server_done = settled = time.time()
        error = f"{type(e).__name__}: {str(e)[:160]}"
    run.add("switch" if via_menu else "open", page, (settled - start) * 1000, error, (server_done - start) * 1000)
    return error is None


async def controls(tab):
    """(kind, locator) pairs a student can move on this page: sliders, else number boxes, else selects."""
    kinds = (("slider", '[data-testid="stMain"] [data-testid="stSlider"] input[type="range"]:not([disabled])'),
             ("number", '[data-testid="stMain"] [data-testid="stNumberInput"] input:not([disabled])'),
             ("select", '[data-testid="stMain"] [data-testid="stSelectbox"] input:not([disabled])'),
             ("text", '[data-testid="stMain"] [data-testid="stTextInput"] input:not([disabled])'))
    for kind, selector in kinds:
        found = tab.page.locator(selector)
        n = await found.count()
        if n:
            return [(kind, found.nth(i)) for i in range(n)]
    return []


async def nudge(run, tab, page, kind, control, direction, rng):
    """Move one control; False if nothing happened (a slider already at its end)."""
    start = time.time()
    error = None
    try:
        if kind == "slider":
            await control.focus()
            await control.press("ArrowRight" if direction > 0 else "ArrowLeft")
        elif kind == "number":
            await control.focus()
            await control.press("ArrowUp" if direction > 0 else "ArrowDown")
            await control.press("Enter")
        elif kind == "select":
            await control.click()
            await tab.page.keyboard.press("ArrowDown")
            await tab.page.keyboard.press("Enter")
        else:
            await control.fill(rng.choice(("loss", "epoch", "relu", "")))
            await control.press("Enter")
        server_done, settled = await tab.settled(start)
        if tab.frames_at[-1] < start:  # the server heard nothing: the control did not change
            return False
        if await tab.exceptions():
            error = "exception box on the page"
    except Exception as e:  # noqa: BLE001
        server_done = settled = time.time()
        error = f"{type(e).__name__}: {str(e)[:160]}"
    run.add(f"nudge:{kind}", page, (settled - start) * 1000, error, (server_done - start) * 1000)
    return True


async def slider_student(run, tab, pages, deadline):
    args = run.args
    rng = random.Random(args.seed * 1000 + tab.index)
    at = tab.index % len(pages)
    await open_page(run, tab, pages[at])
    while time.time() < deadline:
        found = await controls(tab)
        directions = [rng.choice((1, -1)) for _ in found]
        for _ in range(rng.randint(*args.nudges_per_page) if found else 0):
            await asyncio.sleep(rng.uniform(*args.think))
            if time.time() >= deadline:
                return
            i = rng.randrange(len(found))
            kind, control = found[i]
            if not await nudge(run, tab, pages[at], kind, control, directions[i], rng):
                directions[i] = -directions[i]  # at its end: back the other way, now
                await nudge(run, tab, pages[at], kind, control, directions[i], rng)
        at = (at + 1) % len(pages)
        await asyncio.sleep(rng.uniform(*args.think))
        if time.time() < deadline:
            await open_page(run, tab, pages[at], via_menu=True)


async def train_student(run, tab, extra):
    args = run.args
    rng = random.Random(args.seed * 1000 + tab.index)
    record = {"student": tab.index, "settings": dict(p.split("=", 1) for p in extra.split("&") if p), "error": None}
    opened = await open_page(run, tab, args.page, extra)
    run.ready += 1
    await run.go.wait()
    await asyncio.sleep(rng.uniform(0, args.spread))
    try:
        button = tab.page.locator('[data-testid="stMain"] button[kind="primary"]:not([disabled])').first
        if not opened:
            raise RuntimeError("the page did not open")
        await button.wait_for(state="visible", timeout=30_000)
        before = await tab.page.evaluate(POINTS_JS)
        clicked = time.time()
        await button.click()
        record["clicked"] = clicked
        stop_seen_active = False
        while time.time() - clicked < args.train_timeout:
            points = await tab.page.evaluate(POINTS_JS)
            fresh = [p for i, p in enumerate(points) if i >= len(before) or not before[i]]
            if record.get("epoch1_s") is None and any(fresh):
                record["epoch1_s"] = time.time() - clicked
            record["epochs"] = next((p for p in fresh if p), 0)
            stop = await tab.page.evaluate(STOP_JS)
            stop_seen_active |= stop is False
            if stop and (stop_seen_active or record.get("epoch1_s") is not None) \
                    and await tab.page.evaluate(STATE_JS) == "notRunning":
                record["done_s"] = time.time() - clicked
                break
            await tab.page.wait_for_timeout(50)
        if await tab.exceptions():
            record["error"] = "exception box on the page"
        elif record.get("done_s") is None:
            record["error"] = "timeout: the run never ended"
    except Exception as e:  # noqa: BLE001
        record["error"] = f"{type(e).__name__}: {str(e)[:160]}"
    for key, kind in (("epoch1_s", "train:epoch1"), ("done_s", "train:finished")):
        if record.get(key) is not None:
            run.add(kind, args.page, record[key] * 1000)
        else:
            run.add(kind, args.page, 0, record["error"] or "no epoch drawn")
    run.training.append(record)


def settings_for(args, n):
    axes = [(s.partition("=")[0], s.partition("=")[2].split(",")) for s in (args.vary or DEFAULT_VARY)]
    out = []
    for k in range(n):
        rest, parts = k, []
        for name, values in axes:
            parts.append(f"&{name}={values[rest % len(values)]}")
            rest //= len(values)
        out.append("".join(parts))
    return out


class BrowserCPU:
    """CPU seconds of this process's descendants outside the server's tree (Chromium, the
    Playwright driver), summed per process over its life: renderers come and go with the tabs."""

    def __init__(self, server_pid):
        self.server_pid, self.seen, self.base = server_pid, {}, None

    def sample(self):
        skip = {self.server_pid, *procmon.descendants(self.server_pid)} if self.server_pid else set()
        for pid in procmon.descendants(os.getpid()):
            if pid not in skip:
                self.seen[pid] = max(self.seen.get(pid, 0.0), procmon.cpu_seconds(pid))
        return sum(self.seen.values())

    async def follow(self, every=1.0):
        while True:
            self.sample()
            await asyncio.sleep(every)


async def scenario(args, base, pid, server):
    sampler = procmon.Sampler(pid).start()
    out = print
    out(f"== {args.scenario} in {args.tabs} Chromium tabs; server {base} "
        f"({'started here from ' + args.app_dir if server else 'given with --url'}); load average before "
        f"{os.getloadavg()[0]:.2f}")
    run = Run(args, base)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        contexts = [await browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(args.tabs)]
        tabs = [Tab(await c.new_page(), i) for i, c in enumerate(contexts)]
        # warm-up: one tab opens the pages once (imports, caches, trainers), then the server goes quiet
        pages = [x.strip().strip("/") for x in args.pages.split(",") if x.strip()] if args.scenario == "sliders" \
            else [args.page]
        warm = Run(args, base)
        await open_page(warm, tabs[0], "")
        if not pages:
            hrefs = await tabs[0].page.eval_on_selector_all('[data-testid="stSidebarNav"] a',
                                                            "els => els.map(a => a.getAttribute('href'))")
            pages = [h.rstrip("/").rsplit("/", 1)[-1] for h in hrefs if h.rstrip("/") != base.rstrip("/")]
        for page in pages:
            await open_page(warm, tabs[0], page)
        if pid:
            await asyncio.get_running_loop().run_in_executor(None, procmon.wait_quiet, pid)
        sampler.mark("idle")
        await asyncio.sleep(3)
        sampler.mark("idle_end")
        chromium = BrowserCPU(pid)
        cpu0 = (procmon.sample(pid) if pid else None, chromium.sample(), procmon.self_cpu(), procmon.machine_cpu())
        follow = asyncio.create_task(chromium.follow())
        sampler.mark("students")
        started = time.time()
        if args.scenario == "sliders":
            out(f"  pages: {', '.join('/' + x for x in pages)}; {args.duration:.0f} s")
            deadline = started + args.duration
            await asyncio.gather(*(slider_student(run, tab, pages, deadline) for tab in tabs))
        else:
            extras = settings_for(args, len(tabs)) if args.scenario == "train-different" else [""] * len(tabs)
            students = [asyncio.create_task(train_student(run, tab, extra)) for tab, extra in zip(tabs, extras)]
            while run.ready < len(tabs) and time.time() - started < 120:
                await asyncio.sleep(0.1)
            run.go_at = time.time()
            run.go.set()
            await asyncio.gather(*students)
        cpu1 = (procmon.sample(pid) if pid else None, chromium.sample(), procmon.self_cpu(), procmon.machine_cpu())
        follow.cancel()
        for c in contexts:
            await c.close()
        sampler.mark("left")
        left = time.time()
        await browser.close()
    if args.cooldown > 0:
        out(f"  the tabs closed; sampling memory for {args.cooldown:.0f} s")
        await asyncio.sleep(args.cooldown)
    sampler.mark("end")
    sampler.stop()
    wall = left - started
    out(f"-- latency ({len(run.samples)} actions in {wall:.0f} s; ms from key press / click to the page settled)")
    report.print_latency(run.samples, out)
    server_ms = [s["server_ms"] for s in run.samples if s["kind"].startswith("nudge") and s["server_ms"] is not None
                 and not s["error"]]
    if server_ms:
        out(f"  nudge to the server's last message (without the browser's drawing): p50 "
            f"{report.percentile(server_ms, 50):.0f} ms, p95 {report.percentile(server_ms, 95):.0f} ms")
    out("-- errors")
    failed = [s for s in run.samples if s["error"]]
    logs = tracebacks(server.log_text()) if server else []
    if server and server.process.poll() is not None:
        out(f"  !! the server exited during the run (return code {server.process.returncode})")
    out(f"  failed actions: {len(failed)}; tracebacks in the server log: {len(logs) if server else 'n/a'}")
    for s in failed[:5]:
        out(f"    {s['kind']} {s['page']}: {s['error']}")
    for line in logs[:5]:
        out(f"    server log: {line}")
    training = {}
    if run.training:
        out("-- training waits (seconds from each click)")
        training = report.print_training(run.training, out)
    out("-- CPU")
    nudges = sum(1 for s in run.samples if s["kind"].startswith("nudge") and not s["error"])
    if cpu0[0]:
        server_s = cpu1[0]["cpu"] - cpu0[0]["cpu"]
        workers_s = procmon.descendants_cpu(cpu0[0], sampler.between(started, left), cpu1[0])
        out(f"  server: {server_s:.1f} s CPU in {wall:.0f} s ({server_s / wall:.2f} cores); workers: {workers_s:.1f} s"
            + (f"; server CPU per nudge: {server_s / nudges * 1000:.0f} ms" if nudges else ""))
    out(f"  Chromium and Playwright: {cpu1[1] - cpu0[1]:.1f} s CPU ({(cpu1[1] - cpu0[1]) / wall:.2f} cores); "
        f"this script: {cpu1[2] - cpu0[2]:.1f} s")
    ours = (cpu1[1] - cpu0[1]) + (cpu1[2] - cpu0[2]) + \
        ((server_s + workers_s) if cpu0[0] else 0)
    out(f"  the whole machine: {(cpu1[3] - cpu0[3]) / wall:.2f} of {os.cpu_count()} cores busy on average; other "
        f"processes: {max(cpu1[3] - cpu0[3] - ours, 0) / wall:.2f} cores")
    memory = {}
    if pid:
        out("-- memory")
        m = sampler.marks
        memory = report.memory_summary(sampler, (m["idle"], m["idle_end"]), m["students"], m["left"], m["end"])
        report.print_memory(memory, args.cooldown, out, start=m["students"])
    out("-- goals")
    if args.scenario == "sliders":
        nudge_ms = [s["ms"] for s in run.samples if s["kind"].startswith("nudge") and not s["error"]]
        report.goal_line("no errors", not failed, f"{len(failed)} failed", out)
        report.goal_line("nudge p95 <= 1.5 s", report.percentile(nudge_ms, 95) <= 1500,
                         f"p95 {report.percentile(nudge_ms, 95):.0f} ms over {len(nudge_ms)} nudges", out)
    elif args.scenario == "train-same" and training:
        report.goal_line("every student sees epoch 1 within 5 s",
                         training["epoch1"]["n"] == training["students"] and training["epoch1"]["max"] <= 5,
                         f"slowest {training['epoch1']['max']:.1f} s", out)
    elif training:
        last = training["last_done_after_first_click"]
        report.goal_line("the last run finishes within 90 s", last is not None and last <= 90
                         and training["done"]["n"] == training["students"], f"last after {last or float('nan'):.1f} s",
                         out)
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"args": vars(args), "samples": run.samples, "training": run.training, "memory": memory,
                       "memory_samples": sampler.samples, "marks": sampler.marks}, f, default=str)
        out(f"wrote {args.out}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", choices=("sliders", "train-same", "train-different"))
    p.add_argument("--tabs", type=int, default=3, help="students, one browser context each (default 3)")
    p.add_argument("--duration", type=float, default=60, help="sliders: seconds of nudging (default 60)")
    p.add_argument("--think", default="2-5", help="sliders: seconds between nudges, A-B")
    p.add_argument("--nudges-per-page", default="4-10", help="sliders: nudges before the next page, A-B")
    p.add_argument("--pages", default="", help="sliders: URL paths (default: every page in the menu but the start)")
    p.add_argument("--page", default="training", help="training: the page that trains")
    p.add_argument("--vary", action="append", default=None, metavar="NAME=V1,V2,...",
                   help="train-different: URL parameters and their values, combined per tab")
    p.add_argument("--spread", type=float, default=1.0, help="training: clicks fall within this many seconds")
    p.add_argument("--train-timeout", type=float, default=240)
    p.add_argument("--query", default="lang=en")
    p.add_argument("--cooldown", type=float, default=180, help="seconds of memory sampling after the tabs close")
    p.add_argument("--url", default="", help="a running server on this machine, instead of starting one")
    p.add_argument("--server-pid", type=int, default=0)
    p.add_argument("--app-dir", default=ROOT)
    p.add_argument("--script", default="streamlit_app.py")
    p.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="")
    args = p.parse_args(argv)
    a, _, b = args.think.partition("-")
    args.think = (float(a), float(b or a))
    a, _, b = args.nudges_per_page.partition("-")
    args.nudges_per_page = (int(a), int(b or a))
    if args.url:
        check_loopback(args.url)
        base = args.url.rstrip("/")
        pid = args.server_pid or pid_listening_on(int(base.rsplit(":", 1)[1])) or 0
        asyncio.run(scenario(args, base, pid, None))
        return
    env = dict(kv.split("=", 1) for kv in args.server_env)
    with Server(script=args.script, app_dir=args.app_dir, env=env) as server:
        asyncio.run(scenario(args, server.base, server.pid, server))


if __name__ == "__main__":
    main()
