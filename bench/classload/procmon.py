"""Memory and CPU of a process and its descendants, read from /proc (Linux; no dependencies).

`Sampler(pid)` samples every `every` seconds in a background thread: the server's RSS and CPU
time, and those of its descendants (the training workers). Under gevent the thread is a
greenlet; a sample is a few small file reads.
"""
import os
import threading
import time

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat(pid):
    """(ppid, cpu seconds (user + system), rss bytes) of one process, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK, int(fields[21]) * PAGE


def running(pid):
    """True while `pid` runs (a zombie, ended but not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def children_map():
    """{ppid: [pid, ...]} of every process now."""
    kids = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st is not None:
                kids.setdefault(st[0], []).append(int(name))
    return kids


def descendants(pid):
    kids, out, todo = children_map(), [], [pid]
    while todo:
        for child in kids.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def cpu_seconds(pid):
    st = _stat(pid)
    return st[1] if st else 0.0


def pss(pid):
    """Proportional set size in bytes: the process's private pages plus its share of the pages it
    shares. RSS counts TensorFlow's ~450 MB of shared library pages once in the server and again
    in every worker; PSS (summed over processes) is what they really take, as a container sees it."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def sample(pid):
    """{"t", "rss", "pss", "cpu", "kids_rss", "kids_pss", "kids_cpu", "kids"} of `pid` and its
    descendants now. `pid` may be several (the replicas of a lecture hall): their sums, and each
    one's own sample under "roots"."""
    if isinstance(pid, (tuple, list)):
        return _sample_trees(pid)
    own = _stat(pid)
    kids = [(k, _stat(k)) for k in descendants(pid)]
    kids = [(k, s) for k, s in kids if s is not None]
    return {"t": time.time(), "rss": own[2] if own else 0, "pss": pss(pid), "cpu": own[1] if own else 0.0,
            "gone": own is None, "kids_rss": sum(s[2] for _, s in kids), "kids_pss": sum(pss(k) for k, _ in kids),
            "kids_cpu": sum(s[1] for _, s in kids), "kids": len(kids),
            "kids_cpu_by_pid": {k: s[1] for k, s in kids}}


SUMMED = ("rss", "pss", "cpu", "kids_rss", "kids_pss", "kids_cpu", "kids")


def _sample_trees(pids):
    roots = {pid: sample(pid) for pid in pids}
    total = {key: sum(s[key] for s in roots.values()) for key in SUMMED}
    total.update(t=time.time(), gone=any(s["gone"] for s in roots.values()), roots=roots,
                 kids_cpu_by_pid={k: v for s in roots.values() for k, v in s["kids_cpu_by_pid"].items()})
    return total


def descendants_cpu(first, between, last):
    """CPU seconds the descendants spent from sample `first` to sample `last`, with the samples
    `between` them: a process that started meanwhile counts from its start, one that exited as it
    was last seen (up to a sampling period of its last CPU is missed). The difference of the two
    samples' sums would subtract an exited worker's whole CPU, its time before `first` included."""
    latest = {}
    for s in (first, *between, last):
        latest.update(s.get("kids_cpu_by_pid", {}))
    before = first.get("kids_cpu_by_pid", {})
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in latest.items())


def self_cpu():
    """CPU seconds used so far by this process (all its threads) and its children that ended."""
    t = os.times()
    return t.user + t.system


class Sampler:
    """Samples a process tree every `every` seconds until stopped; `marks` name moments."""

    def __init__(self, pid, every=1.0):
        self.pid, self.every = pid, every
        self.samples, self.marks = [], {}
        self._stop = threading.Event()
        self._thread = None

    def start(self):
        if self.pid:
            self._thread = threading.Thread(target=self._loop, daemon=True, name="procmon")
            self._thread.start()
        return self

    def _loop(self):
        while not self._stop.is_set():
            self.samples.append(sample(self.pid))
            self._stop.wait(self.every)

    def mark(self, name):
        self.marks[name] = time.time()
        if self.pid:
            self.samples.append(sample(self.pid))

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def between(self, start, end):
        return [s for s in self.samples if start <= s["t"] <= end]


def wait_quiet(pid, *, cpu_share=0.05, quiet_s=2.0, timeout=180.0):
    """Wait until `pid` and its descendants use less than `cpu_share` of a core for `quiet_s`
    seconds (imports and worker start-ups done). Returns the seconds waited."""
    start = time.time()
    last_t, last_cpu, quiet_since = start, None, None
    while time.time() - start < timeout:
        s = sample(pid)
        cpu = s["cpu"] + s["kids_cpu"]
        now = s["t"]
        if last_cpu is not None:
            share = (cpu - last_cpu) / max(now - last_t, 1e-3)
            if share < cpu_share:
                quiet_since = quiet_since or last_t
                if now - quiet_since >= quiet_s:
                    return now - start
            else:
                quiet_since = None
        last_t, last_cpu = now, cpu
        time.sleep(0.5)
    return time.time() - start


def machine_cpu():
    """CPU seconds the whole machine has spent busy (all cores, all processes) since boot."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / TICK
