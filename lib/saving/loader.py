"""Loading an upload in a separate process: one process per load, memory-, CPU- and time-limited,
given the file and sending back plain data (JSON and raw numbers), then killed."""
import io
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from multiprocessing.connection import Client, Listener

from lib.saving.archive import MAX_UPLOAD_BYTES, check_upload_size, inspect_archive, read_member
from lib.saving.config import MAX_LAYERS, MAX_PARAMS, check_config
from lib.saving.rebuild import deserialize, weight_label
from lib.saving.refusals import ERROR_CODES, KINDS, BadArchive, SavingError, UnsafeModel, check_keras_version, plain_line, shape_text, size_text

# The loader process. Measured (2 CPU cores, TF 2.21): its start (TensorFlow's import) takes
# 2.3-2.6 s; loading a 1.96 M-parameter model takes 0.2-0.45 s inside it (0.35-0.65 s end to end)
# and +80 MB of private memory above its idle 293 MB.
LOAD_SECONDS = 20.0  # wall clock for one load, sending and receiving included; then it is killed
LOAD_CPU_SECONDS = 30  # RLIMIT_CPU beyond what the import used: a busy-looping file dies
# RLIMIT_DATA above the idle loader's private writable memory (VmData ~375 MB after TF's import). Not
# RLIMIT_AS: TensorFlow reserves address space for every thread (measured: +265 MB of VmSize for
# 3 threads while loading), so an address-space cap that fits the idle loader fails a legitimate
# load, and one loose enough for that no longer limits anything.
LOAD_MEMORY_BYTES = 512_000_000
START_SECONDS = 120.0  # TensorFlow's import on a busy server
MAX_RESULT_BYTES = MAX_PARAMS * 8 + 1_000_000  # the weights sent back (float64 at worst)
MAX_H5_OBJECTS = 10_000  # groups + datasets in a weights file: ~5 per layer in what Keras writes
MAX_HEADER_BYTES = 4_000_000  # the re-serialised config and the arrays' shapes
# A spare loader process waits at most this long for a load, then stops: it holds ~0.4 GB (PSS,
# bench/class_load.py), and in a class most loads are answered from lib.saving's cache, so a
# server would otherwise keep it all day for the odd upload (which then waits ~3 s for a start).
SPARE_IDLE_S = 120.0


class Loader:
    """Loads uploads in a separate process, one process per load.

    A loader process imports TensorFlow (~3 s), limits itself (RLIMIT_DATA, RLIMIT_CPU, no core
    files, bounded file writes) and waits; `run` gives it one file, gets plain data back and
    kills it, so nothing a hostile file did can outlive its load. The next process is started at
    once in the background, so a student waits for the load only, not for TensorFlow's import;
    it stops after `spare_idle_s` without a load (the next load starts one again).
    Loads run one at a time (the rest wait): a classroom server has few cores, and training
    needs them. This process also watches the loader's memory and kills it at the limit.
    """

    def __init__(self, *, memory_bytes=LOAD_MEMORY_BYTES, seconds=LOAD_SECONDS, cpu_seconds=LOAD_CPU_SECONDS,
                 prestart=True, spare_idle_s=SPARE_IDLE_S):
        self.memory_bytes, self.seconds, self.cpu_seconds = memory_bytes, seconds, cpu_seconds
        self.spare_idle_s = spare_idle_s
        self._last_used = time.monotonic()
        self.last_timings = {}  # of the last run, in seconds: waiting for a loader, the load, inside it
        self._lock = threading.Lock()  # one load at a time
        self._spare_lock = threading.Lock()
        self._spare = None  # (thread, box): a thread starting a _LoaderProcess into box["process"]
        if prestart:
            self.warm_up()

    def warm_up(self):
        """Start a loader process in the background, if none is ready or starting."""
        with self._spare_lock:
            if self._spare is None:
                box = {}
                thread = threading.Thread(target=self._start_into, args=(box,), daemon=True, name="model-loader")
                self._spare = (thread, box)
                thread.start()
                self._retire_later(self.spare_idle_s)

    def _retire_later(self, seconds):
        timer = threading.Timer(seconds, self._retire_if_idle)
        timer.daemon = True
        timer.start()

    def _retire_if_idle(self):
        """Stop the spare if no load came for spare_idle_s; otherwise look again when it might be."""
        idle = time.monotonic() - self._last_used
        if idle >= self.spare_idle_s:
            self.close()
        elif self._spare is not None:
            self._retire_later(self.spare_idle_s - idle)

    def _start_into(self, box):
        try:
            box["process"] = _LoaderProcess(self.memory_bytes, self.cpu_seconds)
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
        thread.join(START_SECONDS + 10)
        return box

    def _take(self):
        """The spare loader process (waiting for its start if need be), or a new one."""
        box = self._pop_spare()
        if box is not None:
            process = box.get("process")
            if process is not None and process.alive():
                return process
            if process is not None:
                process.kill()
        return _LoaderProcess(self.memory_bytes, self.cpu_seconds)

    def run(self, request, data, filename):
        """Send one request with the upload (as a private file) to a fresh loader process, return
        (header, arrays). Refusals the loader found are raised here as BadArchive / UnsafeModel."""
        with self._lock:
            started = time.perf_counter()
            self._last_used = time.monotonic()
            try:
                process = self._take()
            except Exception as e:
                raise UnsafeModel("loader_failed", f"the loader could not start: {e}")
            finally:
                self.warm_up()  # the next one imports TensorFlow while this one loads
            waited = time.perf_counter() - started
            directory = tempfile.mkdtemp(prefix="keras-classroom-upload-")  # mode 0700
            try:
                path = os.path.join(directory, filename)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                header, arrays = process.request({**request, "path": path}, self.seconds, self.memory_bytes)
            finally:
                process.kill()
                shutil.rmtree(directory, ignore_errors=True)
            self.last_timings = {"waited_for_loader": waited, "load": time.perf_counter() - started - waited,
                                 **header.get("timings", {})}
            return header, arrays

    def close(self):
        """Stop the spare loader process (a later `run` starts one again)."""
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


def _minimal_environment():
    """What the loader needs to start (where Python, its packages and TensorFlow's libraries are),
    and nothing else of this server's environment: no tokens or cloud credentials for a hostile
    file to find, should it ever run code."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV",
            "CONDA_PREFIX", "LD_LIBRARY_PATH", "KERAS_BACKEND", "KERAS_HOME")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1", OMP_NUM_THREADS="1",
               TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    return env


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the project
_ALLOWED_DTYPES = ("<f2", "<f4", "<f8")


class _LoaderProcess:
    """One loader process and its connection (bytes and JSON only: never a pickle from it)."""

    def __init__(self, memory_bytes, cpu_seconds):
        key = os.urandom(32)
        with Listener(authkey=key) as listener:
            code = f"import sys; sys.path.insert(0, {ROOT!r}); from lib.saving.loader import main; main()"
            self.process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=_minimal_environment(),
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

    def request(self, request, seconds, memory_bytes):
        """Send the request and wait for the answer, killing the process at the time limit or
        when its memory (RSS beyond its size when idle) passes the limit."""
        baseline = _private_memory(self.process.pid)
        deadline = time.monotonic() + seconds
        self.connection.send_bytes(json.dumps(request).encode())
        messages = []
        while len(messages) < 2:
            if self.connection.poll(0.05):
                try:
                    messages.append(self.connection.recv_bytes(MAX_HEADER_BYTES if not messages else MAX_RESULT_BYTES))
                except (EOFError, OSError):  # it died mid-answer, or sent more than an answer can be
                    self.kill()
                    raise self._death(seconds, memory_bytes)
                continue
            memory = _private_memory(self.process.pid)
            if baseline is not None and memory is not None and memory - baseline > memory_bytes:
                self.kill()
                raise UnsafeModel("too_much_memory", "the loader used too much memory",
                                  limit=size_text(memory_bytes))
            if time.monotonic() > deadline:
                self.kill()
                raise UnsafeModel("too_slow", "the loader took too long", seconds=f"{seconds:g}")
            if not self.alive():
                raise self._death(seconds, memory_bytes)
        return _read_answer(messages[0], messages[1], memory_bytes)

    def _death(self, seconds, memory_bytes):
        """Why the loader died without answering: its CPU limit (SIGXCPU), the kernel's OOM
        killer (SIGKILL: this process kills it only after deciding why), or anything else."""
        import signal

        code = self.process.poll()
        if code == -getattr(signal, "SIGXCPU", 0):
            return UnsafeModel("too_slow", "the loader used up its CPU time", seconds=f"{seconds:g}")
        if code == -getattr(signal, "SIGKILL", 0):
            return UnsafeModel("too_much_memory", "the loader was killed", limit=size_text(memory_bytes))
        return UnsafeModel("loader_failed", f"the loader stopped while loading this file (exit {code})")


def _private_memory(pid):
    """The process's private resident memory (RssAnon + RssShmem) in bytes; None off Linux."""
    try:
        with open(f"/proc/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        return sum(int(fields[k].split()[0]) * 1024 for k in ("RssAnon", "RssShmem") if k in fields)
    except (OSError, ValueError):
        return None


def _read_answer(raw_header, payload, memory_bytes):
    """(header, arrays) from the loader's two messages, each checked: this process trusts nothing
    from a process that has just read a hostile file."""
    import numpy as np

    try:
        header = json.loads(raw_header.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise UnsafeModel("loader_failed", "the loader's answer is not JSON")
    if not isinstance(header, dict):
        raise UnsafeModel("loader_failed", "the loader's answer is not an object")
    if not header.get("ok"):
        kind, code, details = header.get("kind"), header.get("code"), header.get("details")
        if kind in KINDS and code in ERROR_CODES[KINDS[kind]] and isinstance(details, dict):
            details = {str(k)[:40]: v if isinstance(v, (int, float)) else str(v)[:300] for k, v in details.items()}
            if code == "too_much_memory":
                details = {"limit": size_text(memory_bytes)}
            raise KINDS[kind](code, header.get("message", code), **details)
        raise UnsafeModel("loader_failed", "the loader's answer makes no sense")
    specs = header.get("arrays")
    if not isinstance(specs, list) or len(specs) > 4 * (MAX_LAYERS + 1):
        raise UnsafeModel("loader_failed", "bad array list")
    arrays, offset = [], 0
    for spec in specs:
        dtype, shape = (spec.get("dtype"), spec.get("shape")) if isinstance(spec, dict) else (None, None)
        if dtype not in _ALLOWED_DTYPES or not isinstance(shape, list) or len(shape) > 8 or \
                not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= MAX_RESULT_BYTES for d in shape):
            raise UnsafeModel("loader_failed", "bad array description")
        size = math.prod(shape) * np.dtype(dtype).itemsize
        if offset + size > len(payload):
            raise UnsafeModel("loader_failed", "the arrays do not add up")
        arrays.append(np.frombuffer(payload, dtype=dtype, count=math.prod(shape), offset=offset).reshape(shape).copy())
        offset += size
    if offset != len(payload):
        raise UnsafeModel("loader_failed", "the arrays do not add up")
    return header, arrays


# --- Inside the loader process -----------------------------------------------------------------

def main():
    """Where a loader process starts: connect back, import Keras, limit itself, serve one request."""
    setup = json.loads(sys.stdin.readline())
    # No PR_SET_PDEATHSIG: it fires when the *thread* that started this process ends, and spares
    # are started from short-lived threads. When the server goes, the connection ends (EOF): so
    # does this process, idle or right after its one load.
    connection = Client(setup["address"], authkey=bytes.fromhex(setup["key"]))
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras  # noqa: F401

    import lib.activations  # noqa: F401  registers Maxout

    _limit_resources(setup["memory_bytes"], setup["cpu_seconds"])
    connection.send_bytes(json.dumps({"ready": True, "pid": os.getpid()}).encode())
    try:
        request = json.loads(connection.recv_bytes(MAX_HEADER_BYTES))
    except (EOFError, OSError):
        os._exit(0)
    header, payload = _serve(request)
    try:
        connection.send_bytes(json.dumps(header).encode())
        connection.send_bytes(payload)
        connection.close()
    finally:
        os._exit(0)  # TensorFlow's teardown is slow, and there is nothing to keep


def _limit_resources(memory_bytes, cpu_seconds):
    """RLIMIT_DATA (private writable memory: what a load allocates, measured to work with
    TensorFlow where RLIMIT_AS does not), RLIMIT_CPU, RLIMIT_FSIZE, no core files. POSIX only."""
    try:
        import resource
    except ImportError:  # Windows: the parent's time limit is what remains
        return

    def status(field):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
        return None

    def lower(limit, value):
        try:
            soft, hard = resource.getrlimit(limit)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(limit, (value, value))
        except (ValueError, OSError):  # a platform that does not offer this limit (macOS: RLIMIT_DATA)
            pass

    try:
        data = status("VmData")
    except OSError:
        data = None
    if data is not None:
        lower(resource.RLIMIT_DATA, data + memory_bytes)
    used = resource.getrusage(resource.RUSAGE_SELF)
    lower(resource.RLIMIT_CPU, int(used.ru_utime + used.ru_stime) + cpu_seconds)
    lower(resource.RLIMIT_FSIZE, 2 * MAX_UPLOAD_BYTES)  # Keras may unpack the weights next to the file
    lower(resource.RLIMIT_CORE, 0)


def _serve(request):
    """One request, in the loader: (header, payload). Refusals go back as code and details."""
    import numpy as np

    started = time.perf_counter()
    try:
        check_keras_version()
        path = request["path"]
        with open(path, "rb") as f:
            data = f.read(MAX_UPLOAD_BYTES + 1)
        if request["op"] == "load_model":
            model, config = _load_model_here(path, data)
        elif request["op"] == "load_weights":
            model, config = _load_weights_here(path, data, request["architecture"]), None
        else:
            raise UnsafeModel("loader_failed", "unknown request")
        arrays = [np.ascontiguousarray(w).astype(np.dtype(w.dtype).newbyteorder("<"), copy=False)
                  for w in model.get_weights()]
        header = {"ok": True, "config": config,
                  "arrays": [{"dtype": a.dtype.str, "shape": list(a.shape)} for a in arrays],
                  "timings": {"in_loader": time.perf_counter() - started}}
        return header, b"".join(a.tobytes() for a in arrays)
    except SavingError as e:
        return _refusal(type(e).__name__, e.code, str(e), e.details), b""
    except MemoryError:
        return _refusal("UnsafeModel", "too_much_memory", "out of memory", {}), b""
    except Exception as e:  # Keras refused the file: say what it said
        if type(e).__name__ == "ResourceExhaustedError":
            return _refusal("UnsafeModel", "too_much_memory", "out of memory", {}), b""
        return _refusal("BadArchive", "load_failed", plain_line(e), {"message": plain_line(e)}), b""


def _refusal(kind, code, message, details):
    return {"ok": False, "kind": kind, "code": code, "message": message[:300], "details": details}


def _load_model_here(path, data):
    """Check again what the parent checked, check the weights' layout, then let Keras load it."""
    import keras

    info = inspect_archive(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        weights = read_member(archive, archive.getinfo("model.weights.h5"))
    _check_layout(deserialize(info.config), io.BytesIO(weights), os.path.dirname(path))
    model = keras.saving.load_model(path, safe_mode=True, compile=False)
    return model, keras.saving.serialize_keras_object(model)


def _load_weights_here(path, data, architecture):
    """Weights only: into the architecture the app sent, never as a whole model."""
    check_upload_size(data, MAX_UPLOAD_BYTES)
    config = json.loads(architecture)
    check_config(config)
    model = deserialize(config)
    _check_layout(model, path, os.path.dirname(path))
    model.load_weights(path)
    return model


def _check_layout(model, weights_file, directory):
    """Every weight the model has, with its shape, is in the HDF5 file, and nothing else is
    (an optimizer's state aside: `compile=False` skips it). The layout Keras expects comes from
    Keras itself: the fresh model's own weights, saved next to the upload."""
    import h5py

    expected_path = os.path.join(directory, "expected.weights.h5")
    model.save_weights(expected_path)
    with h5py.File(expected_path, "r") as f:
        expected = _h5_datasets(f)
        names = {path: _variable_name(f, model, path) for path in expected}
    os.remove(expected_path)
    # Report the first problem in the model's own order (input to output), not the file's.
    order = {weight_label(w): k for k, w in enumerate(model.weights)}
    expected = dict(sorted(expected.items(), key=lambda item: order.get(names[item[0]], len(order))))
    try:
        found_file = h5py.File(weights_file, "r")
    except Exception:
        raise BadArchive("bad_weights", "the weights are not a readable HDF5 file", name="model.weights.h5")
    with found_file:
        if "model_config" in found_file.attrs:  # a legacy whole-model .h5, not weights
            raise BadArchive("legacy_h5", "a legacy .h5 model")
        found = _h5_datasets(found_file)
    for path, (shape, kind) in expected.items():
        if path not in found:
            raise BadArchive("weights_missing", f"no {path}", variable=names[path])
        found_shape, found_kind = found[path]
        if found_shape != shape or (kind == "f") != (found_kind == "f"):
            raise BadArchive("weights_mismatch", f"{path}: {found_shape}, expected {shape}", variable=names[path],
                             expected=shape_text(shape), found=shape_text(found_shape))
    for path in found:
        if path not in expected and not path.startswith("optimizer/"):
            raise BadArchive("weights_extra", f"unexpected {path}", variable=path[:200])


def _h5_datasets(h5file):
    """{path: (shape, dtype kind)} of every dataset, reading metadata only. Links, external
    storage, virtual datasets and odd types are refused: they would read other files."""
    import h5py

    out, stack, count = {}, [("", h5file, 0)], 0
    while stack:
        prefix, group, depth = stack.pop(0)
        if depth > 16:
            raise BadArchive("bad_weights", "too deep", name="model.weights.h5")
        for key in group:
            count += 1
            if count > MAX_H5_OBJECTS:
                raise BadArchive("bad_weights", "too many objects", name="model.weights.h5")
            path = prefix + key
            if not isinstance(group.get(key, getlink=True), h5py.HardLink):
                raise BadArchive("h5_link", f"{path} is a link", name=path[:200])
            item = group.get(key)
            if isinstance(item, h5py.Group):
                stack.append((path + "/", item, depth + 1))
            elif isinstance(item, h5py.Dataset):
                if item.external or item.is_virtual:
                    raise BadArchive("h5_link", f"{path} reads another file", name=path[:200])
                if item.dtype.names or item.dtype.kind not in "fiub":
                    raise BadArchive("bad_weights", f"{path} holds {item.dtype}", name=path[:200])
                out[path] = (tuple(int(d) for d in item.shape), item.dtype.kind)
            else:
                raise BadArchive("bad_weights", f"{path} is neither group nor dataset", name=path[:200])
    return out


def _variable_name(h5file, model, path):
    """'dense_3/kernel' for 'layers/dense/vars/0': the layer's name is an attribute of the group."""
    group, _, index = path.rpartition("/")
    try:
        layer = model.get_layer(str(h5file[group].attrs["name"]))
        return weight_label(layer.weights[int(index)])
    except Exception:
        return path
