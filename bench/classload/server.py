"""The server under test: `streamlit run` started here on a free port, or one already running.

Only addresses on this machine are accepted (a load test sends its traffic to loopback only).
"""
import contextlib
import ipaddress
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from urllib.parse import urlsplit

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


LAUNCHER = ("import os, runpy, sys; sys.argv = os.environ.pop('CLASSLOAD_ARGV').split('\\x1f'); "
            "runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_loopback(url):
    """Refuse any address that is not this machine."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise SystemExit(f"{url}: only a server on this machine (127.0.0.1, localhost, [::1]) may be load-tested")


def wait_healthy(base, timeout=120.0, process=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode}")
        with contextlib.suppress(OSError):
            if urllib.request.urlopen(base + "/_stcore/health", timeout=2).read().strip() == b"ok":
                return
        time.sleep(0.2)
    raise RuntimeError(f"{base} did not answer /_stcore/health within {timeout:.0f} s")


def _start(name, port, argv, cwd, log, env):
    """`python -m ARGV...` started through a small launcher so that its command line reads
    "NAME PORT": on a shared machine a `pkill -f streamlit` meant for someone else's server then
    does not end a measurement midway (it happened here)."""
    return subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, name, str(port)],
        cwd=cwd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        env=dict(os.environ, PYTHONUNBUFFERED="1", CLASSLOAD_ARGV="\x1f".join(argv), **env))


def _end(process, wait):
    """Terminate a process we started (it stops what it started), then kill it after `wait` s."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(wait)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _read(path):
    with contextlib.suppress(OSError), open(path, errors="replace") as f:
        return f.read()
    return ""


class Server:
    """A `streamlit run SCRIPT` in `app_dir` (the repo root by default), its log in a file."""

    def __init__(self, script="streamlit_app.py", app_dir=ROOT, env=(), args=(), log=None):
        self.script, self.app_dir = script, app_dir
        self.env, self.args = dict(env), list(args)
        self.log_path = log or tempfile.mktemp(prefix="classload-streamlit-", suffix=".log")
        self.process = None
        self.base = None

    def __enter__(self):
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self._log = open(self.log_path, "w")
        argv = ["streamlit", "run", self.script, "--server.headless", "true", "--server.port", str(port),
                "--server.address", "127.0.0.1", *self.args]
        self.process = _start("classload-server", port, argv, self.app_dir, self._log, self.env)
        try:
            wait_healthy(self.base, process=self.process)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    @property
    def pid(self):
        return self.process.pid

    def log_text(self):
        return _read(self.log_path)

    def __exit__(self, *exc):
        _end(self.process, 15)
        self._log.close()


class Lecture:
    """A lecture hall: `deploy/launch.py --replicas N` (N or "auto") in `app_dir`, its replicas
    behind nginx on loopback, the class's store in a redis-server of its own. `base` is nginx's
    address (the class's); `replicas` maps each replica's name (the sticky cookie's value) to its
    process id once it is ready. The same interface as Server otherwise."""

    def __init__(self, replicas, app_dir=ROOT, env=(), log=None, timeout=240.0):
        self.replicas_asked, self.app_dir, self.env = str(replicas), app_dir, dict(env)
        self.log_path = log or tempfile.mktemp(prefix="classload-lecture-", suffix=".log")
        self.timeout = timeout
        self.process = None
        self.base = None
        self.replicas = {}  # name -> pid
        self.replica_urls = {}  # name -> its own loopback address (behind nginx)
        self._logs = ""

    def __enter__(self):
        port, first = free_port(), free_port()
        self.base = f"http://127.0.0.1:{port}"
        self._log = open(self.log_path, "w")
        argv = ["deploy.launch", "--replicas", self.replicas_asked, "--port", str(port), "--host", "127.0.0.1",
                "--first-port", str(first)]
        self.process = _start("classload-lecture", port, argv, self.app_dir, self._log, self.env)
        try:
            deadline = time.time() + self.timeout
            while "replicas ready" not in self._launcher_text():
                if self.process.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"deploy/launch.py did not start the replicas:\n{self._launcher_text()[-3000:]}")
                time.sleep(0.2)
            wait_healthy(self.base, process=self.process)
            names = re.findall(r"replica (r\d+) starting on 127\.0\.0\.1:(\d+)", self._launcher_text())
            self.replicas = {name: pid_listening_on(int(p)) for name, p in names}
            self.replica_urls = {name: f"http://127.0.0.1:{p}" for name, p in names}
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    @property
    def pid(self):
        """Every replica's process id (procmon samples each tree and sums them)."""
        return tuple(self.replicas.values())

    def _launcher_text(self):
        return _read(self.log_path)

    def log_text(self):
        """The replicas' logs (read while they run: the launcher removes its directory when it stops)."""
        found = re.search(r"\(logs in (\S+)\)", self._launcher_text())
        if found:
            texts = []
            for name in sorted(self.replicas):
                with contextlib.suppress(OSError), open(os.path.join(found.group(1), f"replica-{name}.log"),
                                                        errors="replace") as f:
                    texts.append(f.read())
            self._logs = "\n".join(texts) or self._logs
            with contextlib.suppress(OSError), open(self.log_path + ".replicas", "w") as kept:
                kept.write(self._logs)  # (the launcher's directory goes when it stops: a traceback stays here)
        return self._logs

    def __exit__(self, *exc):
        if self.process is not None and self.process.poll() is None:
            self.log_text()
        _end(self.process, 60)  # the launcher stops nginx, the replicas and redis-server
        self._log.close()


def pid_listening_on(port):
    """The pid of the process listening on a local TCP port (from /proc/net/tcp*), or None."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                    inodes.add(fields[9])
    if not inodes:
        return None
    wanted = {f"socket:[{i}]" for i in inodes}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") in wanted:
                        return int(pid)
    return None


def tracebacks(log_text):
    """The last line (the exception) of each traceback in a server log."""
    out, lines = [], log_text.splitlines()
    for i, line in enumerate(lines):
        if "Traceback" in line:
            for follow in lines[i + 1:i + 200]:
                plain = _strip_ansi(follow).strip(" │─╭╮╰╯\u2500\u2502")
                if plain and ":" in plain and not plain.startswith(("File", "/", "❱")) and \
                        plain.split(":", 1)[0].replace(".", "").isidentifier() and \
                        plain.split(":", 1)[0][:1].isupper():
                    out.append(plain[:300])
                    break
            else:
                out.append("(traceback without a final line)")
    return out


def _strip_ansi(text):
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)
