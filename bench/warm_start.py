"""A class link to a fresh server: for every page, a new `streamlit run`, one Chromium tab sent
straight to the page, and the seconds until its title, its first drawn chart, and what the page
said while the student waited.

    python bench/warm_start.py                      # every page, English
    python bench/warm_start.py --lang ko --pages evaluate,optimizers
    python bench/warm_start.py --app-dir /tmp/before  # an older commit, to compare
    python bench/warm_start.py --cold --pages evaluate  # the first server ever on this computer
    python bench/warm_start.py --floor --pages evaluate  # beside the floor: a bare page importing Keras
    python bench/warm_start.py --after-start-page --pages evaluate  # the one-tab walker's order and count

A server reads back the class model an earlier server on this computer kept (lib/class_model.py),
as a teacher's second lesson does; --cold gives each server an empty app folder of its own, so it
trains the class model as the very first server on a computer does.

Goal (issue "a lecture hall on one machine"): the first chart within 8 s (the 30-student issue
asked 10), and never an empty page with no word of what it waits for. The same second varies by a
third from day to day on one machine (TensorFlow's import alone: 3.3 s one day, 4.4 s another), so
--floor first opens bench/floor_app.py?keras=1 on a fresh server, one slider and one Plotly chart
after `import keras`, and gives each page's first chart beside it, as `page − floor` seconds.

--after-start-page follows the one-tab walker (../shared/tools/walk-app --only /PAGE): the start page
until it has settled, 3 s, then the page in the same tab, while the server still prepares. It counts
as the walker does, server ready + start page + the page, to the page's first chart and to the
moment it has settled (its run finished and 0.7 s quiet, then no spinner and 1 s without a change
on screen: the walker's "render"). Its 1.7 s of quiet waiting are in the second count.
"""
import argparse
import contextlib
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.classload import procmon  # noqa: E402
from bench.classload.dom import quiet_js  # noqa: E402
from bench.classload.server import ROOT, Server  # noqa: E402
from lib import ui  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
MAIN_TEXT_JS = "() => (document.querySelector('[data-testid=stMain]') || {}).innerText || ''"
# A chart: a Plotly chart drawn, one of the pictures pages draw instead where a nudge would redraw a
# chart (the filters' input, Evaluate's digit, the optimizers' race) loaded, or the overview's diagram.
DRAWN_JS = """() => !!document.querySelector('.js-plotly-plot .main-svg, [data-testid=stMain] .kc-diagram') ||
    Array.from(document.querySelectorAll('[data-testid=stMain] [data-testid=stImage] img'))
        .some(i => i.complete && i.naturalWidth)"""


def first_visit(browser, base, path, limit):
    """(seconds to the title, seconds to the first drawn chart or picture, [(second, first line shown)])."""
    tab = browser.new_page(viewport={"width": 1400, "height": 1000})
    start = time.time()
    tab.goto(base + path, wait_until="commit")
    title = chart = None
    shown = []
    while time.time() - start < limit and chart is None:
        now = time.time() - start
        if title is None and tab.locator('[data-testid="stMain"] h1').count():
            title = now
        line = next((x for x in tab.evaluate(MAIN_TEXT_JS).splitlines() if x.strip() and x != "hourglass_top"), "")
        if not shown or shown[-1][1] != line:
            shown.append((now, line))
        if tab.evaluate(DRAWN_JS):
            chart = now
        time.sleep(0.05)
    tab.close()
    return title, chart, shown


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lang", default="en")
    parser.add_argument("--pages", help="comma-separated URL paths (default: every page; '' is the start page)")
    parser.add_argument("--app-dir", default=str(ROOT))
    parser.add_argument("--limit", type=float, default=60.0, help="seconds to wait for a chart")
    parser.add_argument("--cold", action="store_true",
                        help="an empty app folder for each server: the class model is trained, not read back")
    parser.add_argument("--floor", action="store_true",
                        help="first a fresh server of bench/floor_app.py?keras=1: each page's seconds beside it")
    parser.add_argument("--after-start-page", action="store_true",
                        help="the one-tab walker's order: the start page, 3 s, then the page; counted as it counts")
    args = parser.parse_args(argv)
    if args.after_start_page:
        return after_start_page(args)
    paths = args.pages.split(",") if args.pages is not None else [p.url_path for p in ui.available_pages()]

    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        floor = None
        if args.floor:
            _, floor, _ = fresh_visit(browser, args, "bench/floor_app.py", "/?keras=1")
            print(f"{'floor':13} (a bare page: import keras, one slider, one Plotly chart)  first chart {_s(floor)}",
                  flush=True)
        for path in paths:
            title, chart, shown = fresh_visit(browser, args, "streamlit_app.py", f"/{path}?lang={args.lang}")
            waiting = [line for second, line in shown if line and (title is None or second < title)]
            rows.append((path or "(start)", title, chart, waiting))
            print(f"/{path:12} title {_s(title)}  first chart {_s(chart)}{_beside(chart, floor)}  said while waiting: "
                  f"{' → '.join(w[:70] for w in waiting) or '-'}", flush=True)
        browser.close()
    charts = [c for _, _, c, _ in rows if c is not None]
    print("\ncold: every server trained the class model" if args.cold else "\nthe class model as this computer kept it")
    print(f"first chart: max {_s(max(charts) if charts else None)}{_beside(max(charts) if charts else None, floor)} "
          f"over {len(charts)} of {len(rows)} pages;"
          f" goal ≤ 8 s: {'PASS' if len(charts) == len(rows) and max(charts) <= 8 else 'FAIL'}")


def fresh_visit(browser, args, script, path):
    """A fresh server of `script` (an empty app folder of its own with --cold), one tab to `path`:
    first_visit's (title, chart, shown); the server's processes gone before it returns."""
    with contextlib.ExitStack() as stack:
        env = {"KERAS_CLASSROOM_DATA": stack.enter_context(tempfile.TemporaryDirectory())} if args.cold else {}
        its_processes = []
        stack.callback(_gone, its_processes, 30)  # last: once the server has ended
        server = stack.enter_context(Server(script=script, app_dir=args.app_dir, env=env))
        stack.callback(lambda: its_processes.extend(procmon.descendants(server.process.pid)))  # first
        return first_visit(browser, server.base, path, args.limit)


WALKER_PAUSE_S = 3.0  # the walker's wait after the start page (browse.py: max(--warm, 3))
def after_start_page(args):
    """--after-start-page: for each page a fresh server, one tab to the start page, then the page."""
    from playwright.sync_api import sync_playwright

    counts = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for path in args.pages.split(",") if args.pages is not None else [
                p.url_path for p in ui.available_pages() if p.url_path]:
            with contextlib.ExitStack() as stack:
                its_processes = []
                stack.callback(_gone, its_processes, 30)
                started = time.time()
                server = stack.enter_context(Server(app_dir=args.app_dir))
                ready = time.time() - started
                stack.callback(lambda: its_processes.extend(procmon.descendants(server.process.pid)))
                seconds = walker_visit(browser, server.base, f"/{path}?lang={args.lang}", args.limit)
            counts.append(walker_count(ready, *seconds))
            print(f"/{path:12} {counts[-1]['line']}", flush=True)
        browser.close()
    worst = max((c["chart"] for c in counts if c["chart"] is not None), default=None)
    print(f"\nthe walker's count to the first chart: max {_s(worst)} over {len(counts)} pages; goal ≤ 8 s: "
          f"{'PASS' if worst is not None and all(c['chart'] for c in counts) and worst <= 8 else 'FAIL'}; "
          f"to settled: max {_s(max(c['settled'] for c in counts))}")


def walker_visit(browser, base, path, limit):
    """(start page settled, the page's first chart, the page settled), in seconds, each from the
    moment its address was asked for; the first chart None when none came within `limit`."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    tab = browser.new_page(viewport={"width": 1400, "height": 1000})
    finished = []

    def on_frame(payload):
        if isinstance(payload, bytes) and ForwardMsg.FromString(payload).WhichOneof("type") == "script_finished":
            finished.append(time.time())

    tab.on("websocket", lambda socket: socket.on("framereceived", on_frame))
    asked = time.time()
    tab.goto(base + "/?" + path.split("?", 1)[1], wait_until="commit")
    tab.wait_for_selector('[data-testid="stApp"]', timeout=limit * 1000)
    tab.evaluate(quiet_js(700, spinner=True))
    start_page = time.time() - asked
    tab.wait_for_timeout(WALKER_PAUSE_S * 1000)
    asked, chart = time.time(), None
    tab.goto(base + path, wait_until="commit")
    run_ended = False  # the page's run finished, and 0.7 s without another
    while time.time() - asked < limit and not (run_ended and chart is not None):
        if chart is None and tab.evaluate(DRAWN_JS):
            chart = time.time() - asked
        run_ended = bool(finished) and finished[-1] > asked and time.time() - finished[-1] > 0.7
        tab.wait_for_timeout(30)
    tab.evaluate(quiet_js(1000, spinner=True))
    settled = time.time() - asked
    tab.close()
    return start_page, chart, settled


def walker_count(ready, start_page, chart, settled):
    """The walker's sums (server ready + start page + the page) to the first chart and to settled."""
    to_chart = None if chart is None else ready + start_page + chart
    line = (f"ready {ready:.1f} + start page {start_page:.1f} + first chart {_s(chart).strip()} = "
            f"{_s(to_chart).strip()}; settled {settled:.1f} → {ready + start_page + settled:.1f} s")
    return {"chart": to_chart, "settled": ready + start_page + settled, "line": line}


def _beside(seconds, floor):
    """" (floor + 2.1 s)": a page's seconds beside the floor's, when both were measured."""
    return "" if seconds is None or floor is None else f" (floor {seconds - floor:+.1f} s)"


def _gone(pids, timeout):
    """Wait until a stopped server's processes (its training worker, still importing Keras a second
    after the server: seen here) have ended, so they do not run beside the next fresh server."""
    deadline = time.time() + timeout
    while time.time() < deadline and any(procmon.running(pid) for pid in pids):
        time.sleep(0.1)


def _s(seconds):
    return "  -  " if seconds is None else f"{seconds:5.1f} s"


if __name__ == "__main__":
    main()
