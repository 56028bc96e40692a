"""bench/'s own measuring: the CPU of the server's descendants (the training workers), counted
over a load test even when a worker exits or starts in the middle (the report once said "workers:
-3.9 s" when one exited)."""
import os
import subprocess
import sys

from bench.classload import procmon

# A child that burns `cpu` seconds of its own CPU time, says so, and exits when its stdin closes.
BURN = ("import sys, time\n"
        "cpu = float(sys.argv[1])\n"
        "while time.process_time() < cpu: pass\n"
        "print('burnt', flush=True)\n"
        "sys.stdin.read()\n")
TICK_S = 0.02  # /proc counts CPU in ticks of 10 ms: a reading may be one or two behind


def burning(cpu):
    child = subprocess.Popen([sys.executable, "-c", BURN, str(cpu)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    assert child.stdout.readline() == "burnt\n"
    return child


def ended(child):
    child.stdin.close()
    child.wait(30)


def its_own(sample, *children):
    """The sample as if these children were the only ones: this test process has others when tests
    before it in the same worker left a training worker running (seen in a full run)."""
    cpu = {pid: c for pid, c in sample["kids_cpu_by_pid"].items() if pid in {child.pid for child in children}}
    return {**sample, "kids_cpu_by_pid": cpu, "kids_cpu": sum(cpu.values())}


def test_a_worker_that_exits_or_starts_meanwhile_counts_its_own_cpu_only():
    old = burning(0.3)  # a worker from before the students came, which exits during the run
    first = procmon.sample(os.getpid())
    assert first["kids_cpu_by_pid"][old.pid] >= 0.3 - TICK_S
    ended(old)
    new = burning(0.4)  # a worker that starts during the run and exits before its end
    between = [procmon.sample(os.getpid())]
    seen = between[0]["kids_cpu_by_pid"][new.pid]
    assert seen >= 0.4 - TICK_S
    ended(new)
    last = procmon.sample(os.getpid())
    assert old.pid not in last["kids_cpu_by_pid"] and new.pid not in last["kids_cpu_by_pid"]
    first, between, last = (its_own(s, old, new) for s in (first, *between, last))
    between = [between]
    assert last["kids_cpu"] - first["kids_cpu"] < 0  # the sums' difference: the exited worker's whole CPU taken off
    # the new worker's CPU as last seen, plus what the old one spent after the first sample (reading stdin: ~0)
    counted = procmon.descendants_cpu(first, between, last)
    assert seen <= counted <= seen + 0.1, (counted, seen)


def test_several_replicas_are_sampled_as_one_server_and_each_on_its_own():
    a, b = burning(0.2), burning(0.3)  # two "replicas" (each a tree of its own)
    try:
        both = procmon.sample((a.pid, b.pid))
        assert set(both["roots"]) == {a.pid, b.pid}
        assert both["roots"][a.pid]["cpu"] >= 0.2 - TICK_S and both["roots"][b.pid]["cpu"] >= 0.3 - TICK_S
        assert both["cpu"] == both["roots"][a.pid]["cpu"] + both["roots"][b.pid]["cpu"]
        assert both["rss"] == both["roots"][a.pid]["rss"] + both["roots"][b.pid]["rss"] > 0
    finally:
        ended(a)
        ended(b)


def test_each_simulated_student_keeps_its_own_cookies_as_a_browser_does():
    """What the server sets (behind nginx: the replica that has the session) goes with the
    student's later requests: an upload must reach the replica that has the session."""
    from bench.classload.protocol import Session

    student = Session("http://127.0.0.1:9")
    # several Set-Cookie headers, as websocket-client joins them
    student._keep_cookies(["classroom_replica=r2; Path=/; HttpOnly; SameSite=Lax; _streamlit_xsrf=2|ab|cd|1"])
    assert student.cookies == {"classroom_replica": "r2", "_streamlit_xsrf": "2|ab|cd|1"}
    assert student.cookie_header() == "classroom_replica=r2; _streamlit_xsrf=2|ab|cd|1"


def test_a_fragments_run_marked_early_because_a_timers_run_began_counts_as_answered():
    """Streamlit's queue marks a finished fragment run "early for rerun" when another fragment's run
    (the sidebar's 10 s timer) begins before its messages left the server, and keeps its elements:
    the browser draws them. The load test once counted each such nudge as lost (41 on /evaluate,
    whose image slider lives in a fragment, in a 15-minute class)."""
    import time

    import pytest

    from bench.classload.protocol import EARLY, FRAGMENT_SUCCESS, ActionError, Run, Session

    def answered(*runs):
        student = Session("http://127.0.0.1:9", timeout=0.3)
        student.runs = list(runs)
        return student._wait_run(0, "slider's", time.time()).id

    now = time.time()
    assert answered(Run("nudge", ("slider's",), now, status=EARLY), Run("timer", ("timer's",), now)) == "nudge"
    assert answered(Run("nudge", ("slider's",), now, status=EARLY),  # stopped to run it again: that run answers
                    Run("again", ("slider's",), now, status=FRAGMENT_SUCCESS)) == "again"
    with pytest.raises(ActionError, match="no finished run within 0 s"):  # stopped, and nothing began since
        answered(Run("nudge", ("slider's",), now, status=EARLY))


def test_a_whole_run_whose_end_streamlit_dropped_fails_at_once_and_says_why():
    """A timer's fragment run that begins after a whole run that never ended: Streamlit dropped
    that run's last events (a race in 1.67's AppSession). The action fails with the reason, not
    as a timeout."""
    import time

    import pytest

    from bench.classload.protocol import ActionError, Run, Session

    student = Session("http://127.0.0.1:9", timeout=0.3)  # (waiting for a run would end as a "timeout")
    now = time.time()
    student.runs = [Run("switch", (), now), Run("timer", ("timer's",), now + 1)]
    with pytest.raises(ActionError, match="a timer's fragment run began first") as lost:
        student._wait_run(0, "", now)
    assert lost.value.kind == "finish_lost" and student.finishes_lost == 1


def test_the_floor_ratios_are_given_in_all_and_per_page_against_each_floor():
    """class_load.py --floor runs the floor twice (Streamlit's defaults; the repo's settings) and
    gives the app's nudges as multiples of each: p50 and p95 in all and per page, and the server's
    CPU per nudge."""
    from bench.classload import report  # (not bench.class_load: it patches threads for gevent on import)

    def nudges(page, values):
        return [dict(kind="nudge:slider", page=page, ms=v, error=None) for v in values]

    app = dict(samples=nudges("/optimizers", [100, 200, 300]) + nudges("/pooling", [20, 40, 60])
               + [dict(kind="switch", page="/pooling", ms=900, error=None)],
               cpu=dict(server_s=0.6), nudges=6)
    floor = dict(samples=nudges("", [10, 20, 30]), cpu=dict(server_s=0.03), nudges=3)
    said = []
    everything = [s["ms"] for s in app["samples"] if s["kind"].startswith("nudge")]
    report.floor_ratios(app, floor, report.FLOORS["floor_same"], everything, said.append)
    assert said[0].startswith("  page / floor (this repo's settings): p50 ")
    assert [line.split()[0] for line in said[1:3]] == ["/optimizers", "/pooling"]
    assert "p50 10.0x" in said[1] and "p50  2.0x" in said[2]  # 200 / 20 and 40 / 20
    assert said[3].startswith("  server CPU per nudge, page / floor (this repo's settings): 100 / 10 ms = 10.0x")


def test_the_walkers_ratios_are_each_sliders_median_round_over_the_median_of_every_floor_nudge():
    from bench.walk_ratio import ratios

    floors = [{"pages": {"/": {"latency_ms": [ms], "server_cpu_ms": [40]}}} for ms in (80.0, 720.0, 100.0)]
    walks = [{"pages": {"/evaluate?lang=ko": {"latency_ms": [ms, 90.0], "server_cpu_ms": [cpu, 20]}}}
             for ms, cpu in ((300.0, 50), (None, 60), (180.0, 70))]  # None: the walker saw no answer
    summary = ratios(floors, walks)
    assert summary["floor_median_ms"] == 100.0  # the floor's own 720 ms outlier does not move it
    first, second = summary["pages"]["/evaluate"][0], summary["pages"]["/evaluate"][1]
    assert first["ratio"] == 2.4 and first["worst_ratio"] == 3.0 and first["cpu_ratio"] == 1.5
    assert first["latency_ms"] == [300.0, None, 180.0]
    assert second["ratio"] == 0.9 and second["cpu_ratio"] == 0.5


def test_a_process_runs_until_it_has_ended_even_before_it_is_reaped():
    """bench/warm_start.py waits for a stopped server's worker this way before the next server."""
    import time

    child = burning(0.0)
    assert procmon.running(child.pid)
    child.stdin.close()
    deadline = time.time() + 30
    while time.time() < deadline and procmon.running(child.pid):  # ended, not yet waited for: a zombie
        time.sleep(0.05)
    assert not procmon.running(child.pid) and os.path.exists(f"/proc/{child.pid}")
    child.wait(30)
    assert not procmon.running(child.pid) and not procmon.running(10 ** 9)


def test_the_walkers_count_adds_server_ready_and_the_start_page_to_the_pages_seconds():
    """bench/warm_start.py --after-start-page sums as the one-tab walker does, to the first chart
    and to settled; a page that drew no chart has no first-chart count."""
    from bench.warm_start import walker_count

    count = walker_count(0.5, 2.9, 1.2, 4.4)
    assert count["chart"] == 0.5 + 2.9 + 1.2 and count["settled"] == 0.5 + 2.9 + 4.4
    assert count["line"] == "ready 0.5 + start page 2.9 + first chart 1.2 s = 4.6 s; settled 4.4 → 7.8 s"
    assert walker_count(0.5, 2.9, None, 9.0)["chart"] is None
