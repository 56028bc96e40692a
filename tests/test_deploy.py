"""Beyond one machine (deploy/): the app as several replicas behind nginx, and what a student sees
when their replica goes away.

- The proxy configuration and the Kubernetes manifests agree with the app (upload limit, health
  path, websocket timeouts, cookie affinity, worker count), so they cannot rot silently.
- The notice that a session started afresh: shown exactly when a browser that had a session
  arrives at a server that does not know it (AppTest; then Chromium and a plain server restarted).
- A class through real nginx and Chromium: two students (two browser contexts, so two cookie
  jars) keep their own state across reruns and page switches, a training run streams its epochs,
  an upload works, and when one replica stops its students are moved to the other and told so
  while the other replica's students notice nothing.

nginx is Debian's (`apt-get install nginx`; installed here when missing and possible). Without
nginx or a browser these tests skip, except under CI=true, where they fail.
"""
import contextlib
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import tomllib
import urllib.parse

import numpy as np
import pytest
import yaml

from deploy import launch
from lib import i18n, ui
from tests.helpers import ROOT, wait_until
from tests.test_browser import CHROMIUM, CHROMIUM_FLAGS, POINTS_JS, _need_browser, new_tab, settle

PICTURES_JS = "() => JSON.stringify([...document.querySelectorAll('[data-testid=stImage] img')].map(i => i.src))"

UPLOAD_MB = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]["maxUploadSize"]
HEALTH = "/_stcore/health"
K8S = ROOT / "deploy" / "k8s"
CI = os.environ.get("CI") == "true"


def _nginx():
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def _need_nginx():
    """Debian's nginx, installed with apt-get when missing (as .ci/run does); else skip, or fail in CI."""
    if _nginx() is None:
        sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run([*sudo, "apt-get", "update", "-qq"], env=env, timeout=300, capture_output=True)
            subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "nginx"], env=env, timeout=600,
                           capture_output=True)
    if _nginx() is None:
        if CI:
            pytest.fail("the deploy tests must run in CI, but nginx is missing and could not be installed")
        pytest.skip("no nginx (apt-get install nginx)")
    return _nginx()


# --- The configuration agrees with the app ---------------------------------------------------------

def test_nginx_takes_exactly_the_uploads_the_app_takes():
    site = launch.site_config([8501, 8502], listen="8080")
    assert f"client_max_body_size {UPLOAD_MB}m;" in site  # nginx's m and Streamlit's MB are both MiB
    assert launch.upload_limit_mb() == UPLOAD_MB


def test_nginx_upgrades_the_websocket_with_long_timeouts_and_keeps_the_host():
    site = "\n".join(line.split("#")[0] for line in launch.site_config([8501, 8502, 8503], listen="8080").splitlines())
    stream = site[site.index("location = /_stcore/stream"):]
    stream = stream[:stream.index("}")]
    for line in ("proxy_http_version 1.1;", "proxy_set_header Upgrade $http_upgrade;",
                 "proxy_set_header Connection $connection_upgrade;", "proxy_set_header Host $http_host;",
                 "proxy_read_timeout 1h;", "proxy_send_timeout 1h;"):
        assert line in stream
    assert site.count("proxy_set_header Host $http_host;") == 2  # in both locations: Streamlit compares Origin and Host
    assert "ip_hash" not in site and "sticky" not in site
    for k, port in enumerate([8501, 8502, 8503]):  # each replica's own pool, the others as backups
        pool = site[site.index(f"upstream kc_r{k + 1} {{"):]
        pool = pool[:pool.index("}")]
        assert f"server 127.0.0.1:{port} max_fails=1" in pool and pool.count("backup;") == 2


def test_the_rendered_nginx_configuration_is_valid(tmp_path):
    nginx = _need_nginx()
    (tmp_path / "classroom.conf").write_text(launch.site_config([8501, 8502], listen="127.0.0.1:8080"))
    (tmp_path / "nginx.conf").write_text(launch.main_config(tmp_path))
    result = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                             "-e", str(tmp_path / "error.log")], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "[warn]" not in result.stderr and "[emerg]" not in result.stderr


def test_replicas_auto_is_one_per_core_and_a_count_is_at_least_one():
    assert [launch.auto_replicas(cores) for cores in (1, 2, 8)] == [1, 2, 8]
    assert launch.replica_count("auto") == launch.auto_replicas() == len(os.sched_getaffinity(0))
    assert launch.replica_count("3") == 3
    with pytest.raises(Exception, match="at least one replica, not 0"):
        launch.replica_count("0")


def _manifests():
    """Every document of deploy/k8s, by (kind, name)."""
    documents = [d for path in sorted(K8S.glob("*.yaml")) for d in yaml.safe_load_all(path.read_text()) if d]
    return {(d["kind"], d["metadata"]["name"]): d for d in documents}


def test_the_kubernetes_manifests_probe_health_and_take_the_apps_uploads():
    manifests = _manifests()
    assert set(manifests) == {("Deployment", "keras-classroom"), ("Service", "keras-classroom"),
                              ("Ingress", "keras-classroom"), ("Deployment", "keras-classroom-redis"),
                              ("Service", "keras-classroom-redis")}
    deployment, service, ingress = (manifests[kind, "keras-classroom"] for kind in ("Deployment", "Service", "Ingress"))
    pod = deployment["spec"]["template"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    (container,) = pod["spec"]["containers"]
    assert container["command"][-4:] == ["-m", "deploy.replica", "run", "streamlit_app.py"]  # prepares at once
    port = {p["name"]: p["containerPort"] for p in container["ports"]}["http"]
    assert f"--server.port={port}" in container["args"] and "--server.headless=true" in container["args"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": HEALTH, "port": "http"}, probe
    env = {e["name"]: e for e in container["env"]}
    assert int(env["KERAS_CLASSROOM_TRAINERS"]["value"]) >= 1
    assert env["STREAMLIT_SERVER_COOKIE_SECRET"]["valueFrom"]["secretKeyRef"]["key"] == "cookie-secret"
    resources = container["resources"]
    unit = {"Mi": 2 ** 20, "Gi": 2 ** 30}
    memory = {k: int(v["memory"][:-2]) * unit[v["memory"][-2:]] for k, v in resources.items()}
    assert 1506 * 2 ** 20 < memory["requests"] < memory["limits"]  # measured: 1506 MiB (PSS) at a class's peak

    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    assert service["spec"]["ports"][0]["targetPort"] == "http"

    notes = ingress["metadata"]["annotations"]
    prefix = "nginx.ingress.kubernetes.io/"
    assert notes[prefix + "affinity"] == "cookie"
    assert notes[prefix + "affinity-mode"] == "persistent"
    assert notes[prefix + "session-cookie-name"] == launch.COOKIE
    assert notes[prefix + "session-cookie-change-on-failure"] == "true"
    assert int(notes[prefix + "proxy-read-timeout"]) >= 3600 and int(notes[prefix + "proxy-send-timeout"]) >= 3600
    assert notes[prefix + "proxy-body-size"] == f"{UPLOAD_MB}m"
    (path,) = ingress["spec"]["rules"][0]["http"]["paths"]
    assert path["backend"]["service"] == {"name": service["metadata"]["name"], "port": {"name": "http"}}


def test_the_kubernetes_replicas_share_one_bounded_redis_as_the_class_store():
    manifests = _manifests()
    (app,) = manifests["Deployment", "keras-classroom"]["spec"]["template"]["spec"]["containers"]
    redis, service = manifests["Deployment", "keras-classroom-redis"], manifests["Service", "keras-classroom-redis"]
    (server,) = redis["spec"]["template"]["spec"]["containers"]
    assert redis["spec"]["replicas"] == 1  # one class, one store
    assert service["spec"]["selector"].items() <= redis["spec"]["template"]["metadata"]["labels"].items()
    port = {p["name"]: p["containerPort"] for p in server["ports"]}["redis"]
    assert service["spec"]["ports"][0]["targetPort"] == "redis"
    env = {e["name"]: e for e in app["env"]}
    url = urllib.parse.urlsplit(env["KERAS_CLASSROOM_STORE"]["value"])
    assert (url.scheme, url.hostname) == ("redis", service["metadata"]["name"])
    assert url.port == service["spec"]["ports"][0]["port"] == port
    assert env["KERAS_CLASSROOM_TEACHER_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "keras-classroom", "key": "teacher-key", "optional": True}
    # The same bounds as the launcher's redis-server: in memory, at most REDIS_MEMORY, keys with a TTL go first.
    args = dict(zip(server["args"][::2], server["args"][1::2]))
    assert args == {"--save": "", "--appendonly": "no", "--maxmemory": launch.REDIS_MEMORY,
                    "--maxmemory-policy": "volatile-lru"}
    assert launch.REDIS_MEMORY.endswith("mb") and server["resources"]["limits"]["memory"].endswith("Mi")
    # (Redis's "mb" is 2**20 bytes, as Kubernetes's Mi): the pod may hold the data and Redis itself.
    assert int(server["resources"]["limits"]["memory"][:-2]) > int(launch.REDIS_MEMORY[:-2])


# --- The notice, under AppTest: what the handshake says decides -------------------------------------

class _Client:
    """What st.context reads of a session's browser connection: the websocket handshake's headers."""

    def __init__(self, protocol):
        self.headers, self.cookies, self.remote_ip = [("Sec-WebSocket-Protocol", protocol)], {}, None


def _open_app(monkeypatch, protocol, lang="en"):
    """The app under AppTest, its session connected with a handshake naming `protocol`'s sessions."""
    from streamlit.runtime import context
    from streamlit.testing.v1 import AppTest

    monkeypatch.setattr(context, "_get_client_context", lambda: _Client(protocol))
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.query_params["lang"] = lang
    at.run()
    assert not at.exception, at.exception
    return at


def _notices(at):
    return [box.value for box in at.info]


@pytest.mark.parametrize("lang", list(i18n.LANGUAGES))
def test_a_session_replacing_one_from_another_server_says_so_until_the_student_leaves_the_page(monkeypatch, lang):
    at = _open_app(monkeypatch, "streamlit, xsrf-token, 0c0ffee0-a-session-of-another-server", lang)
    said = i18n.translate("deploy.afresh", lang)
    assert said in _notices(at)
    at.run()  # a rerun on the same page: still said
    assert said in _notices(at)
    at.switch_page(ui.page_info("glossary").file)
    at.run()
    assert said not in _notices(at) and not at.exception


def test_a_first_visit_is_not_told_anything(monkeypatch):
    at = _open_app(monkeypatch, "streamlit, xsrf-token")
    assert not [n for n in _notices(at) if n in (i18n.translate("deploy.afresh", "en"),
                                                  i18n.translate("deploy.expired", "en"))]


def test_a_session_this_server_forgot_is_told_it_was_away_too_long(monkeypatch):
    """AppTest's sessions all have one id: the handshake names a session this server has started."""
    _open_app(monkeypatch, "streamlit, xsrf-token")
    at = _open_app(monkeypatch, "streamlit, xsrf-token, test session id")
    assert i18n.translate("deploy.expired", "en") in _notices(at)


# --- The notice, in a browser, with a plain server restarted on its port -----------------------------

@pytest.fixture(scope="module")
def browser():
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@contextlib.contextmanager
def plain_server(port, module="streamlit"):
    """`python -m MODULE run streamlit_app.py` on `port` (Streamlit, or deploy.replica as the launcher
    starts a replica), its process given, stopped (with its workers) on leaving."""
    server = subprocess.Popen(
        [sys.executable, "-m", module, "run", "streamlit_app.py", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until(lambda: launch.healthy(f"http://127.0.0.1:{port}") or server.poll() is not None, 180,
                   "streamlit did not start", interval=0.1)
        assert server.poll() is None, f"streamlit exited ({server.returncode}) while starting"
        assert listens(server.pid, port), f"port {port} answers, but from another process than this test's"
        yield server
    finally:
        launch._stop(server, signal.SIGTERM, group=True)


def listens(pid, port):
    """Whether process `pid` holds the socket listening on 127.0.0.1:`port`. A free port is found
    by binding and releasing it: another test's server, started in the same moment by the other
    pytest worker, may have been given it too (a replica binds only after its imports)."""
    address = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table.read().splitlines()[1:]]
    sockets = {f"socket:[{row[9]}]" for row in rows if row[1] == address and row[3] == "0A"}  # 0A: LISTEN
    held = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            held.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
    return bool(sockets & held)


# Set in the tab when the page ever says it waits for TensorFlow or the class model (common.preparing).
SAW_WAITING_JS = """window.__waited = false;
new MutationObserver(() => {
    if (/TensorFlow is starting on this server|the server is getting the class model ready/.test(
            document.body ? document.body.innerText : "")) window.__waited = true;
}).observe(document, {subtree: true, childList: true, characterData: true});"""


@pytest.mark.browser
def test_a_replica_prepares_from_its_start_so_its_first_student_waits_for_nothing(browser):
    """deploy/replica.py, as the launcher and Kubernetes start a replica: TensorFlow, the class model
    and a training worker are readied before any student comes, so the first one to open Evaluate is
    not told to wait; a plain `streamlit run` prepares at its first page, and that student is told."""
    from bench.classload import procmon

    said = {}
    for module in ("deploy.replica", "streamlit"):
        port = launch.free_ports(1)[0]
        with plain_server(port, module) as server:
            if module == "deploy.replica":  # the worker starts once the class model is ready
                wait_until(lambda: procmon.descendants(server.pid), 180, "the replica never started its worker")
            tab = new_tab(browser)
            tab.add_init_script(SAW_WAITING_JS)
            tab.goto(f"http://127.0.0.1:{port}/evaluate?lang=en")
            settle(tab)
            assert tab.locator(".js-plotly-plot").count() >= 2  # the exam's charts: the page was drawn
            said[module] = tab.evaluate("window.__waited")
            tab.close()
    assert said == {"deploy.replica": False, "streamlit": True}


class Relay:
    """A TCP relay to a local port: `blip()` drops every connection through it, as a network hiccup
    does (the server stays up and keeps its sessions)."""

    def __init__(self, target):
        self.target, self.connections = target, []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        with contextlib.suppress(OSError):
            while True:
                client, _ = self.listener.accept()
                with contextlib.suppress(OSError):
                    server = socket.create_connection(("127.0.0.1", self.target))
                    self.connections += [client, server]
                    for a, b in ((client, server), (server, client)):
                        threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source, sink):
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def blip(self):
        for connection in self.connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self.connections = []

    def close(self):
        self.blip()
        self.listener.close()


def _student(browser, url):
    """A new student: a tab in its own browser context (its own cookies), noting its websockets."""
    tab = new_tab(browser)
    tab.sockets = []
    tab.on("websocket", lambda ws: tab.sockets.append(ws.url))
    tab.goto(url)
    settle(tab)
    return tab


def _wait_for_text(tab, text, timeout=120):
    wait_until(lambda: text in tab.inner_text('[data-testid="stApp"]'), timeout, f"the page never said {text!r}",
               interval=0.1)


@pytest.mark.browser
def test_a_browser_whose_server_restarted_is_told_at_once_and_a_resumed_or_new_one_is_not(browser):
    port = launch.free_ports(1)[0]
    relay = Relay(port)  # the browser's way to the server, which the test can cut
    said = i18n.translate("deploy.afresh", "ko")
    try:
        with plain_server(port):
            tab = _student(browser, f"http://127.0.0.1:{relay.port}/glossary?lang=ko")
            assert said not in tab.inner_text('[data-testid="stApp"]')  # a first visit
            relay.blip()  # the same server resumes the session: nothing to tell
            wait_until(lambda: len(tab.sockets) >= 2, 60, "the page did not reconnect after the blip", interval=0.1,
                       pause=lambda s: tab.wait_for_timeout(s * 1000))  # (Playwright reports events while it is called)
            assert len(tab.sockets) == 2
            settle(tab)
            assert said not in tab.inner_text('[data-testid="stApp"]')
        with plain_server(port):  # the same address, a new server process: the session is gone
            _wait_for_text(tab, said)  # without touching the page
            assert "lang=ko" in tab.evaluate("location.href")
            assert tab.locator('[data-testid="stMain"] h1').first.inner_text() == i18n.translate("glossary.title", "ko")
            tab.reload()  # a reload starts a new session on purpose: nothing to tell
            settle(tab)
            assert said not in tab.inner_text('[data-testid="stApp"]')
            tab.context.close()
    finally:
        relay.close()


# --- A class through nginx -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def classroom(browser):
    _need_nginx()
    *replica_ports, port = launch.free_ports(3)
    with launch.Classroom(2, port=port, host="127.0.0.1", ports=replica_ports, trainers=1, nginx=_nginx(),
                          log=None) as classroom:
        yield classroom


def replica_of(tab):
    return next(c["value"] for c in tab.context.cookies() if c["name"] == launch.COOKIE)


@pytest.fixture(scope="module")
def students(browser, classroom):
    """Two students on the two replicas: `a` (English) on the one the last test stops, `b` (Korean)."""
    a = _student(browser, f"{classroom.url}/filters?lang=en")
    b = _student(browser, f"{classroom.url}/filters?lang=ko")
    for _ in range(3):  # the least busy replica takes a newcomer: the other one, unless something else was open
        if replica_of(b) != replica_of(a):
            break
        b.context.close()
        b = _student(browser, f"{classroom.url}/filters?lang=ko")
    assert replica_of(a) != replica_of(b)
    yield a, b
    for tab in (a, b):
        tab.context.close()


def _slider(tab, label):
    return tab.locator('[data-testid="stSlider"]', has_text=label).locator('input[type="range"]')


def _go(tab, page_id, lang):
    """Through the sidebar, as a student does: the same session (a new address would be a new one)."""
    tab.locator('[data-testid="stSidebar"] a', has_text=i18n.translate(f"nav.{page_id}", lang)).first.click()
    settle(tab)
    assert tab.locator('[data-testid="stMain"] h1').first.inner_text() == i18n.translate(f"{page_id}.title", lang)


def _stride(tab, lang):
    return _slider(tab, i18n.translate("filters.stride", lang).split(" ")[0])


def _move(slider, tab):
    slider.focus()
    slider.press("ArrowRight")
    settle(tab)


def _settings(tab):
    """The page's settings as the address bar holds them."""
    return urllib.parse.parse_qs(urllib.parse.urlsplit(tab.url).query)


@pytest.mark.browser
def test_each_student_keeps_their_own_state_across_reruns_and_page_switches(students):
    a, b = students
    _move(_stride(a, "en"), a)
    _move(_stride(b, "ko"), b)
    _move(_stride(b, "ko"), b)
    a.stride, b.stride = _stride(a, "en").input_value(), _stride(b, "ko").input_value()
    assert (a.stride, b.stride) == ("2", "3")

    _go(a, "model", "en")
    stack = a.evaluate("location.href").split("model.stack=")[1]
    a.locator('[data-testid="stMain"] button', has_text=i18n.translate("model.add", "en")).first.click()
    settle(a)
    grown = a.evaluate("location.href").split("model.stack=")[1]
    assert grown.startswith(stack) and grown != stack
    _go(b, "model", "ko")
    assert b.evaluate("location.href").split("model.stack=")[1] == stack  # b's stack is not a's

    _go(a, "filters", "en")
    _go(b, "filters", "ko")
    assert (_stride(a, "en").input_value(), _stride(b, "ko").input_value()) == (a.stride, b.stride)
    _go(a, "model", "en")
    assert a.evaluate("location.href").split("model.stack=")[1] == grown
    _go(a, "filters", "en")
    assert [len(a.sockets), len(b.sockets)] == [1, 1]  # one websocket each, all along


@pytest.mark.browser
def test_a_training_run_streams_its_epochs_through_the_proxy(students):
    _, b = students
    _go(b, "training", "ko")
    epochs = _slider(b, i18n.translate("training.epochs", "ko"))
    for _ in range(3):  # 10 epochs + 3 × 10: long enough to be drawn several times on a busy machine too
        epochs.focus()
        epochs.press("PageUp")
        settle(b)
    assert epochs.input_value() == "40"
    b.evaluate(f"""() => {{ const points = {POINTS_JS}; window.curve = [];  // every size the live curve had
        setInterval(() => {{ const n = points(); if (window.curve.at(-1) !== n) window.curve.push(n); }}, 20); }}""")
    b.locator('[data-testid="stMain"] button', has_text="학습").first.click()
    stop = b.locator('[data-testid="stMain"] button', has_text=i18n.translate("training.stop", "ko")).first
    idle = b.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')

    def ended():  # the run has started, and ended: Stop is disabled again
        grown = [n for n in b.evaluate("window.curve") if n > 0]
        return grown if grown and stop.is_disabled() and idle.count() else None

    # (the trainer may still be importing TensorFlow on a busy machine: a generous deadline)
    grown = wait_until(ended, 240, lambda: f"the run never ended; the curve had {b.evaluate('window.curve')} points",
                       interval=0.1, pause=lambda s: b.wait_for_timeout(s * 1000))
    settle(b)
    assert len(grown) >= 2, grown  # the curve was drawn while it grew, not only at the end
    assert b.locator('[data-testid="stException"]').count() == 0
    assert b.locator('[data-testid="stDataFrame"]').count() >= 1  # the run is listed


def _png(height, width):
    import numpy as np
    from PIL import Image

    picture = io.BytesIO()
    Image.fromarray((np.arange(height * width) % 251).reshape(height, width).astype("uint8")).save(picture, "PNG")
    return picture.getvalue()


@pytest.mark.browser
def test_an_image_upload_goes_through_the_proxy(browser, classroom):
    tab = _student(browser, f"{classroom.url}/filters?filters.image=upload&lang=en")
    fallback = i18n.translate("image.upload_fallback", "en")
    assert fallback in tab.inner_text('[data-testid="stMain"]')
    tab.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        files=[{"name": "tiny.png", "mimeType": "image/png", "buffer": _png(37, 53)}])
    wait_until(lambda: fallback not in tab.inner_text('[data-testid="stMain"]'), 120,
               "the uploaded image never replaced the fallback", interval=0.1)
    settle(tab)
    assert fallback not in tab.inner_text('[data-testid="stMain"]')
    assert tab.locator('[data-testid="stAlertContentError"], [data-testid="stException"]').count() == 0
    assert i18n.translate("filters.fig.input", "en", shape="37×53") in tab.inner_text('[data-testid="stMain"]')
    tab.context.close()


def _sidebar_button(tab, text):
    return tab.locator('[data-testid="stSidebar"] button', has_text=text).first


def _student_id(tab):
    return next(c["value"] for c in tab.context.cookies() if c["name"] == ui.classroom.COOKIE)


def _checklist(tab):
    return tab.locator('[data-testid="stSidebar"] [data-testid="stExpander"] summary').last.inner_text()


@pytest.mark.browser
def test_the_students_of_both_replicas_are_one_class_for_the_teacher(browser, classroom, students):
    """One class in Redis: the teacher's view (on one replica) counts the students of both, a task
    done on one is kept by the class, and "bring the class here" reaches both replicas."""
    from lib.classroom import drawings, store as class_store

    a, b = students
    for tab, lang in ((a, "en"), (b, "ko")):
        if "/filters" not in tab.url:
            _go(tab, "filters", lang)
    _sidebar_button(a, "Horizontal edges only").click()  # a does a task: two hints, then "show me"
    settle(a)
    for text in ("A hint", "Another hint", "Show me"):
        _sidebar_button(a, text).click()
        settle(a)
    wait_until(lambda: "1 of " in _checklist(a), 60, lambda: f"the task was not done: {_checklist(a)!r}",
               interval=0.1, pause=lambda s: a.wait_for_timeout(s * 1000))
    kept = class_store.open_store(classroom.store_url)
    assert kept.records(_student_id(a))["filters.horizontal"]["status"] == "done"
    here = kept.present(ui.classroom.PRESENT_S)
    assert {_student_id(a), _student_id(b)} <= set(here)
    seven = np.zeros((28, 28))
    seven[5:8, 6:22], seven[8:24, 14:17] = 1.0, 1.0
    drawings.add(kept, _student_id(b), seven, 7)  # b's drawing, given on b's replica (the store is one)

    teacher = _student(browser, f"{classroom.url}/teacher?lang=en")
    teacher.locator('input[type="password"]').fill(classroom.teacher_key)
    teacher.locator('input[type="password"]').press("Enter")
    metric = teacher.locator('[data-testid="stMetricValue"]').first
    wait_until(lambda: metric.count() and metric.inner_text() == str(len(kept.present(ui.classroom.PRESENT_S))),
               60, "the class view did not count the class", interval=0.2,
               pause=lambda s: teacher.wait_for_timeout(s * 1000))
    assert f"{len(kept.drawings())} of at most {drawings.MAX_DRAWINGS}" in teacher.inner_text('[data-testid="stMain"]')
    _go(teacher, "optimizers", "en")
    _sidebar_button(teacher, "Bring the class here").click()
    settle(teacher)
    for tab, lang in ((a, "en"), (b, "ko")):  # each page asks the store every 10 s by itself
        said = i18n.translate("follow.teacher_is_on", lang, page=i18n.translate("nav.optimizers", lang))
        _wait_for_text(tab, said.replace("**", ""), timeout=60)  # (bold in Markdown: plain in the page's text)
        tab.locator('[data-testid="stMain"] button', has_text=i18n.translate("follow.stay", lang)).first.click()
        settle(tab)  # "not now": the student stays, and the banner goes
        assert said.replace("**", "") not in tab.inner_text('[data-testid="stMain"]')
    assert replica_of(a) != replica_of(b)
    a.checklist_after_task = _checklist(a)
    teacher.context.close()


@pytest.mark.browser
def test_when_a_replica_stops_its_students_move_to_another_and_are_told(browser, classroom, students):
    a, b = students
    if "/filters" not in a.url:
        _go(a, "filters", "en")
    moved, stays = replica_of(a), replica_of(b)
    a_settings, a_stride = _settings(a), _stride(a, "en").input_value()
    b_url, b_page = b.url, b.inner_text('[data-testid="stMain"]')
    said_en, said_ko = i18n.translate("deploy.afresh", "en"), i18n.translate("deploy.afresh", "ko")

    classroom.stop_replica(classroom.replica_named(moved).index)
    _wait_for_text(a, said_en)  # reconnected and rerun on the other replica, without a click
    settle(a)
    if hasattr(a, "checklist_after_task"):  # the task a did on the stopped replica: kept by the class's store
        assert _checklist(a) == a.checklist_after_task
    assert replica_of(a) == stays and len(a.sockets) == 2
    assert _settings(a) == a_settings and _stride(a, "en").input_value() == a_stride  # the address bar's settings
    before = a.evaluate(PICTURES_JS)  # and the page works: a control moved redraws the pictures
    _move(_stride(a, "en"), a)
    assert a.evaluate(PICTURES_JS) != before and a.locator('[data-testid="stException"]').count() == 0

    b.wait_for_timeout(1000)  # the other replica's students notice nothing: no reconnect, no notice, state kept
    assert len(b.sockets) == 1 and replica_of(b) == stays
    assert b.url == b_url and b.inner_text('[data-testid="stMain"]') == b_page  # (its run listed, its curve drawn)
    assert said_ko not in b.inner_text('[data-testid="stApp"]')
    _go(b, "filters", "ko")
    assert _stride(b, "ko").input_value() == getattr(b, "stride", "1")

    newcomer = _student(browser, f"{classroom.url}/?lang=en")  # a first visit now: nothing to tell
    assert replica_of(newcomer) == stays and said_en not in newcomer.inner_text('[data-testid="stApp"]')
    newcomer.context.close()
