"""Where a stranger's file is opened and its model run: locked-down processes (process.py), one
per load, and a few kept as *hosts* — a process that loaded a student's model and runs its passes
(the mock exam, one input through every layer) for as long as the student uses it.

The server itself never runs a pass of a model it did not build: it asks a host.
"""
import collections
import os
import shutil
import tempfile
import threading
import time

from lib.saving.process import LIMIT_CODES, LockedProcess
from lib.saving.refusals import UnsafeModel

# The loader process. Measured (2 CPU cores, TF 2.21): its start (TensorFlow's import) takes
# 2.3-2.6 s; loading a 1.96 M-parameter model takes 0.2-0.45 s inside it (0.35-0.65 s end to end)
# and +80 MB of private memory above its idle 293 MB.
LOAD_SECONDS = 20.0  # wall clock for one load, sending and receiving included; then it is killed
LOAD_CPU_SECONDS = 30  # RLIMIT_CPU beyond what the import used: a busy-looping file dies
# RLIMIT_DATA above the idle loader's private writable memory (VmData ~375 MB after TF's import). Not
# RLIMIT_AS: TensorFlow reserves address space for every thread (measured: +265 MB of VmSize for
# 3 threads while loading), so an address-space cap that fits the idle loader fails a legitimate
# load, and one loose enough for that no longer limits anything. A host's passes fit in it too: a
# batch's activations are priced at most lib.cost.PASS_MEMORY_BYTES (128 MB, the largest adjacent
# pair of layer outputs), which TensorFlow holds 2-3 times over (~380 MB), beside the model it keeps.
LOAD_MEMORY_BYTES = 640_000_000
PASS_SECONDS = 20.0  # wall clock for one pass request (the mock exam is budgeted at 2 s of one core)
# A spare loader process waits at most this long for a load, then stops: it holds ~0.4 GB (PSS,
# bench/class_load.py), and in a class most loads are answered from lib.saving's cache, so a
# server would otherwise keep it all day for the odd upload (which then waits ~3 s for a start).
SPARE_IDLE_S = 120.0
# Hosts: processes that keep a student's model for its passes. Each holds ~0.4 GB like the spare (and
# up to LOAD_MEMORY_BYTES more during a pass), so few are kept: one per two cores, as training
# workers (KERAS_CLASSROOM_MODEL_HOSTS overrides). The least recently used goes first (its student's
# next pass loads it again, ~0.5 s with the spare ready), and none stays HOST_IDLE_S without a pass.
MAX_HOSTS = max(1, int(os.environ.get("KERAS_CLASSROOM_MODEL_HOSTS", 0)) or min((os.cpu_count() or 2) // 2, 4))
HOST_IDLE_S = 120.0


class _Host:
    """A process holding one model, and when it was last asked."""

    def __init__(self, process):
        self.process, self.used, self.lock = process, time.monotonic(), threading.Lock()


class Loader:
    """Loads uploads in separate processes, and runs a loaded model's passes in one it keeps.

    A loader process imports TensorFlow (~3 s), limits itself (RLIMIT_DATA, RLIMIT_CPU, no core
    files, bounded file writes) and waits. `run` gives it one file, gets plain data back and kills
    it, so nothing a hostile file did can outlive its load. `passes` loads a file into a process it
    keeps (a host, one per file, at most `max_hosts`), then asks it for a pass; a host that hits a
    limit is killed, and the next pass starts a new one. The next process is started at once in the
    background, so a student waits for the load only, not for TensorFlow's import; it stops after
    `spare_idle_s` without a load. Loads run one at a time, passes one per host.
    """

    def __init__(self, *, memory_bytes=LOAD_MEMORY_BYTES, seconds=LOAD_SECONDS, cpu_seconds=LOAD_CPU_SECONDS,
                 prestart=True, spare_idle_s=SPARE_IDLE_S, max_hosts=MAX_HOSTS, host_idle_s=HOST_IDLE_S,
                 pass_seconds=PASS_SECONDS):
        self.memory_bytes, self.seconds, self.cpu_seconds = memory_bytes, seconds, cpu_seconds
        self.spare_idle_s, self.max_hosts, self.host_idle_s = spare_idle_s, max_hosts, host_idle_s
        self.pass_seconds = pass_seconds
        self._last_used = time.monotonic()
        self.last_timings = {}  # of the last run, in seconds: waiting for a loader, the load, inside it
        self._lock = threading.Lock()  # one load at a time
        self._spare_lock = threading.Lock()
        self._spare = None  # (thread, box): a thread starting a LockedProcess into box["process"]
        self._hosts = collections.OrderedDict()  # file key -> _Host, the least recently used first
        self._hosts_lock = threading.Lock()
        if prestart:
            self.warm_up()

    # --- The spare process ------------------------------------------------------------------

    def warm_up(self):
        """Start a loader process in the background, if none is ready or starting."""
        with self._spare_lock:
            if self._spare is None:
                box = {}
                thread = threading.Thread(target=self._start_into, args=(box,), daemon=True, name="model-loader")
                self._spare = (thread, box)
                thread.start()
                self._later(self.spare_idle_s, self._retire_if_idle)

    @staticmethod
    def _later(seconds, action):
        timer = threading.Timer(seconds, action)
        timer.daemon = True
        timer.start()

    def _retire_if_idle(self):
        """Stop the spare if no load came for spare_idle_s; otherwise look again when it might be."""
        idle = time.monotonic() - self._last_used
        if idle >= self.spare_idle_s:
            self._close_spare()
        elif self._spare is not None:
            self._later(self.spare_idle_s - idle, self._retire_if_idle)

    def _start_into(self, box):
        try:
            box["process"] = LockedProcess(self.memory_bytes, self.cpu_seconds)
        except Exception as e:
            box["error"] = e

    def _pop_spare(self):
        """The spare's start box ({"process"} or {"error"}) once its start is over, or None; the
        spare is then no longer this loader's."""
        with self._spare_lock:
            spare, self._spare = self._spare, None
        if spare is None:
            return None
        thread, box = spare
        thread.join(self.seconds + 130)
        return box

    def _take(self):
        """The spare loader process (waiting for its start if need be), or a new one; the next
        spare starts at once."""
        self._last_used = time.monotonic()
        try:
            box = self._pop_spare()
            if box is not None:
                process = box.get("process")
                if process is not None and process.alive():
                    return process
                if process is not None:
                    process.kill()
            return LockedProcess(self.memory_bytes, self.cpu_seconds)
        except Exception as e:
            raise UnsafeModel("loader_failed", f"the loader could not start: {e}")
        finally:
            self.warm_up()  # the next one imports TensorFlow while this one loads

    # --- Loads ------------------------------------------------------------------------------

    def run(self, request, data, filename, *, keep=None):
        """Send one load request with the upload (as a private file) to a fresh loader process,
        return (header, arrays). Refusals it found are raised here as BadArchive / UnsafeModel.
        With `keep` (a key naming the file), the process is kept as that file's host."""
        with self._lock:
            started = time.perf_counter()
            process = self._take()
            waited = time.perf_counter() - started
            kept = False
            try:
                header, arrays = self._load(process, request, data, filename, keep=keep is not None)
                if keep is not None:
                    self._add_host(keep, process)
                    kept = True
            finally:
                if not kept:
                    process.kill()
            self.last_timings = {"waited_for_loader": waited, "load": time.perf_counter() - started - waited,
                                 **header.get("timings", {})}
            return header, arrays

    def _load(self, process, request, data, filename, *, keep, send=True):
        directory = tempfile.mkdtemp(prefix="keras-classroom-upload-")  # mode 0700
        try:
            path = os.path.join(directory, filename)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            return process.request({**request, "path": path, "keep": keep, "send": send}, self.seconds)
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    # --- Hosts: passes of a loaded model ----------------------------------------------------

    def passes(self, key, data, load, op, inputs, **options):
        """(header, arrays) of a pass `op` ("predict", "follow") on `inputs`, run by the host of the
        file `data` (named `key`; `load` the request that loads it). A host is made when there is
        none (the file loaded again); one that hits a limit is killed and forgotten."""
        host = self._host(key, data, load)
        with host.lock:
            host.used = time.monotonic()
            try:
                return host.process.request({"op": op, **options}, self.pass_seconds, inputs=inputs, phase="run")
            except UnsafeModel as e:
                if e.code in LIMIT_CODES["run"]:  # a host that hit a limit (and lived to say so) is replaced
                    host.process.kill()
                raise
            finally:
                if not host.process.alive():
                    self._drop_host(key, host)

    def _host(self, key, data, load):
        with self._hosts_lock:
            host = self._hosts.get(key)
            if host is not None and host.process.alive():
                self._hosts.move_to_end(key)
                return host
        with self._lock:  # a load, like any other
            process = self._take()
            try:
                self._load(process, load, data, "upload" + (".keras" if load["op"] == "load_model" else ".weights.h5"),
                           keep=True, send=False)
            except Exception:
                process.kill()
                raise
            return self._add_host(key, process)

    def _add_host(self, key, process):
        host = _Host(process)
        with self._hosts_lock:
            old = self._hosts.pop(key, None)
            self._hosts[key] = host
            evicted = [self._hosts.popitem(last=False)[1] for _ in range(len(self._hosts) - self.max_hosts)]
        for gone in ([old] if old else []) + evicted:
            gone.process.kill()
        self._later(self.host_idle_s, self._retire_idle_hosts)
        return host

    def _drop_host(self, key, host):
        with self._hosts_lock:
            if self._hosts.get(key) is host:
                del self._hosts[key]
        host.process.kill()

    def _retire_idle_hosts(self):
        """Stop the hosts no pass came to for host_idle_s; look again while some are left."""
        now = time.monotonic()
        with self._hosts_lock:
            idle = [(k, h) for k, h in self._hosts.items() if now - h.used >= self.host_idle_s and not h.lock.locked()]
            busy = [h.used for h in self._hosts.values() if now - h.used < self.host_idle_s]
        for key, host in idle:
            self._drop_host(key, host)
        if busy:
            self._later(self.host_idle_s - (now - min(busy)) + 0.1, self._retire_idle_hosts)

    def hosts(self):
        """The process ids of the hosts alive now (for tests and the load test's memory report)."""
        with self._hosts_lock:
            return [h.process.process.pid for h in self._hosts.values() if h.process.alive()]

    def close(self):
        """Stop the spare loader process and every host (a later `run` starts one again)."""
        self._close_spare()
        with self._hosts_lock:
            hosts, self._hosts = list(self._hosts.values()), collections.OrderedDict()
        for host in hosts:
            host.process.kill()

    def _close_spare(self):
        box = self._pop_spare()
        if box is not None and box.get("process") is not None:
            box["process"].kill()


_loader = None
_loader_lock = threading.Lock()


def get_loader():
    """The server's Loader, started on first use (a page may call this early to warm it up)."""
    global _loader
    with _loader_lock:
        if _loader is None:
            _loader = Loader()
            import atexit

            atexit.register(_loader.close)
        return _loader
