"""How fast does the picture follow a control? Real server, real Chromium, many nudges per page.

    python bench/nudge.py [--pages model,filters] [--repeat 5] [--lang en]

Starts `streamlit run` on a free port, opens each page, and nudges its sliders (arrow key),
number inputs (step up) and select boxes (next option) `--repeat` times each, timing keypress
-> server done -> page settled, as ../shared/tools/walk-app does for sliders. Prints the median
and the worst per page and control kind, and the server's CPU time per nudge.
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from playwright.sync_api import sync_playwright  # noqa: E402

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


DOM_QUIET_JS = """() => new Promise(done => {
  const start = performance.now(); let last = start;
  const watch = new MutationObserver(() => { last = performance.now(); });
  watch.observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
  const busy = () => !!document.querySelector('[data-testid="stStatusWidget"]');
  const tick = () => {
    if (!busy() && performance.now() - last > 300) { watch.disconnect(); done(last - start); }
    else setTimeout(tick, 20);
  };
  setTimeout(tick, 20);
})"""


def nudge(tab, control, kind, direction):
    """One change of one control; ms until the server's last message and the page's last change.
    Waits with `wait_for_timeout`, which keeps Playwright reading websocket events as they come
    (a slow page query in between would stamp them late), as ../shared/tools/walk-app does."""
    start = time.time()
    if kind == "slider":
        control.focus()
        control.press("ArrowRight" if direction > 0 else "ArrowLeft")
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
    settle(tab, quiet=0.3)
    return (last - start) * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", default="")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--lang", default="en")
    parser.add_argument("--controls", type=int, default=3, help="controls of each kind per page")
    args = parser.parse_args()
    wanted = set(filter(None, args.pages.split(",")))
    with sync_playwright() as p, streamlit_server() as base:
        pid = server_pid(base.rsplit(":", 1)[1])
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        tab = new_tab(browser)
        started = time.time()
        tab.goto(f"{base}/?lang={args.lang}")
        settle(tab)
        print(f"first page drawn {time.time() - started:.1f} s after the server answered")
        for info in ui.available_pages():
            if wanted and info.id not in wanted:
                continue
            tab.goto(f"{base}/{info.url_path}?lang={args.lang}")
            settle(tab)
            kinds = {"slider": '[data-testid="stSlider"] input[type="range"]',
                     "number": '[data-testid="stNumberInput"] input',
                     "select": '[data-testid="stMain"] [data-testid="stSelectbox"] input'}
            for kind, selector in kinds.items():
                controls = tab.locator(selector)
                times, cpu = [], []
                for i in range(min(args.controls, controls.count())):
                    for r in range(args.repeat):
                        c0 = cpu_seconds(pid)
                        times.append(nudge(tab, controls.nth(i), kind, 1 if r % 2 == 0 else -1))
                        cpu.append((cpu_seconds(pid) - c0) * 1000)
                if times:
                    print(f"{info.id:12} {kind:7} n={len(times):3}  median {statistics.median(times):6.0f} ms"
                          f"  worst {max(times):6.0f} ms  server cpu median {statistics.median(cpu):5.0f} ms")
        browser.close()


if __name__ == "__main__":
    main()
