"""One simulated student: a Streamlit client that speaks the browser's websocket protocol.

What a browser tab does, and so what this client does (read from Streamlit 1.67's server,
`web/server/starlette/starlette_websocket.py` and `runtime/app_session.py`, and its frontend):

- connect to `ws://host:port/_stcore/stream` with the subprotocol header `streamlit` (its 2nd
  and 3rd entries would carry an XSRF token and a session id to resume; both are optional: the
  XSRF token only guards the login cookie, and a fresh connection gets a fresh session);
- send a `BackMsg.rerun_script` (a `ClientState`): the URL's `query_string`, the current
  `widget_states`, and which page: `page_name` = the URL path ("training") on the first
  request, `page_script_hash` (from the `navigation` message) afterwards; `fragment_id` for a
  fragment's rerun; `cached_message_hashes` = the big messages it already holds;
- receive `ForwardMsg`s: `new_session` opens every script run (its metadata names the run and,
  for a fragment run, the fragment ids), `delta`s add elements at a `delta_path` (root 0 is the
  main area, 1 the sidebar), `ref_hash` stands for a cached element the client said it has,
  `script_finished` closes the run, `auto_rerun` asks the client to rerun a fragment every
  `interval` seconds (the frontend runs a timer and sends `rerun_script` with `fragment_id` and
  `is_auto_rerun`), `stop_auto_rerun` cancels that.

Widgets are discovered from the deltas: every widget proto has an `id` ("$$ID-<hash>-<key>"),
its options and default, and its value when the server sets it (`set_value`). Like the
frontend, the client keeps each widget's value, sends all of them with every rerun, and
changes one to "move" it (a slider one step, a select box to its next option); a button click
is a `trigger_value` sent once.

Threads here are plain `threading` objects, so under gevent (Locust) they are greenlets and the
websocket (websocket-client, plain sockets) yields while it waits.
"""
import json
import random
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode, urlsplit

import websocket

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ButtonGroup_pb2 import ButtonGroup
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.NumberInput_pb2 import NumberInput
from streamlit.proto.Slider_pb2 import Slider
from streamlit.proto.WidgetStates_pb2 import WidgetState


SUCCESS = ForwardMsg.FINISHED_SUCCESSFULLY
FRAGMENT_SUCCESS = ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY
EARLY = ForwardMsg.FINISHED_EARLY_FOR_RERUN
MAIN, SIDEBAR = 0, 1  # delta_path[0]: the root container
# Widget kinds a student moves, as this client names them.
MOVABLE = ("slider", "select_slider", "selectbox", "radio", "segmented", "number", "checkbox")


class ActionError(Exception):
    """An action that did not complete: `kind` is timeout, disconnected, exception, ..."""

    def __init__(self, kind, message):
        super().__init__(f"{kind}: {message}")
        self.kind = kind


@dataclass
class Widget:
    """A widget as the server last drew it."""
    id: str
    kind: str  # slider, select_slider, selectbox, radio, segmented, multiselect, checkbox, number, text, button
    proto: object
    path: tuple
    fragment_id: str = ""

    @property
    def key(self):
        """The script's key ("training.lr"), or "" for a widget without one."""
        parts = self.id.split("-", 2)
        key = parts[2] if self.id.startswith("$$ID-") and len(parts) == 3 else ""
        return "" if key == "None" else key

    @property
    def label(self):
        return getattr(self.proto, "label", "")

    @property
    def disabled(self):
        return bool(getattr(self.proto, "disabled", False))

    @property
    def in_main(self):
        return self.path[:1] == (MAIN,)

    @property
    def query_param(self):
        p = self.proto
        return p.query_param_key if "query_param_key" in p.DESCRIPTOR.fields_by_name and p.HasField("query_param_key") else ""

    def matches(self, name):
        """True if `name` is this widget's key, the key's last part, its URL parameter or its label."""
        name = name.casefold()
        key = self.key.casefold()
        return name in (key, key.rsplit(".", 1)[-1], self.query_param.casefold(), self.label.casefold())

    def movable(self):
        p = self.proto
        if self.kind not in MOVABLE or self.disabled or getattr(p, "form_id", "") or getattr(p, "ignore_rerun", False):
            return False
        if self.kind == "segmented" and p.click_mode != ButtonGroup.SINGLE_SELECT:
            return False
        return True


def widget_of(kind, el):
    """This client's widget kind for an element type, or None for elements that are not widgets."""
    if kind == "slider":
        return "select_slider" if el.type == Slider.SELECT_SLIDER or len(el.options) else "slider"
    return {"selectbox": "selectbox", "radio": "radio", "button_group": "segmented", "multiselect": "multiselect",
            "checkbox": "checkbox", "number_input": "number", "text_input": "text", "text_area": "text",
            "button": "button", "file_uploader": "file_uploader"}.get(kind)


def initial_value(w):
    """The WidgetState the frontend holds for a widget just drawn: the server's value when it set
    one, else the default (None: the widget has no value to send)."""
    p, s = w.proto, WidgetState(id=w.id)
    if w.kind == "slider":
        s.double_array_value.data[:] = list(p.value) if p.set_value else list(p.default)
    elif w.kind == "select_slider":
        s.string_array_value.data[:] = list(p.raw_value) if p.set_value and len(p.raw_value) else \
            [p.options[int(i)] for i in p.default if 0 <= int(i) < len(p.options)]
    elif w.kind in ("selectbox", "radio"):
        if p.set_value and p.HasField("raw_value"):
            s.string_value = p.raw_value
        elif p.HasField("default") and 0 <= p.default < len(p.options):
            s.string_value = p.options[p.default]
        else:
            return None
    elif w.kind == "segmented":
        s.string_array_value.data[:] = list(p.raw_values) if p.set_value else \
            [p.options[i].content for i in p.default if 0 <= i < len(p.options)]
    elif w.kind == "multiselect":
        s.string_array_value.data[:] = list(p.raw_values) if p.set_value else \
            [p.options[i] for i in p.default if 0 <= i < len(p.options)]
    elif w.kind == "checkbox":
        s.bool_value = p.value if p.set_value else p.default
    elif w.kind == "number":
        value = p.value if p.set_value and p.HasField("value") else p.default if p.HasField("default") else None
        if value is None:
            return None
        if p.data_type == NumberInput.INT:
            s.int_value = int(value)
        else:
            s.double_value = value
    elif w.kind == "text":
        value = p.value if p.set_value and p.HasField("value") else p.default if p.HasField("default") else None
        if value is None:
            return None
        s.string_value = value
    else:
        return None
    return s


def value_of(state):
    """A WidgetState's value as plain Python (for reports and comparisons)."""
    which = state.WhichOneof("value")
    value = getattr(state, which) if which else None
    return list(value.data) if hasattr(value, "data") else value


def plotly_points(spec):
    """The most points any line/scatter trace of a Plotly figure has (0 for an empty chart)."""
    try:
        data = json.loads(spec).get("data", [])
    except ValueError:
        return 0
    return max((len(t.get("x") or t.get("y") or []) for t in data
                if t.get("type", "scatter") in ("scatter", "scattergl")), default=0)


@dataclass
class Run:
    """One script run as the client saw it."""
    id: str
    fragment_ids: tuple
    started: float
    finished: float = None
    status: int = None


@dataclass
class Result:
    """One timed action: from the message sent to the end of the script run it caused."""
    kind: str
    page: str
    sent: float
    done: float
    first: float  # the first message from the server after the send
    bytes: int
    messages: int
    errors: list = field(default_factory=list)

    @property
    def seconds(self):
        return self.done - self.sent


class Session:
    """A connection to the app, as one browser tab holds it.

    `open(page)` connects and runs a page (its URL path, "" for the default page); `goto(page)`
    switches page as the sidebar's menu does; `move(widget)` changes one widget and waits for the
    run it causes; `click(widget)` presses a button. Each returns a `Result` (or raises
    ActionError). `watch` (a `TrainWatch`, or None) sees every element as it arrives.
    """

    def __init__(self, base_url, *, query="lang=en", timeout=120.0, rng=None):
        parts = urlsplit(base_url)
        self.ws_url = f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}{parts.path.rstrip('/')}/_stcore/stream"
        self.http_base = f"{parts.scheme}://{parts.netloc}"  # upload addresses are paths from the host
        self.page_base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}/"
        self.query, self.timeout = query, timeout
        self.rng = rng or random.Random()
        self.ws = None
        self.session_id = ""
        self.cookies = {}  # name -> value, this browser's own (behind nginx: the replica it sticks to)
        self.pages = {}  # url path -> page script hash (from `navigation`)
        self.page_hash = ""
        self.page = None
        self.elements = {}  # delta path -> (element type, element proto, run id, fragment id)
        self.widgets = {}  # id -> Widget (the ones drawn by the runs so far, stale ones removed)
        self.values = {}  # id -> WidgetState
        self.runs = []
        self.errors = []  # {"time", "page", "kind", "message"}
        self.bytes_received = self.messages_received = 0
        self.watch = None
        self.finishes_lost = 0  # whole runs whose end Streamlit never sent (see _wait_run)
        self.closed = False
        self.history = []  # the last actions sent: an error's example says what led to it
        self._direction = {}
        self._changed = []
        self._cache = {}  # hash -> [ForwardMsg, run count when last used, fragment id]
        self._run_count = 0
        self._max_age = 2
        self._timers = {}  # fragment id -> [interval, next due]
        self.driven = set()  # timed fragments the caller reruns itself (`drive`), measured
        self.hidden_pages = set()
        self._navigated = False
        self._file_urls = {}  # request id -> FileURLsResponse (where to send a file)
        self._cond = threading.Condition()
        self._receiver = self._ticker = None

    # --- actions ---------------------------------------------------------------------------

    def open(self, page=""):
        """Load the page's address and connect (a new session), as a browser does, then run `page`
        (a URL path) with the session's query string. Behind deploy/'s nginx the page's answer sets
        the cookie that names a replica, and the websocket goes where the cookie says."""
        try:
            address = self.page_base + page + (f"?{self.query}" if self.query else "")
            with urllib.request.urlopen(self._request(address), timeout=self.timeout) as answer:
                answer.read()
                self._keep_cookies(answer.headers.get_all("Set-Cookie") or [])
        except OSError as e:
            raise ActionError("disconnected", f"the page's address did not load: {e}") from e
        self.ws = websocket.create_connection(self.ws_url, subprotocols=["streamlit"], timeout=self.timeout,
                                              enable_multithread=True, skip_utf8_validation=True,
                                              cookie=self.cookie_header() or None)
        self._keep_cookies([self.ws.getheaders().get("set-cookie") or ""])
        self.ws.settimeout(None)
        self._receiver = threading.Thread(target=self._receive, daemon=True, name="st-receive")
        self._receiver.start()
        return self._act("open", page, dict(page_name=page))

    def _request(self, url, **kwargs):
        request = urllib.request.Request(url, **kwargs)
        if self.cookies:
            request.add_header("Cookie", self.cookie_header())
        return request

    def _keep_cookies(self, headers):
        """Keep what Set-Cookie headers set (websocket-client joins several into one with "; ")."""
        for header in headers:
            jar = SimpleCookie()
            try:
                jar.load(header)
            except Exception:  # noqa: BLE001  (a cookie Python's parser cannot read is not ours)
                continue
            self.cookies.update({name: morsel.value for name, morsel in jar.items()})

    def cookie_header(self):
        return _cookie_header(self.cookies)

    def goto(self, page):
        """Switch to another page (a URL path) as a click in the navigation menu does."""
        if page not in self.pages:
            raise ActionError("no_page", f"no page {page!r} in the navigation ({sorted(self.pages)})")
        states = [s for i, s in self.values.items() if i in self.widgets and not self.widgets[i].in_main]
        # The frontend carries over only the URL parameters of widgets bound to it on the page it
        # leaves (`filterParamsForPageChange`): e.g. /training's `epochs=9` goes on to /overfitting.
        bound = {w.query_param for w in self.widgets.values() if w.query_param}
        self.query = urlencode([(k, v) for k, v in parse_qsl(self.query, keep_blank_values=True) if k in bound])
        return self._act("switch", page, dict(page_script_hash=self.pages[page]), states=states)

    def rerun(self, kind="rerun", changes=(), fragment_id=""):
        """Rerun with some widget states changed (WidgetStates): what a moved widget sends."""
        for state in changes:
            self.values[state.id] = state
        self._changed = [s for s in changes if s.id in self.widgets]
        return self._act(kind, self.page, dict(page_script_hash=self.page_hash), fragment_id=fragment_id)

    def move(self, widget):
        """Nudge one widget (a slider one step, a box to its next option) and wait for the run."""
        state = self.nudged(widget)
        self._bind_to_url(widget, state)
        return self.rerun(f"nudge:{widget.kind}", [state], fragment_id=widget.fragment_id)

    def click(self, widget, wait=True):
        """Press a button: a trigger value, sent once. With wait=False, returns the send time."""
        trigger = WidgetState(id=widget.id, trigger_value=True)
        if not wait:
            return self._send(dict(page_script_hash=self.page_hash), fragment_id=widget.fragment_id,
                              extra=[trigger])[0]
        return self._act("click", self.page, dict(page_script_hash=self.page_hash), fragment_id=widget.fragment_id,
                         extra=[trigger])

    def drive(self):
        """Take over the page's timed fragments (`st.fragment(run_every=...)`): the frontend's timer
        no longer reruns them, the caller does, with `refresh`, and so measures each rerun. Returns
        {fragment id: interval}."""
        with self._cond:
            taken = {fragment_id: timer[0] for fragment_id, timer in self._timers.items()}
            self.driven.update(taken)
            for fragment_id in taken:
                self._timers.pop(fragment_id)
        return taken

    def refresh(self, fragment_id, kind="refresh"):
        """Rerun one timed fragment now, as its timer does, and wait for its run."""
        return self._act(kind, self.page, dict(page_script_hash=self.page_hash), fragment_id=fragment_id, auto=True)

    def set_values(self, wanted):
        """Set widgets by name ({name: value}; see Widget.matches) in one rerun, as a student moving
        several controls before a click. Returns (Result or None, names that matched no widget)."""
        changes, missing = [], []
        for name, value in wanted.items():
            widget = next((w for w in self.main_widgets() if w.matches(name)), None)
            if widget is None:
                missing.append(name)
                continue
            state = self.state_for(widget, value)
            if state is not None and value_of(state) != value_of(self.values.get(widget.id, WidgetState())):
                changes.append(state)
        return (self.rerun("settings", changes) if changes else None), missing

    def upload(self, widget, name, data):
        """Give a file uploader a file, as the browser does: ask the session where to send it
        (`file_urls_request`), PUT it there (multipart, with the XSRF cookie and header the
        server checks), then rerun with the uploader's new state. Returns the rerun's Result."""
        request_id = f"upload-{len(self.runs)}-{self.rng.random():.9f}"
        message = BackMsg()
        message.file_urls_request.request_id = request_id
        message.file_urls_request.session_id = self.session_id
        message.file_urls_request.file_names[:] = [name]
        self.ws.send_binary(message.SerializeToString())
        deadline = time.time() + self.timeout
        with self._cond:
            while request_id not in self._file_urls:
                if self.closed or time.time() > deadline:
                    raise ActionError("upload", f"no upload address within {self.timeout:.0f} s")
                self._cond.wait(min(1.0, max(0.01, deadline - time.time())))
            urls = self._file_urls.pop(request_id).file_urls[0]
        put_file(self.http_base + urls.upload_url, name, data, self.timeout, self.cookies)
        state = WidgetState(id=widget.id)
        info = state.file_uploader_state_value.uploaded_file_info.add()
        info.file_id, info.name, info.size = urls.file_id, name, len(data)
        info.file_urls.CopyFrom(urls)
        return self.rerun("upload", [state], fragment_id=widget.fragment_id)

    def story(self, since):
        """What led to a failed action, for its report: the last actions sent, and every run the
        server began since `since` (fragment ids shortened, status: None while unfinished)."""
        with self._cond:
            runs = [f"run {','.join(f[:6] for f in r.fragment_ids) or 'whole'} +{r.started - since:.1f}s "
                    f"status={r.status}" for r in self.runs if r.started >= since - 1]
        return [f"session {self.session_id}", *self.history,
                *(runs if len(runs) <= 12 else [*runs[:6], "...", *runs[-5:]])]

    def close(self):
        self.closed = True
        with self._cond:
            self._cond.notify_all()
        if self.ws is not None:
            try:
                self.ws.close(timeout=1)
            except Exception:  # noqa: BLE001  (already gone)
                pass

    # --- the page as drawn -----------------------------------------------------------------

    def main_widgets(self, kinds=None):
        """Widgets of the main area in page order (kinds: a set of widget kinds, or None for all)."""
        with self._cond:
            widgets = list(self.widgets.values())
        return sorted((w for w in widgets if w.in_main and (kinds is None or w.kind in kinds)), key=lambda w: w.path)

    def texts(self, kinds=("markdown", "alert")):
        """[(element type, its text)] of the text elements drawn now, in page order (an alert's
        type with its format: "alert:success")."""
        with self._cond:
            drawn = sorted(self.elements.items())
        out = []
        for _, (kind, el, _, _) in drawn:
            if kind in kinds:
                label = f"alert:{type(el).Format.Name(el.format).lower()}" if kind == "alert" else kind
                out.append((label, el.body))
        return out

    def movable_widgets(self, kinds=MOVABLE):
        return [w for w in self.main_widgets(set(kinds)) if w.movable()]

    def buttons(self):
        return self.main_widgets({"button"})

    def nudged(self, w):
        """The WidgetState of `w` moved one step (bouncing back at the ends)."""
        p, current = w.proto, self.values.get(w.id) or initial_value(w)
        direction = self._direction.get(w.id, self.rng.choice((1, -1)))
        s = WidgetState(id=w.id)
        if w.kind == "slider":
            values = list(current.double_array_value.data)
            step = p.step or 1
            new = values[-1] + direction * step
            if not p.min - 1e-9 <= new <= p.max + 1e-9:
                direction = -direction
                new = values[-1] + direction * step
            values[-1] = round(min(max(new, p.min), p.max), 10)
            if len(values) == 2 and values[0] > values[1]:
                values[0] = values[1]
            s.double_array_value.data[:] = values
        elif w.kind == "select_slider":
            options = list(p.options)
            values = list(current.string_array_value.data)
            i = options.index(values[-1]) if values and values[-1] in options else 0
            if not 0 <= i + direction < len(options):
                direction = -direction
            values[-1:] = [options[max(0, min(len(options) - 1, i + direction))]]
            s.string_array_value.data[:] = values
        elif w.kind in ("selectbox", "radio"):
            options = list(p.options)
            i = options.index(current.string_value) if current is not None and current.string_value in options else -1
            s.string_value = options[(i + 1) % len(options)]
        elif w.kind == "segmented":
            options = [o.content for o in p.options]
            now = list(current.string_array_value.data) if current is not None else []
            i = options.index(now[0]) if now and now[0] in options else -1
            s.string_array_value.data[:] = [options[(i + 1) % len(options)]]
        elif w.kind == "checkbox":
            s.bool_value = not (current.bool_value if current is not None else p.default)
        elif w.kind == "number":
            value = value_of(current) if current is not None else (p.min if p.has_min else 0)
            step = p.step or (1 if p.data_type == NumberInput.INT else 0.01)
            new = value + direction * step
            if (p.has_min and new < p.min) or (p.has_max and new > p.max):
                direction = -direction
                new = value + direction * step
            if p.data_type == NumberInput.INT:
                s.int_value = int(round(new))
            else:
                s.double_value = round(new, 10)
        else:
            raise ActionError("unmovable", f"cannot move a {w.kind}")
        self._direction[w.id] = direction
        return s

    def state_for(self, w, value):
        """The WidgetState that gives widget `w` the value `value` (a number or an option's text)."""
        s = WidgetState(id=w.id)
        p = w.proto
        if w.kind == "slider":
            s.double_array_value.data[:] = [float(value)]
        elif w.kind == "select_slider":
            options = list(p.options)
            s.string_array_value.data[:] = [_closest(options, value)]
        elif w.kind in ("selectbox", "radio"):
            s.string_value = _closest(list(p.options), value)
        elif w.kind == "segmented":
            s.string_array_value.data[:] = [_closest([o.content for o in p.options], value)]
        elif w.kind == "number":
            if p.data_type == NumberInput.INT:
                s.int_value = int(float(value))
            else:
                s.double_value = float(value)
        elif w.kind == "checkbox":
            s.bool_value = str(value).lower() in ("1", "true", "yes", "on")
        elif w.kind == "text":
            s.string_value = str(value)
        else:
            return None
        return s

    # --- sending and waiting ---------------------------------------------------------------

    def _send(self, where, *, fragment_id="", states=None, extra=(), auto=False):
        message = BackMsg()
        client = message.rerun_script
        client.query_string = self.query
        for key, value in where.items():
            setattr(client, key, value)
        if fragment_id:
            client.fragment_id = fragment_id
        client.is_auto_rerun = auto
        for state in (self._states() if states is None else states):
            client.widget_states.widgets.append(state)
        for state in extra:
            client.widget_states.widgets.append(state)
        client.cached_message_hashes[:] = list(self._cache)
        changed = [f"{self.widgets[x.id].key if x.id in self.widgets else x.id[-12:]}={value_of(x)}" for x in extra] + \
            [f"{self.widgets[x.id].key or x.id[-12:]}={value_of(x)}" for x in self._changed]
        self._changed = []
        target = where.get("page_name", next((k for k, v in self.pages.items() if v == where.get("page_script_hash")),
                                             self.page))
        if not auto:  # (a timed fragment's reruns show among the runs of `story`)
            self.history = (self.history + [f"/{target}"
                                            f"{'#' + fragment_id[:6] if fragment_id else ''}"
                                            f"{' ' + ', '.join(changed) if changed else ''}"])[-6:]
        payload = message.SerializeToString()
        with self._cond:
            seq = len(self.runs)
            sent = time.time()
        self.ws.send_binary(payload)
        return sent, seq

    def _states(self):
        return [s for i, s in self.values.items() if i in self.widgets]

    def _act(self, kind, page, where, *, fragment_id="", states=None, extra=(), auto=False):
        bytes0, messages0, errors0 = self.bytes_received, self.messages_received, len(self.errors)
        sent, seq = self._send(where, fragment_id=fragment_id, states=states, extra=extra, auto=auto)
        run = self._wait_run(seq, fragment_id, sent)
        result = Result(kind, self.page if page is None else page, sent, run.finished, self._first_after(sent),
                        self.bytes_received - bytes0, self.messages_received - messages0, self.errors[errors0:])
        return result

    def _first_after(self, sent):
        with self._cond:
            return next((r.started for r in self.runs if r.started >= sent), sent)

    def _wait_run(self, seq, fragment_id, sent):
        """The first run begun after the send that ended well: a whole run, or (for a fragment's
        rerun) that fragment's run."""
        deadline = sent + self.timeout
        with self._cond:
            while True:
                runs = self.runs[seq:]
                for k, run in enumerate(runs):
                    if run.status == SUCCESS and not run.fragment_ids:
                        return run
                    if fragment_id and fragment_id in run.fragment_ids and (
                            run.status == FRAGMENT_SUCCESS
                            or run.status == EARLY and any(later.fragment_ids and fragment_id not in later.fragment_ids
                                                           for later in runs[k + 1:])):
                        # (EARLY: when another fragment's run, a timer's, begins before a fragment
                        # run's messages have left the server, Streamlit's queue marks the finished
                        # run "early for rerun" and keeps all its elements (ForwardMsgQueue.clear):
                        # the browser draws them. A run stopped to run this fragment again, or the
                        # whole page, is followed by that run and waits for it.)
                        return run
                    if run.status is None and not run.fragment_ids and any(later.fragment_ids for later in runs[k + 1:]):
                        # A whole run whose end never came, though a fragment's run (a timer's)
                        # began after it: that run's request reached the server after the whole
                        # run had ended but before the event loop had handled the run's last
                        # events; Streamlit started a new script runner and dropped the old one's
                        # pending events — its `script_finished` and any elements still queued
                        # (AppSession.request_rerun and _handle_scriptrunner_event_on_event_loop
                        # in 1.67). A browser misses them too, until the next whole run.
                        self.finishes_lost += 1
                        raise ActionError("finish_lost", "the run's end (and maybe its last elements) never came: a "
                                                         "timer's fragment run began first and Streamlit dropped the "
                                                         "ended run's pending events")
                if self.closed:
                    raise ActionError("disconnected", "the connection closed before the run finished")
                left = deadline - time.time()
                if left <= 0:
                    raise ActionError("timeout", f"no finished run within {self.timeout:.0f} s")
                self._cond.wait(min(left, 1.0))

    # --- receiving -------------------------------------------------------------------------

    def _receive(self):
        while not self.closed:
            try:
                data = self.ws.recv()
            except Exception as e:  # noqa: BLE001  (closed, reset, ...)
                if not self.closed:
                    self._error("disconnected", f"{type(e).__name__}: {e}")
                self.closed = True
                with self._cond:
                    self._cond.notify_all()
                return
            now = time.time()
            if not data:
                continue
            message = ForwardMsg()
            message.ParseFromString(data)
            with self._cond:
                self.bytes_received += len(data)
                self.messages_received += 1
                try:
                    self._handle(message, now)
                except Exception as e:  # noqa: BLE001  (a bug here must show, not silence the session)
                    import traceback

                    self._error("client", f"{type(e).__name__}: {e} in "
                                          f"{traceback.extract_tb(e.__traceback__)[-1].line}")

    def _handle(self, msg, now):
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":
            cached = self._cache.get(msg.ref_hash)
            if cached is None:
                self._error("cache_miss", f"the server referred to a message this client never got ({msg.ref_hash})")
                return
            cached[1] = self._run_count
            resolved = ForwardMsg()
            resolved.CopyFrom(cached[0])
            resolved.metadata.CopyFrom(msg.metadata)
            msg, kind = resolved, resolved.WhichOneof("type")
        elif msg.metadata.cacheable and msg.hash:
            self._cache[msg.hash] = [msg, self._run_count, msg.delta.fragment_id if kind == "delta" else ""]
        if kind == "delta":
            self._delta(msg, now)
        elif kind == "new_session":
            self._new_session(msg, now)
        elif kind == "script_finished":
            self._finished(msg, now)
        elif kind == "navigation":
            self._navigated = True
            self._pages(msg.navigation.app_pages)
            if msg.navigation.page_script_hash:
                self._set_page(msg.navigation.page_script_hash)
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
        elif kind == "auto_rerun":
            if msg.auto_rerun.fragment_id and msg.auto_rerun.fragment_id not in self.driven:
                interval = msg.auto_rerun.interval
                timer = self._timers.get(msg.auto_rerun.fragment_id)
                if timer is None or timer[0] != interval:
                    self._timers[msg.auto_rerun.fragment_id] = [interval, now + interval]
                if self._ticker is None:
                    self._ticker = threading.Thread(target=self._tick, daemon=True, name="st-auto-rerun")
                    self._ticker.start()
        elif kind == "stop_auto_rerun":
            for fragment_id in msg.stop_auto_rerun.fragment_ids:
                self._timers.pop(fragment_id, None)
        elif kind == "page_not_found":
            self._error("page_not_found", msg.page_not_found.page_name)
        elif kind == "file_urls_response":
            self._file_urls[msg.file_urls_response.response_id] = msg.file_urls_response
            self._cond.notify_all()

    def _new_session(self, msg, now):
        run = msg.metadata.run
        self.runs.append(Run(run.script_run_id, tuple(run.fragment_ids), now))
        new = msg.new_session
        if not run.fragment_ids:
            self._timers.clear()  # a whole run: the frontend drops its fragment timers
        if new.initialize.session_id:
            self.session_id = new.initialize.session_id
        if new.config.max_cached_message_age:
            self._max_age = new.config.max_cached_message_age
        # `new_session.app_pages` is the old page list (url_pathname = the page's title); once the app
        # has sent a `navigation` message (st.navigation), that is the one with the URL paths. A
        # fragment's rerun sends new_session without navigation, so its list must not replace it.
        if not self._navigated:
            self._pages(new.app_pages)
        if new.page_script_hash:
            self._set_page(new.page_script_hash)

    def _pages(self, app_pages):
        if len(app_pages):
            self.pages = {p.url_pathname: p.page_script_hash for p in app_pages}
            self.hidden_pages = {p.url_pathname for p in app_pages if p.is_hidden}  # in no menu (the teacher's)

    def _set_page(self, page_hash):
        self.page_hash = page_hash
        self.page = next((path for path, h in self.pages.items() if h == page_hash), self.page)

    def _current_run(self, msg):
        run_id = msg.metadata.run.script_run_id
        if run_id:
            for run in reversed(self.runs):
                if run.id == run_id:
                    return run
        return self.runs[-1] if self.runs else None

    def _delta(self, msg, now):
        delta = msg.delta
        if delta.WhichOneof("type") != "new_element":
            return
        path = tuple(msg.metadata.delta_path)
        element = delta.new_element
        kind = element.WhichOneof("type")
        if kind is None:
            return
        el = getattr(element, kind)
        run = self._current_run(msg)
        replaced = self.elements.get(path)
        if replaced is not None and getattr(replaced[1], "id", None) != getattr(el, "id", None):
            self.widgets.pop(getattr(replaced[1], "id", None), None)  # another element took its place
        self.elements[path] = (kind, el, run.id if run else "", delta.fragment_id)
        if kind == "exception":
            self._error("exception", f"{el.type}: {el.message}".strip(": "), path=path)
        wkind = widget_of(kind, el)
        if wkind:
            w = Widget(el.id, wkind, el, path, delta.fragment_id)
            old = self.widgets.get(el.id)
            self.widgets[el.id] = w
            if el.id not in self.values or old is None or getattr(el, "set_value", False):
                state = initial_value(w)
                if state is not None:
                    self.values[el.id] = state
        if self.watch is not None:
            self.watch.element(self, kind, el, path, now)

    def _finished(self, msg, now):
        run = self._current_run(msg)
        if run is None:
            return
        run.status, run.finished = msg.script_finished, now
        if run.status in (SUCCESS, FRAGMENT_SUCCESS):
            self._drop_stale(run)
            # The frontend's cache ages its messages by script runs; a fragment's run ages only
            # that fragment's messages.
            self._run_count += 1
            self._cache = {h: c for h, c in self._cache.items() if self._run_count - c[1] <= self._max_age
                           or (run.fragment_ids and c[2] not in run.fragment_ids)}
        if self.watch is not None:
            self.watch.finished(self, run, now)
        self._cond.notify_all()

    def _drop_stale(self, run):
        """What the frontend does when a run ends: elements the run did not draw go away (for a
        fragment run, only those of its fragments), and with them their widgets."""
        def stale(item):
            _, _, run_id, fragment_id = item
            return run_id != run.id and (not run.fragment_ids or fragment_id in run.fragment_ids)
        self.elements = {p: e for p, e in self.elements.items() if not stale(e)}
        alive = {e[1].id for e in self.elements.values() if hasattr(e[1], "id")}
        self.widgets = {i: w for i, w in self.widgets.items() if i in alive}

    def _error(self, kind, message, path=()):
        self.errors.append({"time": time.time(), "page": self.page, "kind": kind, "message": message,
                            "path": list(path), "after": list(self.history), "query": self.query})

    def _tick(self):
        """The frontend's setInterval for `st.fragment(run_every=...)`: rerun the fragment on time."""
        while not self.closed:
            due = min((timer[1] for timer in self._timers.values()), default=time.time() + 0.5)
            time.sleep(min(max(due - time.time(), 0.01), 0.5))
            now = time.time()
            for fragment_id, timer in list(self._timers.items()):
                if now >= timer[1]:
                    timer[1] = now + timer[0]
                    try:
                        self._send(dict(page_script_hash=self.page_hash), fragment_id=fragment_id, auto=True)
                    except Exception as e:  # noqa: BLE001
                        self._error("disconnected", f"auto rerun: {e}")
                        return

    def _bind_to_url(self, widget, state):
        """A widget bound to the URL (`bind="query-params"`) writes its value there, as the frontend does."""
        name = widget.query_param
        if not name:
            return
        values = value_of(state)
        values = values if isinstance(values, list) else [values]  # a range slider: the parameter twice
        if widget.kind == "slider" and widget.proto.data_type == Slider.INT:
            values = [int(v) for v in values]
        params = [(k, v) for k, v in parse_qsl(self.query, keep_blank_values=True) if k != name]
        self.query = urlencode(params + [(name, _url_text(v)) for v in values])


def _cookie_header(cookies):
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def put_file(url, name, data, timeout, cookies=None):
    """PUT one file as the frontend's uploader does: multipart field "file", the XSRF token in a
    cookie and in the X-Xsrftoken header (the server compares the two). The cookie comes from the
    health check the frontend calls first (`/_stcore/health`). `cookies`: the browser's own (behind
    nginx, the sticky one: the file must reach the replica that has the session)."""
    jar = dict(cookies or {})
    health = url.split("/_stcore/", 1)[0] + "/_stcore/health"  # a base path (behind nginx) kept
    request = urllib.request.Request(health, headers={"Cookie": _cookie_header(jar)} if jar else {})
    with urllib.request.urlopen(request, timeout=timeout) as page:
        jar.update(c.split(";", 1)[0].split("=", 1) for c in page.headers.get_all("Set-Cookie") or [] if "=" in c)
    token = jar.get("_streamlit_xsrf", "")
    boundary = f"----keras-classroom-bench-{random.getrandbits(64):x}"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Cookie": _cookie_header(jar)}
    if token:
        headers["X-Xsrftoken"] = token
    request = urllib.request.Request(url, data=body, method="PUT", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            answer.read()
    except OSError as e:
        raise ActionError("upload", f"the file was not taken: {e}")


def _url_text(value):
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _closest(options, value):
    """The option whose text is `value`, or (for numbers) the nearest one."""
    text = str(value)
    if text in options:
        return text
    try:
        target = float(value)
        numeric = [(abs(float(o) - target), o) for o in options]
        return min(numeric)[1]
    except (TypeError, ValueError):
        raise ActionError("bad_value", f"{value!r} is not one of {options[:12]}") from None


@dataclass
class TrainWatch:
    """Watches one Train click: when the first epoch reaches the student and when the run ends.

    Epochs are read from the Plotly charts the server sends after the click: a line/scatter trace
    with k points, on a chart that was empty at the click or did not exist then, is k epochs
    drawn (the live loss curve gets one point per epoch; the first such chart in page order is
    the one counted). The run has ended when, in a script run finished after the click, the Stop
    button (found by its icon, a button labelled "Stop", or a key ending in "stop") is drawn
    disabled after the run was seen active or an epoch was drawn; on a page without a Stop
    button, when a whole run finishes with an epoch drawn and no fragment timer left.
    """
    clicked: float
    before: set  # paths of the charts that had points at the click: not this run's
    stop_icon: str = ":material/stop:"
    epoch1: float = None
    done: float = None
    first_update: float = None
    stop_seen_active: bool = False
    stop_disabled: bool = None
    charts: dict = field(default_factory=dict)  # path -> points, charts of this run

    @classmethod
    def before_click(cls, session, clicked=None, stop_icon=":material/stop:"):
        drawn = {path for path, (kind, el, *_rest) in session.elements.items()
                 if kind == "plotly_chart" and plotly_points(el.spec) > 0}
        return cls(clicked or time.time(), drawn, stop_icon)

    @property
    def epochs(self):
        drawn = sorted(path for path, points in self.charts.items() if points)
        return self.charts[drawn[0]] if drawn else 0

    def is_stop(self, el):
        key = el.id.rsplit("-", 1)[-1].casefold()
        return el.icon == self.stop_icon or el.label.strip().casefold() == "stop" or key.endswith("stop")

    def element(self, session, kind, el, path, now):
        if now < self.clicked:
            return
        if self.first_update is None:
            self.first_update = now
        if kind == "plotly_chart" and path not in self.before:
            self.charts[path] = plotly_points(el.spec)
            if self.charts[path] and self.epoch1 is None:
                self.epoch1 = now
        elif kind == "button" and self.is_stop(el):
            self.stop_disabled = el.disabled
            if not el.disabled:
                self.stop_seen_active = True

    def finished(self, session, run, now):
        if self.done is not None or run.started < self.clicked or run.status not in (SUCCESS, FRAGMENT_SUCCESS):
            return
        if self.stop_disabled is not None:
            if self.stop_disabled and (self.stop_seen_active or self.epoch1 is not None):
                self.done = now
        elif run.status == SUCCESS and self.epoch1 is not None and not session._timers:
            self.done = now
