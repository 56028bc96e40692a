"""A whole class on one server: simulated students speaking Streamlit's websocket protocol.

    python bench/class_load.py sliders --users 30 [--duration 180] [--floor]
    python bench/class_load.py train-same --users 30
    python bench/class_load.py train-different --users 30

Starts `streamlit run streamlit_app.py` on a free port (or uses --url, on this machine only),
opens every page once and waits until the server is quiet (TensorFlow imported, trainers up),
notes its idle memory, then lets Locust run N students (bench/classload/students.py), each a
websocket session that opens pages, moves controls or presses Train as a browser would
(bench/classload/protocol.py). Afterwards it keeps sampling memory for --cooldown seconds and
prints latency per page and action, errors, training waits, memory and CPU, and the goals.
See bench/README.md.
"""
from gevent import monkey

monkey.patch_all()  # Locust's engine is gevent: patch before anything opens a socket or a thread

import argparse  # noqa: E402
import collections  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import pathlib  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from locust.env import Environment  # noqa: E402
from locust.stats import StatsCSVFileWriter, print_percentile_stats, print_stats  # noqa: E402

from bench.classload import procmon, report  # noqa: E402
from bench.classload.protocol import ActionError, Session  # noqa: E402
from bench.classload.server import ROOT, Lecture, Server, check_loopback, pid_listening_on, tracebacks  # noqa: E402
from bench.classload.students import Plan, SliderStudent, Teacher, TrainStudent  # noqa: E402
from deploy.launch import COOKIE as LECTURE_COOKIE  # noqa: E402

SCENARIOS = ("sliders", "train-same", "train-different")
DEFAULT_VARY = ("lr=0.001,0.003,0.01,0.03,0.1", "epochs=5,10,15,20", "batch=16,32,64,128,256")
FLOOR_APP = os.path.join(ROOT, "bench", "floor_app.py")


def pair(text, cast=float):
    a, _, b = text.partition("-")
    return cast(a), cast(b or a)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", choices=SCENARIOS)
    p.add_argument("--users", type=int, default=5, help="simulated students (default 5)")
    p.add_argument("--spawn-rate", type=float, default=None,
                   help="students arriving per second (default: 2/s for sliders, all at once for training)")
    p.add_argument("--duration", type=float, default=180, help="sliders: seconds of nudging (default 180)")
    p.add_argument("--think", default="2-5", help="sliders: seconds between a student's nudges, A-B (default 2-5)")
    p.add_argument("--pages", default="", help="sliders: comma-separated URL paths (default: every page in the "
                                               "navigation but the start page)")
    p.add_argument("--controls", default="slider,select_slider",
                   help="sliders: widget kinds to move (slider, select_slider, selectbox, radio, segmented, number, "
                        "checkbox); a page with none of them gets its other controls moved")
    p.add_argument("--nudges-per-page", default="4-10", help="sliders: nudges before moving to the next page, A-B")
    p.add_argument("--page", default="training", help="training: the page that trains (default training)")
    p.add_argument("--train-button", default="", help="training: the button's key, label or URL name "
                                                      "(default: the page's first primary button)")
    p.add_argument("--vary", action="append", default=None, metavar="NAME=V1,V2,...",
                   help="train-different: a control (key, key's last part, URL name or label) and its values; "
                        "students get distinct combinations (default: " + " ".join(DEFAULT_VARY) + ")")
    p.add_argument("--spread", type=float, default=1.0, help="training: clicks fall within this many seconds")
    p.add_argument("--train-timeout", type=float, default=240, help="training: give up on a run after this")
    p.add_argument("--query", default="lang=en", help="the URL's query string, the class link's settings")
    p.add_argument("--cooldown", type=float, default=180, help="seconds of memory sampling after the students "
                                                               "leave (default 180)")
    p.add_argument("--floor", action="store_true", help="sliders: first run the same students against "
                                                        "bench/floor_app.py (one slider, one chart) for the ratio")
    p.add_argument("--floor-duration", type=float, default=None, help="seconds for the floor run "
                                                                      "(default: --duration, at most 60)")
    p.add_argument("--url", default="", help="use this running server (this machine only) instead of starting one")
    p.add_argument("--server-pid", type=int, default=0, help="with --url: the server's pid (default: whoever "
                                                             "listens on the port)")
    p.add_argument("--app-dir", default=ROOT, help="directory to run `streamlit run` in (default: this repo; "
                                                   "e.g. a `git archive` of another commit)")
    p.add_argument("--script", default="streamlit_app.py", help="the app's entry point, relative to --app-dir")
    p.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE", help="environment for the server")
    p.add_argument("--replicas", default="",
                   help="N or auto: the app as a lecture hall (deploy/launch.py: N replicas behind nginx, the "
                        "class's store in Redis), driven through nginx; each student keeps nginx's sticky cookie "
                        "as a browser does, and each replica is reported (the floor stays one bare server)")
    p.add_argument("--server-arg", action="append", default=[], metavar="ARG", help="extra `streamlit run` argument")
    p.add_argument("--teacher", default="", metavar="KEY", help="sliders: the teacher's class view open beside the "
                   "students (one more user; the app's server gets this key and a class store of its own)")
    p.add_argument("--timeout", type=float, default=120, help="seconds before one action counts as timed out")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="", help="write every sample, memory series and result to this JSON file")
    p.add_argument("--csv", default="", help="also write Locust's CSV statistics with this prefix")
    p.add_argument("--locust-stats", action="store_true", help="also print Locust's own tables")
    p.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    args = p.parse_args(argv)
    args.think, args.nudges_per_page = pair(args.think), pair(args.nudges_per_page, int)
    if args.spawn_rate is None:
        args.spawn_rate = 2.0 if args.scenario == "sliders" else float(max(args.users, 1))
    if args.url:
        check_loopback(args.url)
    if args.replicas and (args.url or args.server_arg):
        p.error("--replicas starts its own replicas (deploy/launch.py): not with --url or --server-arg "
                "(give Streamlit's options as STREAMLIT_* environment with --server-env)")
    return args


def student_settings(vary, n):
    """n distinct combinations (as far as there are) of the --vary values, one per student."""
    axes = []
    for spec in vary:
        name, _, values = spec.partition("=")
        axes.append((name.strip(), [v.strip() for v in values.split(",") if v.strip()]))
    out = []
    for k in range(n):
        combo, rest = {}, k
        for name, values in axes:
            combo[name] = values[rest % len(values)]
            rest //= len(values)
        out.append(combo)
    return out


class Phase:
    """One load run against one server: warm-up, idle baseline, students, cooldown."""

    def __init__(self, args, base, pid, server=None, label="app"):
        self.args, self.base, self.pid, self.server, self.label = args, base, pid, server, label
        self.sampler = procmon.Sampler(pid).start()
        self.lines = []

    def out(self, line=""):
        print(line, flush=True)
        self.lines.append(line)

    def warm_up(self, pages):
        """Open each page once (imports, caches, trainers) on each replica (by its own address: a
        lecture hall's nginx would send every new browser to the least busy one), then wait for a
        quiet server."""
        replicas = getattr(self.server, "replica_urls", None) or {"": self.base}
        t0 = time.time()
        for base in replicas.values():
            session = Session(base, query=self.args.query, timeout=self.args.timeout)
            try:
                session.open(pages[0])
                for page in pages[1:]:
                    session.goto(page)
            except ActionError as e:
                self.out(f"  warm-up: {e}")
            all_pages = sorted(session.pages)
            session.close()
        waited = procmon.wait_quiet(self.pid) if self.pid else 0.0
        each = f" on each of {len(replicas)} replicas" if len(replicas) > 1 else ""
        self.out(f"  warm-up: {len(pages)} page(s) opened{each} in {time.time() - t0 - waited:.1f} s, "
                 f"server quiet after {waited:.1f} s more")
        self.sampler.mark("idle")
        time.sleep(3)
        self.sampler.mark("idle_end")
        return all_pages

    def discover_pages(self):
        session = Session(self.base, query=self.args.query, timeout=self.args.timeout)
        try:
            session.open("")
        finally:
            session.close()
        # the pages a student finds in the menu (not the teacher's, which is in none); a one-page app: its only page
        return [p for p in session.pages if p and p not in session.hidden_pages] or [""]

    def run(self, plan, user_class, duration=None):
        args = self.args
        user_classes = [user_class] + ([Teacher] if plan.teacher_key else [])
        env = Environment(user_classes=user_classes, events=None)
        env.events.request.add_listener(plan.on_request)
        for each in user_classes:
            each.plan = plan
        runner = env.create_local_runner()
        csv_writer = None
        if args.csv:
            csv_writer = StatsCSVFileWriter(env, [0.5, 0.95, 0.99, 1.0], f"{args.csv}-{self.label}-{plan.scenario}")
            gevent.spawn(csv_writer)
        cpu0, server0, machine0 = procmon.self_cpu(), procmon.sample(self.pid) if self.pid else None, \
            procmon.machine_cpu()
        self.sampler.mark("students")
        started = time.time()
        runner.start(plan.users + (1 if plan.teacher_key else 0), spawn_rate=args.spawn_rate)
        if duration is not None:
            gevent.sleep(duration)
        else:
            self._train(plan, started)
        runner.quit()
        for session in plan.sessions:
            session.close()
        self.sampler.mark("left")
        left = time.time()
        cpu1, server1, machine1 = procmon.self_cpu(), procmon.sample(self.pid) if self.pid else None, \
            procmon.machine_cpu()
        self.cpu = {"generator_s": cpu1 - cpu0, "wall_s": left - started, "machine_s": machine1 - machine0,
                    "server_s": server1["cpu"] - server0["cpu"] if server0 else None,
                    "workers_s": procmon.descendants_cpu(server0, self.sampler.between(started, left), server1)
                    if server0 else None}
        self.env, self.started, self.left = env, started, left

    def _train(self, plan, started):
        """Wait for every student to have the page open, say go, and wait for every run to end."""
        ready_by = started + max(60.0, 3.0 * plan.users)
        while plan.ready < plan.users and time.time() < ready_by:
            gevent.sleep(0.1)
        if plan.ready < plan.users:
            self.out(f"  only {plan.ready} of {plan.users} students had the page open after "
                     f"{time.time() - started:.0f} s; the rest press Train when they get there")
        plan.go_at = time.time()
        self.out(f"  {plan.ready} students opened /{plan.page} in {plan.go_at - started:.1f} s; "
                 f"they press Train within {plan.spread:.1f} s")
        plan.go.set()
        deadline = plan.go_at + plan.spread + plan.train_timeout + 5
        while plan.done < plan.users and time.time() < deadline:
            gevent.sleep(0.2)

    def cooldown(self, seconds):
        if seconds > 0:
            self.out(f"  the students left; sampling memory for {seconds:.0f} s")
            time.sleep(seconds)
        self.sampler.mark("end")
        self.sampler.stop()


def describe_machine(args, base, started_here):
    load = os.getloadavg()
    where = f"started here from {args.app_dir}" if started_here else "given with --url"
    return (f"server {base} ({where}); {os.cpu_count()} cores, load average before "
            f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


def run_phase(args, plan_kwargs, label, script, duration=None, cooldown=None, own_server=False, server_args=()):
    """Start (or attach to) a server, run one scenario on it, report. Returns the result dict."""
    env = dict(kv.split("=", 1) for kv in args.server_env)
    server = None
    if args.url and not own_server:
        base = args.url.rstrip("/")
        pid = args.server_pid or pid_listening_on(int(base.rsplit(":", 1)[1])) or 0
        context = None
    else:
        if args.replicas and not own_server:
            context = Lecture(args.replicas, app_dir=args.app_dir, env=env)
        else:
            context = Server(script=script, app_dir=args.app_dir, env=env, args=[*args.server_arg, *server_args])
        server = context.__enter__()
        base, pid = server.base, server.pid
    try:
        return _phase(args, plan_kwargs, label, base, pid, server, duration, cooldown)
    finally:
        if context is not None:
            context.__exit__(None, None, None)


def _phase(args, plan_kwargs, label, base, pid, server, duration, cooldown):
    phase = Phase(args, base, pid, server, label)
    out = phase.out
    scenario = plan_kwargs["scenario"]
    out(f"== {scenario} against the {label}: {args.users} students; {describe_machine(args, base, server)}")
    if server:
        out(f"  server log: {server.log_path}")
    if not pid:
        out("  (no server pid: memory and server CPU are not measured)")
    if scenario == "sliders":
        pages = plan_kwargs.get("pages") or phase.discover_pages()
        plan_kwargs["pages"] = pages
        phase.warm_up(pages)
        out(f"  pages: {', '.join('/' + p for p in pages)}; think {args.think[0]:g}-{args.think[1]:g} s; "
            f"{args.nudges_per_page[0]}-{args.nudges_per_page[1]} nudges a page; {duration:.0f} s")
        plan = Plan(base=base, users=args.users, **plan_kwargs)
        phase.run(plan, SliderStudent, duration=duration)
    else:
        phase.warm_up([plan_kwargs["page"]])
        plan = Plan(base=base, users=args.users, **plan_kwargs)
        phase.run(plan, TrainStudent)
    phase.cooldown(args.cooldown if cooldown is None else cooldown)
    return summarize(phase, plan, cooldown=args.cooldown if cooldown is None else cooldown)


def summarize(phase, plan, cooldown):
    out, args, cpu = phase.out, phase.args, phase.cpu
    samples = plan.samples
    out(f"-- latency ({len(samples)} actions in {cpu['wall_s']:.0f} s; ms from the message sent to the end of the "
        f"script run it caused)")
    by_kind = report.print_latency(samples, out)
    out("-- errors")
    logs = tracebacks(phase.server.log_text()) if phase.server else None
    if phase.server and phase.server.process.poll() is not None:
        out(f"  !! the server exited during the run (return code {phase.server.process.returncode}; a negative "
            f"code is the signal that ended it): the numbers after that are not the app's")
    errors = report.error_examples(samples, plan.sessions, logs, out)
    for warning in sorted(plan.warnings):
        out(f"  note: {warning}")
    training = {}
    if plan.scenario != "sliders":
        out("-- training waits (seconds from each click)")
        training = report.print_training(plan.training, out)
    nudges = sum(1 for s in samples if s["kind"].startswith("nudge") and not s["error"])
    actions = len(samples)
    out("-- CPU")
    if cpu["server_s"] is not None:
        share = cpu["server_s"] / cpu["wall_s"]
        out(f"  server: {cpu['server_s']:.1f} s CPU in {cpu['wall_s']:.0f} s ({share:.2f} cores); workers: "
            f"{cpu['workers_s']:.1f} s")
        if nudges:
            out(f"  server CPU per nudge: {cpu['server_s'] / nudges * 1000:.0f} ms (all server CPU / {nudges} nudges; "
                f"{cpu['server_s'] / max(actions, 1) * 1000:.0f} ms per action of any kind)")
    gen_share = cpu["generator_s"] / cpu["wall_s"]
    out(f"  load generator (this process): {cpu['generator_s']:.1f} s CPU ({gen_share:.0%} of one core), "
        f"{cpu['generator_s'] / max(actions, 1) * 1000:.1f} ms per action, "
        f"{sum(s.messages_received for s in plan.sessions)} messages / "
        f"{sum(s.bytes_received for s in plan.sessions) / report.MB:.0f} MB received")
    others = cpu["machine_s"] - cpu["generator_s"] - (cpu["server_s"] or 0) - (cpu["workers_s"] or 0)
    out(f"  the whole machine: {cpu['machine_s'] / cpu['wall_s']:.2f} of {os.cpu_count()} cores busy on average; "
        f"other processes (not the server, its workers or this generator): {max(others, 0) / cpu['wall_s']:.2f} cores")
    if gen_share > 0.7:
        out("  note: the generator kept most of a core busy: its own delays are in the latencies")
    memory = {}
    if phase.pid:
        out("-- memory")
        marks = phase.sampler.marks
        memory = report.memory_summary(phase.sampler, (marks["idle"], marks["idle_end"]), marks["students"],
                                       marks["left"], marks["end"])
        report.print_memory(memory, cooldown, out, start=marks["students"])
        report.print_timeline(phase.sampler, marks["students"], marks["end"], out)
    replicas = {}
    if getattr(phase.server, "replicas", None):
        out(f"-- replicas (each student stays on the one nginx's cookie names: {LECTURE_COOKIE})")
        on = collections.Counter(session.cookies.get(LECTURE_COOKIE, "?") for session in plan.sessions)
        marks = phase.sampler.marks
        replicas = report.replica_summary(phase.sampler, phase.server.replicas, marks["students"], marks["left"],
                                          marks["end"], on)
        report.print_replicas(replicas, out)
        if on.get("?"):
            out(f"  !! {on['?']} students got no replica cookie from nginx")
    if args.locust_stats:
        print_stats(phase.env.stats, current=False)
        print_percentile_stats(phase.env.stats)
    return {"label": phase.label, "scenario": plan.scenario, "users": plan.users, "base": phase.base,
            "samples": samples, "by_kind": by_kind, "errors": errors, "training": training,
            "training_records": plan.training, "cpu": cpu, "nudges": nudges, "memory": memory,
            "memory_samples": phase.sampler.samples, "marks": phase.sampler.marks, "replicas": replicas,
            "problems": [e for s in plan.sessions for e in s.errors][:200], "lines": phase.lines,
            "warnings": sorted(plan.warnings)}


def goals(args, results, out=print):
    """The issue's goals for this scenario; True when all are met."""
    app = results["app"]
    ok = True
    out("-- goals")
    if args.scenario == "sliders":
        nudge = [s["ms"] for s in app["samples"] if s["kind"].startswith("nudge") and not s["error"]]
        p95 = report.percentile(nudge, 95)
        failed, problems = app["errors"]
        ok &= report.goal_line("no errors", failed == 0 and problems == 0,
                               f"{failed} failed action(s); {problems} exception element(s) or disconnection(s) "
                               f"in the stream", out)
        ok &= report.goal_line("nudge p95 <= 1.5 s", p95 <= 1500, f"p95 {p95:.0f} ms over {len(nudge)} nudges", out)
        for name in ("floor", "floor_same"):  # Streamlit's defaults, then the repo's settings
            if name in results:
                report.floor_ratios(app, results[name], report.FLOORS[name], nudge, out)
    elif args.scenario == "train-same":
        t = app["training"]
        worst = t.get("epoch1", {}).get("max", float("nan")) if t else float("nan")
        every = bool(t) and t["epoch1"]["n"] == t["students"]
        ok &= report.goal_line("every student sees epoch 1 within 5 s", every and worst <= 5.0,
                               f"{t['epoch1']['n'] if t else 0} of {t['students'] if t else 0} saw it; "
                               f"the slowest after {worst:.1f} s", out)
    else:
        t = app["training"]
        last = t.get("last_done_after_first_click") if t else None
        finished = bool(t) and t["done"]["n"] == t["students"]
        ok &= report.goal_line("the last run finishes within 90 s", finished and last is not None and last <= 90,
                               f"{t['done']['n'] if t else 0} of {t['students'] if t else 0} finished; last after "
                               f"{last if last is not None else float('nan'):.1f} s", out)
    memory = app.get("memory") or {}
    if memory.get("total_pss_peak") is not None:
        peak = memory["total_pss_peak"] / report.MB
        ok &= report.goal_line("server + workers <= 1.5 GB", peak <= 1536, f"peak {peak:.0f} MB (PSS)", out)
        # Judged on the sum: PSS moves between processes when one exits (the server's share of
        # TensorFlow's pages grows when a worker or the model loader stops), the sum does not.
        total = memory["total_pss"]
        ok &= report.goal_line("back near idle after the students leave", bool(total["near_idle"]),
                               f"after the cooldown: server + workers {total['after'] / report.MB:.0f} MB (PSS; idle "
                               f"{total['idle'] / report.MB:.0f}, limit {total['limit'] / report.MB:.0f}): server "
                               f"{memory['server_pss']['after'] / report.MB:.0f} MB, workers "
                               f"{memory['workers_pss']['after'] / report.MB:.0f} MB", out)
    return ok


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    tables = logging.getLogger("locust.stats_logger")  # where Locust prints its tables
    tables.setLevel(logging.INFO)
    tables.propagate = False
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    tables.addHandler(handler)
    kwargs = dict(scenario=args.scenario, query=args.query, timeout=args.timeout, seed=args.seed)
    if args.scenario == "sliders":
        kwargs.update(pages=[p.strip().strip("/") for p in args.pages.split(",") if p.strip()],
                      controls=tuple(c.strip() for c in args.controls.split(",") if c.strip()),
                      think=args.think, nudges_per_page=args.nudges_per_page)
    else:
        kwargs.update(page=args.page.strip("/"), spread=args.spread, train_timeout=args.train_timeout,
                      train_button=args.train_button)
        if args.scenario == "train-different":
            kwargs["settings"] = student_settings(args.vary or DEFAULT_VARY, args.users)
    results = {}
    if args.floor and args.scenario == "sliders":
        floor_duration = args.floor_duration or min(args.duration, 60.0)
        floor_kwargs = dict(kwargs, pages=[""])
        # A bare page runs with Streamlit's defaults: this repo's .streamlit/config.toml turns off the
        # full garbage collection after every run (runner.postScriptGC), which cut the floor itself
        # from ~40 to ~4 ms per nudge; the floor keeps it, as any Streamlit app has it.
        results["floor"] = run_phase(args, floor_kwargs, "floor (bench/floor_app.py, Streamlit's defaults)", FLOOR_APP,
                                     duration=floor_duration, cooldown=0, own_server=True,
                                     server_args=("--runner.postScriptGC", "true"))
        # ... and with the app's own settings (no collection after every run: the floor page then
        # costs a few ms), so a ratio to it is what the pages themselves add.
        results["floor_same"] = run_phase(args, floor_kwargs, "floor (bench/floor_app.py, this repo's settings)",
                                          FLOOR_APP, duration=floor_duration, cooldown=0, own_server=True)
    if args.teacher:  # the app only (the floor has no teacher's page), with a class store of its own
        kwargs["teacher_key"] = args.teacher
        store = tempfile.mkdtemp(prefix="classload-store-")
        args.server_env = [*args.server_env, f"KERAS_CLASSROOM_TEACHER_KEY={args.teacher}",
                           f"KERAS_CLASSROOM_DATA={store}"]
    results["app"] = run_phase(args, kwargs, "app", args.script, duration=args.duration)
    if args.teacher:
        kept = {path.name: path.stat().st_size for path in pathlib.Path(store).glob("class.db*")}
        results["app"]["store_bytes"] = kept
        sizes = ", ".join(f"{name} {size / 1024:.0f} kB" for name, size in kept.items())
        print(f"-- the class's store (SQLite, {store}): {sizes}")
    ok = goals(args, results)
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"args": {k: v for k, v in vars(args).items()}, "results": results}, f, default=str)
        print(f"wrote {args.out}")
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
