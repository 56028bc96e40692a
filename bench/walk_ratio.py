"""Every page's slider latency as a multiple of the floor's, by the one-tab walker itself, in rounds.

    python bench/walk_ratio.py [--rounds 3] [--floors 3] [--only /evaluate] [--lang ko] [--warm 30] [--out F.json]

The walker (../shared/tools/browse.py, what `../shared/tools/walk-app` runs) nudges each page's
first two sliders once each on a fresh server: a single nudge moves by up to 8x between runs on
this 2-core machine (the floor's own first nudge: 68-720 ms). So each round walks the floor
(bench/floor_app.py as a one-page app, Streamlit's defaults, `--floors` times: one nudge each) and
then every page, the rounds one after the other; each slider's verdict is the median of its
rounds over the median of every floor nudge of the run, beside its worst round. Server CPU the same
way (the walker reads it from /proc, in steps of 10 ms).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WALKER = os.path.join(ROOT, "..", "shared", "tools", "browse.py")


def walk(app_dir, *options, timeout=900):
    """One walk by the walker: its JSON report ({"pages": {address: report}, ...}), or None."""
    done = subprocess.run([sys.executable, WALKER, ".", sys.executable, "--json", *options], cwd=app_dir,
                          capture_output=True, text=True, timeout=timeout)
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        print(f"the walker said nothing usable:\n{done.stderr[-2000:]}", file=sys.stderr)
        return None


def ratios(floors, walks):
    """{page: {slider index: summary}} from the floor's walks and the app's walks (one per round)."""
    floor_ms = [ms for report in floors for page in report["pages"].values() for ms in page["latency_ms"] if ms]
    floor_cpu = [ms for report in floors for page in report["pages"].values() for ms in page["server_cpu_ms"]]
    floor, cpu_floor = statistics.median(floor_ms), max(statistics.median(floor_cpu), 1)
    pages = {}
    for report in walks:
        for address, page in report["pages"].items():
            for k, (ms, cpu) in enumerate(zip(page["latency_ms"], page["server_cpu_ms"])):
                pages.setdefault(address.split("?")[0], {}).setdefault(k, []).append((ms, cpu))
    summary = {}
    for address, sliders in pages.items():
        summary[address] = {}
        for k, rounds in sliders.items():
            latencies = [ms for ms, _ in rounds if ms]  # None or -1: the walker saw no answer
            cpus = [cpu for _, cpu in rounds]
            summary[address][k] = dict(
                latency_ms=[ms for ms, _ in rounds], server_cpu_ms=cpus,
                ratio=round(statistics.median(latencies) / floor, 2) if latencies else None,
                worst_ratio=round(max(latencies) / floor, 2) if latencies else None,
                cpu_ratio=round(statistics.median(cpus) / cpu_floor, 2))
    return dict(floor_ms=floor_ms, floor_median_ms=floor, floor_cpu_ms=floor_cpu, pages=summary)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--floors", type=int, default=3, help="walks of the floor a round")
    parser.add_argument("--only", default=None, help="part of a page's address, as the walker takes it")
    parser.add_argument("--lang", default=None)
    parser.add_argument("--warm", type=float, default=30, help="seconds on the first page before the walk")
    parser.add_argument("--out", default=None, help="write every walk and the summary here (JSON)")
    args = parser.parse_args()
    if not os.path.exists(WALKER):
        sys.exit(f"no walker at {WALKER}")
    options = ["--interact", "2", "--warm", str(args.warm)]
    options += ["--only", args.only] if args.only else []
    options += ["--lang", args.lang] if args.lang else []
    floors, walks = [], []
    with tempfile.TemporaryDirectory() as bare:  # no .streamlit/ here: Streamlit's defaults, the walker's yardstick
        shutil.copy(os.path.join(ROOT, "bench", "floor_app.py"), os.path.join(bare, "streamlit_app.py"))
        for n in range(args.rounds):
            floors += filter(None, (walk(bare, "--interact", "2") for _ in range(args.floors)))
            walks += filter(None, [walk(ROOT, *options)])
            floor_now = [p["latency_ms"] for f in floors[-args.floors:] for p in f["pages"].values()]
            print(f"round {n + 1}: floor {floor_now}", flush=True)
    if not floors or not walks:
        sys.exit("no walk finished")
    result = ratios(floors, walks)
    print(f"floor: median {result['floor_median_ms']:.0f} ms of {len(result['floor_ms'])} nudges "
          f"{result['floor_ms']}, server cpu {result['floor_cpu_ms']} ms")
    for address, sliders in result["pages"].items():
        for k, s in sliders.items():
            print(f"{address:22} slider {k}: {s['latency_ms']} ms -> median {s['ratio']}x (worst {s['worst_ratio']}x);"
                  f" server cpu {s['server_cpu_ms']} ms -> {s['cpu_ratio']}x")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(dict(floors=floors, walks=walks, summary=result), f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
