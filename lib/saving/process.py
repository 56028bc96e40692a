"""One locked-down process for a stranger's file, seen from the server: started with a minimal
environment, it limits itself (see `inside.py`), and speaks bytes and JSON only — never a
pickle. The server watches its memory and its time on every request and kills it at a limit;
what it sends back is checked as plain data (`read_answer`)."""
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Listener

from lib.saving.config import MAX_LAYERS, MAX_PARAMS
from lib.saving.refusals import ERROR_CODES, KINDS, UnsafeModel, size_text

START_SECONDS = 120.0  # TensorFlow's import on a busy server
# What one answer may hold: a model's weights (float64 at worst) or a pass's outputs (see lib.cost:
# one example followed through every layer is capped well below this).
MAX_RESULT_BYTES = MAX_PARAMS * 8 + 1_000_000
MAX_HEADER_BYTES = 4_000_000  # the re-serialised config and the arrays' shapes
MAX_ARRAYS = 4 * (MAX_LAYERS + 1)
ALLOWED_DTYPES = ("<f2", "<f4", "<f8")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the project
# The refusal codes of a process that hit a limit, by what it was doing: loading a file, or running
# the model it holds (a pass): the student reads which.
LIMIT_CODES = {"load": ("too_slow", "too_much_memory", "loader_failed"),
               "run": ("run_too_slow", "run_too_much_memory", "run_failed")}


def minimal_environment():
    """What the process needs to start (where Python, its packages and TensorFlow's libraries are),
    and nothing else of this server's environment: no tokens or cloud credentials for a hostile
    file to find, should it ever run code."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV",
            "CONDA_PREFIX", "LD_LIBRARY_PATH", "KERAS_BACKEND", "KERAS_HOME")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1", OMP_NUM_THREADS="1",
               TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    return env


class LockedProcess:
    """One loader process and its connection. It serves requests until it is killed: one load
    (then it is killed), or a load and then passes of the model it holds (a host, see loader.py)."""

    def __init__(self, memory_bytes, cpu_seconds):
        self.memory_bytes, self.cpu_seconds = memory_bytes, cpu_seconds
        key = os.urandom(32)
        with Listener(authkey=key) as listener:
            code = f"import sys; sys.path.insert(0, {ROOT!r}); from lib.saving.inside import main; main()"
            self.process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=minimal_environment(),
                                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL, start_new_session=os.name == "posix")
            setup = {"address": listener.address, "key": key.hex(), "memory_bytes": memory_bytes,
                     "cpu_seconds": cpu_seconds}
            self.process.stdin.write((json.dumps(setup) + "\n").encode())  # the key never sits in its environment
            self.process.stdin.close()
            self.connection = self._accept(listener)
        if not self.connection.poll(START_SECONDS):
            self.kill()
            raise RuntimeError("the loader did not start")
        try:
            ready = json.loads(self.connection.recv_bytes(10_000))
        except (EOFError, OSError, ValueError):
            ready = {}
        if not isinstance(ready, dict) or not ready.get("ready"):
            self.kill()
            raise RuntimeError("the loader did not start")

    def _accept(self, listener):
        box = {}
        waiter = threading.Thread(target=lambda: box.setdefault("connection", listener.accept()), daemon=True)
        waiter.start()
        deadline = time.time() + START_SECONDS
        while waiter.is_alive() and self.alive() and time.time() < deadline:
            waiter.join(0.05)
        if "connection" not in box:
            self.kill()  # leaving the `with` closes the listener, which ends the waiting accept()
            raise RuntimeError("the loader did not connect")
        return box["connection"]

    def alive(self):
        return self.process.poll() is None

    def kill(self):
        if self.alive():
            try:
                if os.name == "posix":
                    os.killpg(self.process.pid, 9)  # its own session: anything it started goes too
                else:
                    self.process.kill()
            except (ProcessLookupError, PermissionError):
                self.process.kill()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            pass
        try:
            self.connection.close()
        except (AttributeError, OSError):
            pass

    def request(self, request, seconds, *, inputs=(), phase="load"):
        """Send the request (and `inputs`, arrays it runs on) and wait for the answer, killing the
        process at the time limit or when its memory (private RSS beyond what it held when the
        request came) passes its limit. Returns (header, arrays); a refusal it sent, or a limit it
        hit, is raised (with the codes of `phase`: "load" or "run")."""
        too_slow, too_much, failed = LIMIT_CODES[phase]
        baseline = private_memory(self.process.pid)
        deadline = time.monotonic() + seconds
        arrays = [_little_endian(a) for a in inputs]
        request = {**request, "inputs": [{"dtype": a.dtype.str, "shape": list(a.shape)} for a in arrays]}
        try:
            self.connection.send_bytes(json.dumps(request).encode())
            if arrays:
                self.connection.send_bytes(b"".join(a.tobytes() for a in arrays))
        except (OSError, ValueError):
            self.kill()
            raise UnsafeModel(failed, "the loader went away", seconds=f"{seconds:g}")
        messages = []
        while len(messages) < 2:
            # The deadline before every wait: an answer that arrives late is late, however fast
            # the poll that found it (with the check only after an empty poll, a pass answered
            # within the first 50 ms was never over any limit).
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise UnsafeModel(too_slow, "the loader took too long", seconds=f"{seconds:g}")
            if self.connection.poll(min(0.05, remaining)):
                try:
                    messages.append(self.connection.recv_bytes(MAX_HEADER_BYTES if not messages else MAX_RESULT_BYTES))
                except (EOFError, OSError):  # it died mid-answer, or sent more than an answer can be
                    self.kill()
                    raise self._death(seconds, phase)
                continue
            memory = private_memory(self.process.pid)
            if baseline is not None and memory is not None and memory - baseline > self.memory_bytes:
                self.kill()
                raise UnsafeModel(too_much, "the loader used too much memory", limit=size_text(self.memory_bytes))
            if not self.alive():
                raise self._death(seconds, phase)
        return read_answer(messages[0], messages[1], self.memory_bytes, phase)

    def _death(self, seconds, phase):
        """Why the process died without answering: its CPU limit (SIGXCPU); its memory — the
        kernel's OOM killer (SIGKILL: the server kills it only after deciding why) or an allocation
        its RLIMIT_DATA refused, which TensorFlow does not survive (SIGSEGV or SIGABRT, measured) —
        or anything else."""
        too_slow, too_much, failed = LIMIT_CODES[phase]
        code = self.process.poll()
        if code == -getattr(signal, "SIGXCPU", 0):
            return UnsafeModel(too_slow, "the loader used up its CPU time", seconds=f"{seconds:g}")
        if code in (-signal.SIGKILL, -signal.SIGSEGV, -signal.SIGABRT, -signal.SIGBUS):
            return UnsafeModel(too_much, f"the loader died (signal {-code})", limit=size_text(self.memory_bytes))
        return UnsafeModel(failed, f"the loader stopped (exit {code})")


def _little_endian(array):
    import numpy as np

    array = np.ascontiguousarray(array, dtype="float32")
    return array.astype(array.dtype.newbyteorder("<"), copy=False)


def private_memory(pid):
    """The process's private resident memory (RssAnon + RssShmem) in bytes; None off Linux."""
    try:
        with open(f"/proc/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        return sum(int(fields[k].split()[0]) * 1024 for k in ("RssAnon", "RssShmem") if k in fields)
    except (OSError, ValueError):
        return None


def read_answer(raw_header, payload, memory_bytes, phase="load"):
    """(header, arrays) from the process's two messages, each checked: the server trusts nothing
    from a process that has just read a hostile file."""
    import numpy as np

    failed = LIMIT_CODES[phase][2]
    try:
        header = json.loads(raw_header.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise UnsafeModel(failed, "the loader's answer is not JSON")
    if not isinstance(header, dict):
        raise UnsafeModel(failed, "the loader's answer is not an object")
    if not header.get("ok"):
        kind, code, details = header.get("kind"), header.get("code"), header.get("details")
        if kind in KINDS and code in ERROR_CODES[KINDS[kind]] and isinstance(details, dict):
            details = {str(k)[:40]: v if isinstance(v, (int, float)) else str(v)[:300] for k, v in details.items()}
            if code in ("too_much_memory", "run_too_much_memory"):
                details = {"limit": size_text(memory_bytes)}
            raise KINDS[kind](code, header.get("message", code), **details)
        raise UnsafeModel(failed, "the loader's answer makes no sense")
    specs = header.get("arrays")
    if not isinstance(specs, list) or len(specs) > MAX_ARRAYS:
        raise UnsafeModel(failed, "bad array list")
    arrays, offset = [], 0
    for spec in specs:
        dtype, shape = (spec.get("dtype"), spec.get("shape")) if isinstance(spec, dict) else (None, None)
        if dtype not in ALLOWED_DTYPES or not isinstance(shape, list) or len(shape) > 8 or \
                not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= MAX_RESULT_BYTES for d in shape):
            raise UnsafeModel(failed, "bad array description")
        size = math.prod(shape) * np.dtype(dtype).itemsize
        if offset + size > len(payload):
            raise UnsafeModel(failed, "the arrays do not add up")
        arrays.append(np.frombuffer(payload, dtype=dtype, count=math.prod(shape), offset=offset).reshape(shape).copy())
        offset += size
    if offset != len(payload):
        raise UnsafeModel(failed, "the arrays do not add up")
    return header, arrays
