"""How fast does the picture follow a control? Real server, real Chromium, many nudges per page.

    python bench/nudge.py [--pages model,filters] [--repeat 5] [--lang en] [--floor] [--fresh] [--warm 30]

Starts `streamlit run` on a free port, opens each page, and nudges its sliders (arrow key),
number inputs (step up) and select boxes (next option) `--repeat` times each, timing keypress
-> server done -> page settled, as ../shared/tools/walk-app does for sliders. Prints the median
and the worst per page and control kind, and the server's CPU time per nudge.

`--floor` first nudges the floor's one slider (bench/floor_app.py) the same number of times, twice:
with Streamlit's defaults (a bare app, as the walker's yardstick) and with this repo's
`.streamlit/config.toml` (no garbage collection after every run: the floor then costs a few ms of
server CPU); each page's sliders get a ratio to both. `--fresh` moves every control the same way
each time (a new value each nudge, as the walker does; going back and forth revisits two values,
which a page's caches then answer). `--warm S` waits S seconds on the first page before measuring
(a fresh server trains the class model in the background for the first seconds).
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from playwright.sync_api import sync_playwright  # noqa: E402

from bench.classload.dom import quiet_js  # noqa: E402
from bench.classload.server import Server  # noqa: E402
from lib import ui  # noqa: E402
from tests.test_browser import CHROMIUM, CHROMIUM_FLAGS, new_tab, settle, streamlit_server  # noqa: E402


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_pid(port):
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if f"--server.port\0{port}" in open(f"/proc/{pid}/cmdline").read():
                return int(pid)
        except OSError:
            continue
    return None


DOM_QUIET_JS = quiet_js(300)  # the page unchanged for 0.3 s, and not running


def nudge(tab, control, kind, direction):
    """One change of one control; ms until the server's last message and the page's last change.
    Waits with `wait_for_timeout`, which keeps Playwright reading websocket events as they come
    (a slow page query in between would stamp them late), as ../shared/tools/walk-app does."""
    start = time.time()
    if kind == "slider":
        control.focus()
        before = control.input_value()
        control.press("ArrowRight" if direction > 0 else "ArrowLeft")
        if control.input_value() == before:  # at that end already: the other way
            start = time.time()
            control.press("ArrowLeft" if direction > 0 else "ArrowRight")
    elif kind == "number":
        control.focus()
        control.press("ArrowUp" if direction > 0 else "ArrowDown")
        control.press("Enter")
    else:
        control.click()
        tab.keyboard.press("ArrowDown" if direction > 0 else "ArrowUp")
        tab.keyboard.press("Enter")
    while time.time() - max(start, tab.frames_at[-1]) < 0.6:
        tab.wait_for_timeout(50)
    dom_from = time.time()
    dom = tab.evaluate(DOM_QUIET_JS)
    last = max(tab.frames_at[-1], start, dom_from + dom / 1000 if dom > 1 else 0)
    tab.wait_for_timeout(300)  # the app idle (DOM_QUIET_JS waited for it) and quiet: the next nudge
    return (last - start) * 1000


SELECTORS = {"slider": '[data-testid="stSlider"] input[type="range"]',
             "number": '[data-testid="stNumberInput"] input',
             "select": '[data-testid="stMain"] [data-testid="stSelectbox"] input'}


def measure(tab, pid, kind, count, repeat, fresh):
    """Nudge the first `count` controls of a kind `repeat` times each: (latencies, server CPU) in ms."""
    controls = tab.locator(SELECTORS[kind])
    times, cpu = [], []
    for i in range(min(count, controls.count())):
        for r in range(repeat):
            c0 = cpu_seconds(pid)
            times.append(nudge(tab, controls.nth(i), kind, 1 if fresh or r % 2 == 0 else -1))
            cpu.append((cpu_seconds(pid) - c0) * 1000)
    return times, cpu


def floor_nudges(browser, args):
    """The floor's slider, nudged repeat x controls times: {settings: (latencies, CPU)}."""
    floors = {}
    with tempfile.TemporaryDirectory() as bare:  # no .streamlit/ here: Streamlit's defaults
        shutil.copy(os.path.join(os.path.dirname(__file__), "floor_app.py"), bare)
        for name, script, app_dir in (("defaults", "floor_app.py", bare),
                                      ("repo settings", os.path.join("bench", "floor_app.py"), None)):
            with Server(script=script, **({"app_dir": app_dir} if app_dir else {})) as server:
                tab = new_tab(browser)
                tab.goto(server.base)
                tab.wait_for_selector(".js-plotly-plot", timeout=120000)
                tab.wait_for_timeout(2000)
                floors[name] = measure(tab, server.pid, "slider", 1, args.repeat * args.controls, args.fresh)
                tab.close()
            times, cpu = floors[name]
            print(f"{'floor (' + name + ')':26} slider  n={len(times):3}  median {statistics.median(times):6.0f} ms"
                  f"  worst {max(times):6.0f} ms  server cpu median {statistics.median(cpu):5.0f} ms")
    return floors


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", default="")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--lang", default="en")
    parser.add_argument("--controls", type=int, default=3, help="controls of each kind per page")
    parser.add_argument("--floor", action="store_true", help="the floor's slider first, and each page's ratio to it")
    parser.add_argument("--fresh", action="store_true", help="a new value every nudge (no going back and forth)")
    parser.add_argument("--warm", type=float, default=0, help="seconds on the first page before measuring")
    args = parser.parse_args()
    wanted = set(filter(None, args.pages.split(",")))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        floors = floor_nudges(browser, args) if args.floor else {}
        with streamlit_server() as base:
            pid = server_pid(base.rsplit(":", 1)[1])
            tab = new_tab(browser)
            started = time.time()
            tab.goto(f"{base}/?lang={args.lang}")
            settle(tab)
            print(f"first page drawn {time.time() - started:.1f} s after the server answered")
            tab.wait_for_timeout(args.warm * 1000)
            for info in ui.available_pages():
                if wanted and info.id not in wanted:
                    continue
                tab.goto(f"{base}/{info.url_path}?lang={args.lang}")
                settle(tab)
                for kind in SELECTORS:
                    times, cpu = measure(tab, pid, kind, args.controls, args.repeat, args.fresh)
                    if not times:
                        continue
                    line = (f"{info.id:26} {kind:7} n={len(times):3}  median {statistics.median(times):6.0f} ms"
                            f"  worst {max(times):6.0f} ms  server cpu median {statistics.median(cpu):5.0f} ms")
                    if kind == "slider":
                        for name, (f_times, f_cpu) in floors.items():
                            ratio = statistics.median(times) / statistics.median(f_times)
                            cpu_ratio = statistics.median(cpu) / max(statistics.median(f_cpu), 1)
                            line += f"  | / floor ({name}): {ratio:.2f}x, cpu {cpu_ratio:.2f}x"
                    print(line, flush=True)
            browser.close()


if __name__ == "__main__":
    main()
