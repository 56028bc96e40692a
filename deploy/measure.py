"""How much memory one replica takes in a class: the figure the Kubernetes requests and limits
(deploy/k8s/deployment.yaml) and the Community Cloud advice (deploy/README.md) are sized from.

    python deploy/measure.py            # needs Debian's chromium and the playwright package

Starts one `streamlit run streamlit_app.py` (KERAS_CLASSROOM_TRAINERS=1 unless set), opens every
page in headless Chromium as a student would, presses Train once on /training and waits for the
run to end, then reads from /proc the memory of the Streamlit process and of each of its child
processes (the training workers, and the process that loads uploaded models for the Save & load
page): resident now (VmRSS), at its peak (VmHWM), and proportional (PSS: shared pages divided).
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from deploy.launch import ROOT, free_ports, healthy  # noqa: E402
from lib import ui  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def memory_mb(pid):
    """{"rss": MB now, "peak": MB at most so far, "pss": MB now with shared pages divided among the
    processes that share them} of one process, from /proc. RSS counts TensorFlow's libraries in
    every process that maps them; PSS counts them once over all, so PSS adds up to what the
    machine actually holds."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0]) / 1024
    with open(f"/proc/{pid}/smaps_rollup") as f:
        fields["Pss"] = next(int(line.split()[1]) / 1024 for line in f if line.startswith("Pss:"))
    return {"rss": round(fields["VmRSS"]), "peak": round(fields["VmHWM"]), "pss": round(fields["Pss"])}


def role(pid):
    """What a child process of the replica is, from its command line."""
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        command = f.read().decode(errors="replace")
    return next((name for marker, name in (("lib.training.worker", "trainer"), ("lib.saving.loader", "model loader"))
                 if marker in command), "other")


def descendants(pid):
    children = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            children += [int(c) for c in f.read().split()]
    return [d for c in children for d in (c, *descendants(c))]


def settle(tab, quiet=1.0, limit=120):
    """Until the app has stopped running and the page has stopped changing for `quiet` seconds."""
    deadline, last, since = time.time() + limit, None, time.time()
    while time.time() < deadline:
        state = tab.get_attribute('[data-testid="stApp"]', "data-test-script-state")
        text = tab.inner_text('[data-testid="stApp"]')
        if state != "notRunning" or text != last:
            last, since = text, time.time()
        elif time.time() - since > quiet:
            return
        time.sleep(0.1)


def main():
    from playwright.sync_api import sync_playwright

    port = free_ports(1)[0]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.setdefault("KERAS_CLASSROOM_TRAINERS", "1")
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        while not healthy(base):
            time.sleep(0.2)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            tab = browser.new_page(viewport={"width": 1400, "height": 1000})
            for info in ui.available_pages():
                tab.goto(f"{base}/{info.url_path}?lang=en")
                tab.wait_for_selector('[data-testid="stMain"] h1', timeout=120_000)
                settle(tab)
                print(f"opened /{info.url_path}: streamlit {memory_mb(server.pid)['rss']} MB", flush=True)
            tab.goto(f"{base}/training?lang=en")
            tab.wait_for_selector('[data-testid="stMain"] h1', timeout=120_000)
            settle(tab)
            tab.locator('[data-testid="stMain"] button', has_text="Train").first.click()
            time.sleep(2)
            settle(tab, quiet=3)
            browser.close()
        rows = [("streamlit", server.pid, memory_mb(server.pid))]
        rows += [(role(pid), pid, memory_mb(pid)) for pid in descendants(server.pid)]
        for name, pid, mb in rows:
            print(f"{name:12} pid {pid:7}  rss {mb['rss']:5} MB  peak {mb['peak']:5} MB  pss {mb['pss']:5} MB")
        print(f"{'total':12} {'':11}  rss {sum(r[2]['rss'] for r in rows):5} MB  "
              f"peak {sum(r[2]['peak'] for r in rows):5} MB  pss {sum(r[2]['pss'] for r in rows):5} MB  "
              f"(KERAS_CLASSROOM_TRAINERS={env['KERAS_CLASSROOM_TRAINERS']})")
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
