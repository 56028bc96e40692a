"""The process pool every page that trains shares, and the line in front of it.

`runner().submit(job)` returns a `Run` at once; the run waits in line for a free worker process
(the pool is the server-wide limit on simultaneous runs), trains there, and fills in as the
worker reports. A run that overstays its budget is stopped cleanly (the weights learned so far
are kept); a worker that stops answering is killed and replaced, failing only its own run.

Training is deterministic (seeded), so a job equal to one already queued, running or recently
finished is not trained again: the second student gets the same Run and follows it — the epochs
so far at once, then live. A class that presses Train together with the class link's settings
costs one run. Finished runs are kept for sharing up to KEEP_RUNS and KEEP_BYTES, newest first.
"""
import collections
import itertools
import os
import subprocess
import sys
import threading
import time
from collections import deque
from multiprocessing.connection import Listener

from lib import cost
from lib.training.run import Failure, Run

GRACE_SECONDS = 30.0  # beyond the budget, a worker that has not finished is killed
KEEP_RUNS = 64  # finished runs kept for a classmate who asks for the same job
KEEP_BYTES = 200_000_000  # ... and the memory they may hold (weights and probes)
SHAREABLE = ("queued", "running", "done", "diverged")  # not: stopped by a student, over budget, failed
# How many runs train at once (worker processes), and TensorFlow's threads in each. Measured on this
# 2-core machine (bench/throughput.py, 12 mixed runs submitted at once): 1 worker x 1 thread finished
# them in 31.1-32.3 s, 1 x 2 in 31.4-33.5 s, 2 x 1 in 22.7-23.3 s. A second thread buys nothing for
# these small models; a second worker is ~1.45x faster for a burst but holds ~0.45 GB more, which
# took server + workers to 1.57 GB (PSS, bench/class_load.py train-different) against a budget of
# 1.5 GB. So one worker per two cores (up to 4) with one thread each, by default; a server with
# memory to spare sets KERAS_CLASSROOM_TRAINERS (and KERAS_CLASSROOM_THREADS).
SLOTS = max(1, int(os.environ.get("KERAS_CLASSROOM_TRAINERS", 0)) or min((os.cpu_count() or 2) // 2, 4))
THREADS = max(1, int(os.environ.get("KERAS_CLASSROOM_THREADS", 0)) or 1)
# A worker's private memory may grow this much beyond what it holds once TensorFlow is imported
# (RLIMIT_DATA): the memory a run may hold (lib.cost.RUN_MEMORY_BYTES, checked against each job's
# estimate before it trains) and room for what TensorFlow keeps between runs (~5 MB a run, the
# worker is replaced past RECYCLE_GROWTH_BYTES) and its own working space during a run.
WORKER_MEMORY_BYTES = cost.RUN_MEMORY_BYTES + 512 * 2 ** 20
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# The first worker is always ready (a lone student's first epoch comes within a second or two of
# the click); the others start when runs wait for them and stop after this long without one: each
# holds ~0.3 GB of its own (PSS, measured by bench/class_load.py), which a server between classes
# should not keep.
EXTRA_WORKER_IDLE_S = 60.0
# A worker keeps ~5 MB from every run it trains (TensorFlow's and Keras's state: measured over
# runs of different jobs, clear_session and malloc_trim gave none of it back). One that has grown
# this much since it started is replaced after its run: a class's day of runs stays bounded.
RECYCLE_GROWTH_BYTES = 200_000_000
# ... and one that has grown this much is replaced once no run has come for EXTRA_WORKER_IDLE_S:
# after a class's thirty different runs the worker had grown ~160 MB, which it kept all day.
IDLE_RECYCLE_BYTES = 64_000_000


class Runner:
    """A pool of worker processes (one always ready, up to `slots` while runs wait) and a queue
    in front of it (one per server process)."""

    def __init__(self, slots=SLOTS, threads=THREADS, memory_bytes=WORKER_MEMORY_BYTES):
        self.slots, self.threads, self.memory_bytes = slots, threads, memory_bytes
        self._queue = deque()
        self._runs = collections.OrderedDict()  # job key -> its latest Run, the most recently asked for last
        self._durations = deque(maxlen=20)  # seconds the recent runs took: the basis of a waiting estimate
        self._lock = threading.Condition()
        self._ids = itertools.count(1)
        self._workers = {}  # slot -> its _Worker, or None while it has none
        self._threads = [threading.Thread(target=self._serve, args=(k,), name=f"trainer-{k}", daemon=True)
                         for k in range(slots)]
        for thread in self._threads:
            thread.start()

    def submit(self, job, session=None):
        """The Run of `job` for `session`: the run of an identical job already queued, running or
        recently finished on this server, or a new one queued (the job is checked first:
        TrainingError)."""
        job.checked()
        key = job.key
        with self._lock:
            run = self._runs.get(key)
            if run is None or run.status not in SHAREABLE:
                run = Run(job, next(self._ids), _cancel=self._cancel)
                self._runs[key] = run
                self._queue.append(run)
                self._renumber()
                self._lock.notify()
                self._forget_old()
            self._runs.move_to_end(key)
            run.join(session)
        return run

    def shared(self):
        """How many runs are kept for sharing, and what they hold in bytes."""
        with self._lock:
            return len(self._runs), sum(_size(r) for r in self._runs.values())

    def followers(self):
        """How many sessions are watching a run that is waiting or training, right now: pages
        poll less often when many do, so a class watching costs the server what one poll rate
        would, not thirty."""
        with self._lock:
            active = [r for r in self._runs.values() if r.active]
        return len({session for r in active for session, when in list(r.watchers.items())
                    if time.time() - when <= 5.0})

    def estimated_wait(self, run):
        """Seconds until a queued run starts, judged from how long recent runs took (None
        before any run has ended on this server)."""
        if not self._durations or run.status != "queued":
            return None
        per_run = sum(self._durations) / len(self._durations)
        return per_run * (-(-run.queue_position // self.slots))

    def _forget_old(self):
        """Keep finished runs within KEEP_RUNS and KEEP_BYTES, the least recently asked for
        forgotten first (queued and running runs are always kept)."""
        finished = [k for k, r in self._runs.items() if not r.active]
        total = sum(_size(self._runs[k]) for k in finished)
        while finished and (len(finished) > KEEP_RUNS or total > KEEP_BYTES):
            total -= _size(self._runs.pop(finished.pop(0)))

    def _cancel(self, run):
        with self._lock:
            if run in self._queue:
                self._queue.remove(run)
                run.status, run.finished, run.queue_position = "stopped", time.time(), 0
                self._renumber()

    def _renumber(self):
        for position, run in enumerate(self._queue, start=1):
            run.queue_position = position

    def _next(self, timeout=None):
        """The next queued run, or None after `timeout` seconds without one."""
        with self._lock:
            if not self._lock.wait_for(lambda: self._queue, timeout):
                return None
            run = self._queue.popleft()
            self._renumber()
            return run

    def workers(self):
        """How many worker processes are alive now."""
        return sum(1 for w in self._workers.values() if w is not None and w.alive())

    def _serve(self, slot):
        """One slot: feed its worker runs from the queue, one at a time. Slot 0 starts its worker
        at once (Keras imported before the first click) and keeps it (replaced by a fresh one once
        idle, if it has grown); the others start theirs with their first run and stop it after
        EXTRA_WORKER_IDLE_S without one."""
        worker = _Worker.start_quietly(self.threads, self.memory_bytes) if slot == 0 else None
        while True:
            self._workers[slot] = worker
            idle = worker is not None and (slot > 0 or worker.grown() > IDLE_RECYCLE_BYTES)
            run = self._next(EXTRA_WORKER_IDLE_S if idle else None)
            if run is None:  # idle: an extra worker stops, the first one starts afresh
                worker.kill()
                worker = _Worker.start_quietly(self.threads, self.memory_bytes) if slot == 0 else None
                continue
            try:
                if worker is None or not worker.alive():
                    run.status, run.queue_position = "running", 0  # the page: "Starting: building the model"
                    worker = self._workers[slot] = _Worker(self.threads, self.memory_bytes)
                run.status, run.started, run.queue_position = "running", time.time(), 0
                worker.execute(run)
            except Exception as e:  # the worker died or hung: replace it, fail this run only
                run.error, run.status = (worker.death() if worker is not None else None) or Failure("worker", str(e)), \
                    "failed"
                if worker is not None:
                    worker.kill()
                worker = None
            finally:
                run.finished = run.finished or time.time()
                if run.started:
                    self._durations.append(run.finished - run.started)
                with self._lock:
                    self._forget_old()
            out_of_memory = run.error is not None and run.error.code == "out_of_memory"
            if worker is not None and (out_of_memory or worker.grown() > RECYCLE_GROWTH_BYTES):
                worker.kill()  # grown, or at its memory limit (what TensorFlow keeps then is not to be trusted)
                worker = _Worker.start_quietly(self.threads, self.memory_bytes) if slot == 0 else None


class _Worker:
    """One worker process and its connection.

    A plain subprocess (`python -c "...lib.training.worker.main()"`) that connects back over a
    local socket: multiprocessing's "spawn" would re-run the parent's main module in the child,
    which breaks under some launchers and would mean a second Streamlit CLI in every worker.
    """

    def __init__(self, threads=THREADS, memory_bytes=WORKER_MEMORY_BYTES):
        key = os.urandom(16)
        with Listener(authkey=key) as listener:
            env = dict(os.environ, PYTHONPATH=os.pathsep.join([_ROOT, os.environ.get("PYTHONPATH", "")]),
                       KERAS_CLASSROOM_WORKER=f"{listener.address}|{key.hex()}|{threads}|{int(memory_bytes)}",
                       TF_CPP_MIN_LOG_LEVEL="3")
            self.process = subprocess.Popen([sys.executable, "-c", "from lib.training.worker import main; main()"],
                                            cwd=_ROOT, env=env, stdin=subprocess.DEVNULL)
            self.connection = self._accept(listener, timeout=120)
        if not self.connection.poll(120) or self.connection.recv()[0] != "ready":
            self.kill()
            raise RuntimeError("the training worker did not start")
        self.ready_bytes = self.resident_bytes()

    def resident_bytes(self):
        """The worker's resident memory now (Linux; 0 where /proc is not there)."""
        try:
            with open(f"/proc/{self.process.pid}/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            return 0

    def grown(self):
        """Bytes the worker has grown since it was ready."""
        return self.resident_bytes() - self.ready_bytes

    def _accept(self, listener, timeout):
        """listener.accept(), but given up when the worker dies first or takes too long."""
        box = {}
        waiter = threading.Thread(target=lambda: box.setdefault("connection", listener.accept()), daemon=True)
        waiter.start()
        deadline = time.time() + timeout
        while waiter.is_alive() and self.alive() and time.time() < deadline:
            waiter.join(0.1)
        if "connection" not in box:
            self.kill()  # leaving the `with` closes the listener, which ends the waiting accept()
            raise RuntimeError("the training worker did not connect")
        return box["connection"]

    @classmethod
    def start_quietly(cls, threads=THREADS, memory_bytes=WORKER_MEMORY_BYTES):
        """A worker, or None if it could not start now (the next run tries again, and says why)."""
        try:
            return cls(threads, memory_bytes)
        except Exception:
            return None

    def death(self):
        """Why the worker died during a run, as the run's Failure: the signals a refused allocation
        ends in (TensorFlow aborts or crashes when RLIMIT_DATA refuses it, measured) mean the run
        needed more memory than a run may take; None while it lives."""
        import signal

        try:
            code = self.process.wait(5)  # a connection that broke comes a moment before the exit
        except subprocess.TimeoutExpired:
            return None
        if code in (-signal.SIGABRT, -signal.SIGSEGV, -signal.SIGBUS):
            return Failure.out_of_memory()
        return Failure("worker", f"the training worker stopped (exit {code})")

    def alive(self):
        return self.process.poll() is None

    def kill(self):
        self.process.kill()
        self.process.wait(5)

    def execute(self, run):
        """Send the job, then relay the worker's reports into the Run until it ends."""
        self.connection.send(run.job)
        deadline = time.time() + run.job.budget_s + GRACE_SECONDS
        told_to_stop = False
        while True:
            if run._stop.is_set() and not told_to_stop:
                self.connection.send("stop")
                told_to_stop = True
            if not self.connection.poll(0.05):
                if time.time() > deadline or not self.alive():
                    raise RuntimeError("the training worker stopped answering")
                continue
            kind, payload = self.connection.recv()
            if kind == "epoch":
                run.epochs.append(payload)
            elif kind == "done":
                run.result = payload
                run.status = payload.stopped or ("diverged" if all(o == "diverged" for o in payload.outcomes)
                                                 else "done")
                return
            elif kind == "failed":
                run.error, run.status = payload, "failed"
                return


def _size(run):
    """The bytes a finished run holds: its weights and its probes' predictions."""
    weights = sum(a.nbytes for w in (run.result.weights if run.result else ()) for a in w)
    return weights + sum(p.nbytes for e in run.epochs if e.probes for p in e.probes.values())


_runner = None
_runner_lock = threading.Lock()


def runner():
    """The server's runner, started on first use (its workers then import Keras in the background):
    by the server's warm-up once the class model is trained (lib.server.once_ready), or by the first
    page that trains if that comes first."""
    global _runner
    with _runner_lock:
        if _runner is None:
            _runner = Runner()
        return _runner
