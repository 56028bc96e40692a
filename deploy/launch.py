"""Keras Classroom as several replicas behind nginx, on one machine: one address for the class.

    python deploy/launch.py --replicas 2 --port 8080

starts N `streamlit run streamlit_app.py` processes on loopback ports (headless; through
deploy/replica.py, so each imports TensorFlow and readies the class model from its start, not at
its first student's first page, a restarted one too), writes the nginx
configuration (rendered from deploy/nginx/*.template) into a private temporary directory, starts
Debian's nginx in front as the current user (its pid file, logs and temporary files in that
directory: no root, nothing in /etc), waits until every replica and the proxy answer
/_stcore/health, then looks after them — a replica whose process ends, or that stops answering
its health check, is restarted — until Ctrl-C or SIGTERM stops them all.

Tests (tests/test_deploy.py) use the same code as a context manager:

    with Classroom(replicas=2, port=port, host="127.0.0.1") as classroom:
        ...  # classroom.url, classroom.stop_replica(0), classroom.replica_named("r1")

Why the proxy is configured as it is: see the comments in deploy/nginx/classroom.conf.template.
"""
import argparse
import contextlib
import dataclasses
import getpass
import os
import pathlib
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
TEMPLATES = pathlib.Path(__file__).resolve().parent / "nginx"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
REDIS_MEMORY = "256mb"  # the class's store: what a lecture hall's progress and pushes need, many times over
COOKIE = "classroom_replica"  # the sticky cookie nginx sets: the name of the replica that has the session
FIRST_PORT = 8501
# `--replicas auto`: one replica per core. A Streamlit server runs every student's page in Python
# threads that take turns under one lock (the GIL), so a single process serving a class never used
# much more than one core: 0.78-0.80 of a core at 30 students, 0.92 at 100 (issue 23's run) while
# the second core idled (bench/class_load.py; deploy/README.md has the runs). A replica per core
# uses them all; more replicas than cores only add memory (each imports TensorFlow: ~0.5 GB).
CORES_PER_REPLICA = 1
HEALTH = "/_stcore/health"


def upload_limit_mb(config=ROOT / ".streamlit" / "config.toml"):
    """The app's server.maxUploadSize (MB), the one figure nginx's client_max_body_size must match
    (Streamlit's default, 200, when the config does not set it)."""
    with open(config, "rb") as f:
        return int(tomllib.load(f).get("server", {}).get("maxUploadSize", 200))


def render(template, **values):
    """A template from deploy/nginx/ with every {{name}} filled in (a name left over is a bug)."""
    text = (TEMPLATES / template).read_text()
    text = re.sub(r"\{\{(\w+)\}\}", lambda m: str(values[m.group(1)]), text)
    return text


def auto_replicas(cores=None):
    """How many replicas `--replicas auto` starts on a machine with `cores` (this one's by default:
    the cores this process may use)."""
    cores = cores or len(os.sched_getaffinity(0)) or os.cpu_count() or 1
    return max(1, cores // CORES_PER_REPLICA)


def replica_count(text):
    """`--replicas`: a number of replicas (at least 1), or "auto"."""
    if text == "auto":
        return auto_replicas()
    count = int(text)
    if count < 1:
        raise argparse.ArgumentTypeError(f"at least one replica, not {count}")
    return count


def replica_name(index):
    return f"r{index + 1}"


def site_config(ports, *, listen, upload_mb=None):
    """The http-level nginx configuration (upstreams, maps, server) for replicas on `ports`."""
    names = [replica_name(k) for k in range(len(ports))]
    server = "server 127.0.0.1:{} max_fails=1 fail_timeout=10s{}"
    replica_upstreams = []
    for k, (name, port) in enumerate(zip(names, ports)):
        others = [f"    server 127.0.0.1:{p} backup;" for p in ports if p != port]
        replica_upstreams.append("\n".join([f"upstream kc_{name} {{", f"    zone kc_{name} 64k;",
                                            "    " + server.format(port, ";"), *others, "}"]))
    return render(
        "classroom.conf.template",
        replica_count=len(ports), cookie=COOKIE, listen=listen,
        upload_mb=upload_limit_mb() if upload_mb is None else upload_mb,
        answered_by="\n".join(f'    "~(^|\\s)127\\.0\\.0\\.1:{port}$" {name};' for name, port in zip(names, ports)),
        by_cookie="\n".join(f"    {name} kc_{name};" for name in names),
        any_servers="\n".join("    " + server.format(port, ";") for port in ports),
        replica_upstreams="\n\n".join(replica_upstreams))


def main_config(directory):
    """nginx.conf for running nginx from `directory`, as the current user. The `user` directive
    only means something to a master process started as root (nginx ignores it otherwise, with a
    warning): then the workers stay root too instead of becoming `nobody`, who could not write
    in the private directory."""
    user = f"user {getpass.getuser()};" if os.geteuid() == 0 else ""
    return render("nginx.conf.template", dir=directory, user=user, cookie=COOKIE)


def free_ports(count, host="127.0.0.1"):
    """`count` ports free on `host` right now (each bound and released; a race with another program
    is possible but harmless: its replica then fails to start and the launcher says so)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind((host, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _redis_answers(port):
    """Does a redis-server on loopback `port` answer PING (in its own protocol, no client needed)?"""
    with contextlib.suppress(OSError):
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    return False


def healthy(url, timeout=2.0):
    with contextlib.suppress(OSError, ValueError):
        with urllib.request.urlopen(url + HEALTH, timeout=timeout) as response:
            return response.status == 200 and response.read().strip() == b"ok"
    return False


@dataclasses.dataclass
class Replica:
    index: int
    port: int
    process: subprocess.Popen = None
    stopped: bool = False  # on purpose (stop_replica): not to be restarted
    failed_checks: int = 0

    @property
    def name(self):
        return replica_name(self.index)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self):
        return self.process is not None and self.process.poll() is None


class Classroom:
    """N replicas and nginx in front; `start()`/`stop()`, or use it as a context manager.

    replicas: how many `streamlit run` processes; port/host: where nginx listens (the class's
    address); ports: the replicas' loopback ports (default 8501, 8502, ...); trainers: training
    workers per replica (KERAS_CLASSROOM_TRAINERS; default: one per two cores shared out, 1 to 4 each);
    nginx: its binary, or None for the replicas alone; store: the class's store every replica
    shares — "redis" (a Debian redis-server started here, on loopback), a URL
    (KERAS_CLASSROOM_STORE: redis://…), or None (each replica's default: one SQLite file).
    The teacher's key is KERAS_CLASSROOM_TEACHER_KEY, or one made here for every replica.
    """

    def __init__(self, replicas=2, *, port=8080, host="0.0.0.0", ports=None, trainers=None, nginx=NGINX,
                 store="redis", log=sys.stderr, startup_timeout=180):
        self.port, self.host, self.nginx_binary, self.log = port, host, nginx, log
        self.store, self.store_url, self.redis = store, None if store in (None, "redis") else store, None
        # one key for every replica (as lib.classroom.teacher.make_key makes them: this file runs alone)
        self.teacher_key = os.environ.get("KERAS_CLASSROOM_TEACHER_KEY") or secrets.token_urlsafe(9)
        ports = list(ports or range(FIRST_PORT, FIRST_PORT + replicas))
        if len(ports) != replicas:
            raise ValueError(f"{replicas} replicas need {replicas} ports, not {len(ports)}")
        self.replicas = [Replica(k, p) for k, p in enumerate(ports)]
        cores = os.cpu_count() or 2
        # One training worker per two cores, shared out over the replicas, at least 1 and at most 4
        # each: the server's own default (lib/training/runner.py says why).
        self.trainers = trainers or max(1, min(cores // 2 // replicas, 4))
        self.startup_timeout = startup_timeout
        self.cookie_secret = secrets.token_hex(32)  # the same on every replica, as Streamlit asks of replicas
        self.upload_mb = upload_limit_mb()
        self.directory = None
        self.nginx = None

    @property
    def url(self):
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    def say(self, text):
        if self.log:
            print(f"[classroom] {text}", file=self.log, flush=True)

    # --- start and stop ------------------------------------------------------------------------

    def start(self):
        self.directory = pathlib.Path(tempfile.mkdtemp(prefix="keras-classroom-"))  # mode 0700
        try:
            if self.store == "redis":
                self._start_redis()
            for replica in self.replicas:
                self._start_replica(replica)
            self._wait(lambda: all(healthy(r.url) for r in self.replicas), "the replicas")
            if self.nginx_binary is not None:
                self._start_nginx()
                self._wait(lambda: healthy(self.url), "nginx")
        except BaseException:
            self.stop()
            raise
        self.say(f"{len(self.replicas)} replicas ready" + (f" behind nginx at {self.url}" if self.nginx else "")
                 + f" (logs in {self.directory})")
        self.say(f"the class's store: {self.store_url or 'an SQLite file per machine'}; the teacher's key: "
                 f"{self.teacher_key} (open {self.url}/teacher)")
        return self

    def _start_redis(self):
        """Debian's redis-server on a free loopback port, in memory only (the class's store lives as
        long as the class), its memory capped: keys that expire go first when it is full."""
        if not os.access(REDIS, os.X_OK):
            raise RuntimeError(f"no redis-server at {REDIS} (Debian: apt-get install redis-server), "
                               "or give the class's store: --store redis://host:6379/0")
        taken = {self.port, *(r.port for r in self.replicas)}  # free now, but theirs in a moment
        port = next(p for p in iter(lambda: free_ports(1)[0], None) if p not in taken)
        with open(self.directory / "redis.log", "ab") as out:
            self.redis = subprocess.Popen(
                [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(self.directory), "--maxmemory", REDIS_MEMORY, "--maxmemory-policy", "volatile-lru"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        self.store_url = f"redis://127.0.0.1:{port}/0"
        deadline = time.time() + self.startup_timeout
        while not _redis_answers(port):  # (before the replicas: `_wait` would count them as stopped)
            if self.redis.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"redis-server did not start:\n{self._tail('redis.log')}")
            time.sleep(0.1)
        self.say(f"redis-server on 127.0.0.1:{port} (pid {self.redis.pid}), at most {REDIS_MEMORY}")

    def _start_replica(self, replica):
        env = dict(os.environ, PYTHONUNBUFFERED="1", KERAS_CLASSROOM_TRAINERS=str(self.trainers),
                   STREAMLIT_SERVER_COOKIE_SECRET=self.cookie_secret, KERAS_CLASSROOM_TEACHER_KEY=self.teacher_key)
        if self.store_url:
            env["KERAS_CLASSROOM_STORE"] = self.store_url
        log = open(self.directory / f"replica-{replica.name}.log", "ab")
        replica.process = subprocess.Popen(
            [sys.executable, "-m", "deploy.replica", "run", "streamlit_app.py", "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(replica.port),
             "--server.maxUploadSize", str(self.upload_mb)],  # what nginx was configured with, whatever the env says
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)  # its own process group: it and its training workers stop together
        log.close()
        replica.stopped, replica.failed_checks = False, 0
        self.say(f"replica {replica.name} starting on 127.0.0.1:{replica.port} (pid {replica.process.pid})")

    def _start_nginx(self):
        listen = f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"
        (self.directory / "classroom.conf").write_text(
            site_config([r.port for r in self.replicas], listen=listen, upload_mb=self.upload_mb))
        (self.directory / "nginx.conf").write_text(main_config(self.directory))
        if not os.access(self.nginx_binary, os.X_OK):
            raise RuntimeError(f"no nginx at {self.nginx_binary} (Debian: apt-get install nginx)")
        with open(self.directory / "nginx.out", "ab") as out:
            self.nginx = subprocess.Popen(
                [self.nginx_binary, "-p", str(self.directory), "-c", str(self.directory / "nginx.conf"),
                 "-e", str(self.directory / "error.log")],  # -e: not even a first line to /var/log/nginx
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        self.say(f"nginx starting on {listen} (pid {self.nginx.pid})")

    def _wait(self, ready, what):
        deadline = time.time() + self.startup_timeout
        while not ready():
            if self.nginx is not None and self.nginx.poll() is not None:
                raise RuntimeError(f"nginx stopped:\n{self._tail('nginx.out')}\n{self._tail('error.log')}")
            dead = [r for r in self.replicas if not r.running and not r.stopped]
            if dead:
                raise RuntimeError(f"replica {dead[0].name} stopped:\n{self._tail(f'replica-{dead[0].name}.log')}")
            if self.redis is not None and self.redis.poll() is not None:
                raise RuntimeError(f"redis-server stopped:\n{self._tail('redis.log')}")
            if time.time() > deadline:
                raise RuntimeError(f"{what} did not answer {HEALTH} within {self.startup_timeout} s")
            time.sleep(0.2)

    def _tail(self, name, lines=30):
        with contextlib.suppress(OSError):
            return "\n".join((self.directory / name).read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self):
        """Stop nginx (gracefully, then for good), then every replica with its training workers."""
        if self.nginx is not None:
            _stop(self.nginx, signal.SIGQUIT, group=False)
            self.nginx = None
        for replica in self.replicas:
            if replica.process is not None:
                _stop(replica.process, signal.SIGTERM, group=True)
        if self.redis is not None:  # after the replicas: nothing of the class is lost while they stop
            _stop(self.redis, signal.SIGTERM, group=False)
            self.redis = None
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- during a class ------------------------------------------------------------------------

    def stop_replica(self, index):
        """Stop one replica mid-class, for good (what a crashed or drained server looks like)."""
        replica = self.replicas[index]
        replica.stopped = True
        _stop(replica.process, signal.SIGTERM, group=True)
        self.say(f"replica {replica.name} stopped")

    def replica_named(self, name):
        """The replica a sticky cookie's value names."""
        return next(r for r in self.replicas if r.name == name)

    def look_after(self, every=5.0, unhealthy_after=6):
        """Poll every replica's /_stcore/health (open-source nginx has no active health checks);
        restart one whose process has ended, or that failed `unhealthy_after` checks in a row
        (hung). Returns only by an exception: nginx stopped, or Ctrl-C."""
        while self.nginx is None or self.nginx.poll() is None:
            for replica in self.replicas:
                if replica.stopped:
                    continue
                if not replica.running:
                    self.say(f"replica {replica.name} ended (exit {replica.process.returncode}): restarting it")
                    self._start_replica(replica)
                    continue
                replica.failed_checks = 0 if healthy(replica.url, timeout=every) else replica.failed_checks + 1
                if replica.failed_checks >= unhealthy_after:
                    self.say(f"replica {replica.name} failed {replica.failed_checks} health checks: restarting it")
                    _stop(replica.process, signal.SIGTERM, group=True)
                    self._start_replica(replica)
            time.sleep(every)
        raise RuntimeError(f"nginx stopped:\n{self._tail('error.log')}")


def _stop(process, sig, *, group, timeout=10):
    """Signal one process we started (or its own process group), wait, then kill what is left."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig) if group else process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL) if group else process.kill()
            process.wait(5)
    if group:  # the replica's training workers, should any outlive it
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=replica_count, default=2,
                        help="how many Streamlit processes, or auto: one per core (default 2)")
    parser.add_argument("--port", type=int, default=8080, help="nginx's port, the class's address (default 8080)")
    parser.add_argument("--host", default="0.0.0.0", help="nginx's address (default 0.0.0.0: the whole network)")
    parser.add_argument("--first-port", type=int, default=FIRST_PORT,
                        help=f"the first replica's loopback port; the others follow (default {FIRST_PORT})")
    parser.add_argument("--trainers", type=int, default=None,
                        help="training workers per replica (KERAS_CLASSROOM_TRAINERS; default: cores / 2 / replicas, 1 to 4)")
    parser.add_argument("--store", default="redis",
                        help="the class's store every replica shares: redis (a redis-server started here, the "
                             "default), a redis://host:port/db URL, or sqlite (each machine's own file)")
    parser.add_argument("--print-site", action="store_true",
                        help="print the nginx site configuration for these replicas (for /etc/nginx/conf.d/) and exit")
    parser.add_argument("--no-nginx", action="store_true",
                        help="start and look after the replicas only (behind an nginx of your own, with --print-site)")
    args = parser.parse_args(argv)
    ports = list(range(args.first_port, args.first_port + args.replicas))
    if args.print_site:
        print(site_config(ports, listen=str(args.port) if args.host == "0.0.0.0" else f"{args.host}:{args.port}"))
        return 0
    classroom = Classroom(args.replicas, port=args.port, host=args.host, ports=ports, trainers=args.trainers,
                          nginx=None if args.no_nginx else NGINX,
                          store=None if args.store == "sqlite" else args.store)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # leaves through the `finally` below
    try:
        classroom.start()
        where = f"nginx on port {args.port}" if not args.no_nginx else f"ports {ports[0]}-{ports[-1]}, no nginx"
        print(f"Keras Classroom: {args.replicas} replicas, {where}. Ctrl-C stops them all.", flush=True)
        classroom.look_after()
    except KeyboardInterrupt:
        pass
    finally:
        classroom.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
