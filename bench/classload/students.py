"""Locust users: simulated students, each holding one `protocol.Session`.

Every action is reported to Locust as a request event: `request_type` is the action kind
("open", "nudge:slider", "train:epoch1", ...), `name` the page, so Locust's statistics (and its
CSV files) are per page and action; a failed action carries the exception. The `Plan` keeps the
scenario's settings and what the students share: the start signal of a class pressing Train
together, and each student's training record.

Importing this module imports Locust, which monkey-patches the standard library for gevent:
import it before anything that opens sockets or starts threads.
"""
import itertools
import random
import time
from dataclasses import dataclass, field

import gevent
from gevent.event import Event
from locust import User, task

from bench.classload.protocol import MOVABLE, ActionError, Session, TrainWatch, value_of

FALLBACK = MOVABLE + ("text",)
SEARCH_WORDS = ("loss", "epoch", "relu", "kernel", "")


@dataclass
class Plan:
    """One scenario: its settings, and the state its students share."""
    scenario: str
    base: str
    users: int
    query: str = "lang=en"
    timeout: float = 120.0
    seed: int = 0
    # sliders
    pages: list = field(default_factory=list)
    controls: tuple = ("slider", "select_slider")
    think: tuple = (2.0, 5.0)
    nudges_per_page: tuple = (4, 10)
    # training
    page: str = "training"
    settings: list = field(default_factory=list)  # one {name: value} per student (train-different)
    spread: float = 1.0
    train_timeout: float = 240.0
    train_button: str = ""
    # the teacher (sliders): their key, or "" for a class without the teacher's view open
    teacher_key: str = ""
    stop_icon: str = ":material/stop:"
    # shared state
    sessions: list = field(default_factory=list)
    samples: list = field(default_factory=list)  # every action: {"kind", "page", "ms", "bytes", "error", "t"}
    training: list = field(default_factory=list)
    warnings: set = field(default_factory=set)
    go: Event = field(default_factory=Event)
    go_at: float = None
    ready: int = 0
    done: int = 0

    def __post_init__(self):
        self._index = itertools.count()

    def next_index(self):
        return next(self._index)

    def on_request(self, request_type, name, response_time, response_length, exception=None, context=None, **_):
        self.samples.append({"kind": request_type, "page": name, "ms": response_time, "bytes": response_length,
                             "error": None if exception is None else str(exception), "t": time.time(),
                             **({"after": context["after"]} if context and "after" in context else {})})


class Student(User):
    """A student with a browser tab (a websocket session). `plan` is set before the run."""
    abstract = True
    plan: Plan = None

    def on_start(self):
        plan = self.plan
        self.index = plan.next_index()
        self.rng = random.Random(plan.seed * 1000 + self.index)
        self.session = None

    def connect(self, page, query):
        self.session = Session(self.plan.base, query=query, timeout=self.plan.timeout, rng=self.rng)
        self.plan.sessions.append(self.session)
        result = self.act(lambda: self.session.open(page), "open", page)
        if result is None:
            self.session.close()  # the next task connects again
        return result

    def act(self, action, kind, page):
        """Run an action and report it; returns its Result, or None when it failed."""
        start = time.time()
        try:
            result = action()
        except ActionError as e:
            self.report(kind, page, (time.time() - start) * 1000, 0, e, after=self.session.story(since=start))
            return None
        except Exception as e:  # noqa: BLE001  (a broken connection, ...)
            self.report(kind, page, (time.time() - start) * 1000, 0, ActionError("client", f"{type(e).__name__}: {e}"))
            return None
        error = None
        if result.errors:
            first = result.errors[0]
            error = ActionError(first["kind"], f"{first['message']} (at {first['path']})")
        self.report(result.kind, page, result.seconds * 1000, result.bytes, error)
        return result

    def report(self, kind, page, ms, size, exception=None, after=None):
        self.environment.events.request.fire(request_type=kind, name=f"/{page}", response_time=ms,
                                             response_length=size, exception=exception,
                                             context={"after": after} if after else {})

    def on_stop(self):
        if self.session is not None:
            self.session.close()


class SliderStudent(Student):
    """Moves controls on a concept page at a human pace, then goes on to another page."""

    def wait_time(self):
        return self.rng.uniform(*self.plan.think)

    def on_start(self):
        super().on_start()
        pages = self.plan.pages
        self.page_at = self.index % len(pages)
        self.left = self.rng.randint(*self.plan.nudges_per_page)
        self.connect(pages[self.page_at], self.plan.query)

    @task
    def nudge(self):
        session, plan = self.session, self.plan
        if session is None or session.closed:
            self.connect(plan.pages[self.page_at], plan.query)
            return
        if self.left <= 0:
            self.page_at = (self.page_at + 1) % len(plan.pages)
            self.left = self.rng.randint(*plan.nudges_per_page)
            page = plan.pages[self.page_at]
            self.act(lambda: session.goto(page), "switch", page)
            return
        self.left -= 1
        widgets = session.movable_widgets(plan.controls) or session.movable_widgets(FALLBACK) or \
            [w for w in session.main_widgets({"text"}) if not w.disabled]
        if not widgets:
            self.left = 0
            return
        widget = self.rng.choice(widgets)
        if widget.kind == "text":
            state = session.state_for(widget, self.rng.choice(SEARCH_WORDS))
            self.act(lambda: session.rerun("nudge:text", [state], fragment_id=widget.fragment_id), "nudge:text",
                     session.page)
        else:
            self.act(lambda: session.move(widget), f"nudge:{widget.kind}", session.page)


class TrainStudent(Student):
    """Opens the training page (the class link, or its own settings), waits for the class, presses
    Train and watches the run to its end; then stays on the page until the scenario ends."""

    def wait_time(self):
        return 1.0

    def on_start(self):
        super().on_start()
        plan = self.plan
        self.record = {"student": self.index, "settings": {}, "error": None}
        settings = plan.settings[self.index % len(plan.settings)] if plan.settings else {}
        query = plan.query + "".join(f"&{k}={v}" for k, v in settings.items())
        opened = self.connect(plan.page, query)
        if opened is not None and settings:
            self._apply(settings)
        if opened is None:
            self.record["error"] = "the page did not open"
        for name in settings:  # what the student's controls say now, after the URL and the moves
            widget = next((w for w in self.session.main_widgets() if w.matches(name)), None)
            if widget is not None and widget.id in self.session.values:
                value = value_of(self.session.values[widget.id])
                self.record["settings"][name] = value[0] if isinstance(value, list) and len(value) == 1 else value
        plan.ready += 1
        self.trained = False

    def _apply(self, settings):
        """Move the controls the URL did not set (a student adjusting the class link)."""
        try:
            result, missing = self.session.set_values(settings)
        except ActionError as e:
            self.record["error"] = f"settings could not be applied: {e}"
            self.report("settings", self.plan.page, 0, 0, e)
            return
        for name in missing:
            self.plan.warnings.add(f"no widget on /{self.plan.page} matches {name!r}: only the URL carries it")
        if result is not None:
            self.report("settings", self.plan.page, result.seconds * 1000, result.bytes)

    @task
    def train(self):
        if self.trained:
            gevent.sleep(1)
            return
        self.trained = True
        plan, session, record = self.plan, self.session, self.record
        plan.go.wait()
        gevent.sleep(self.rng.uniform(0, plan.spread))
        try:
            self._train(plan, session, record)
        finally:
            plan.training.append(record)
            plan.done += 1

    def _train(self, plan, session, record):
        if session is None or session.closed or record["error"]:
            record["error"] = record["error"] or "no session"
            return
        buttons = [b for b in session.buttons() if not b.disabled]
        if plan.train_button:
            buttons = [b for b in buttons if b.matches(plan.train_button)]
        else:
            buttons = [b for b in buttons if b.proto.type == "primary"]
        if not buttons:
            record["error"] = f"no Train button on /{plan.page}"
            self.report("train:click", plan.page, 0, 0, ActionError("no_button", record["error"]))
            return
        watch = TrainWatch.before_click(session, time.time(), plan.stop_icon)
        session.watch = watch
        clicked = session.click(buttons[0], wait=False)
        record["clicked"] = clicked
        errors0 = len(session.errors)
        while watch.done is None and not session.closed and time.time() - clicked < plan.train_timeout:
            gevent.sleep(0.05)
        record.update(epoch1_s=watch.epoch1 and watch.epoch1 - clicked, done_s=watch.done and watch.done - clicked,
                      first_update_s=watch.first_update and watch.first_update - clicked, epochs=watch.epochs,
                      bytes=session.bytes_received)
        problems = session.errors[errors0:]
        error = ActionError(problems[0]["kind"], problems[0]["message"]) if problems else None
        if watch.first_update is not None:
            self.report("train:first-update", plan.page, (watch.first_update - clicked) * 1000, 0)
        if watch.epoch1 is not None:
            self.report("train:epoch1", plan.page, record["epoch1_s"] * 1000, 0, error)
        else:
            why = "disconnected" if session.closed else "timeout" if watch.done is None else "no_epoch"
            record["error"] = f"{why}: no epoch drawn"
            self.report("train:epoch1", plan.page, (time.time() - clicked) * 1000, 0, ActionError(why, "no epoch drawn"))
        if watch.done is not None:
            self.report("train:finished", plan.page, record["done_s"] * 1000, 0, error)
        else:
            record["error"] = record["error"] or ("disconnected" if session.closed else "timeout: the run never ended")
            self.report("train:finished", plan.page, (time.time() - clicked) * 1000, 0,
                        ActionError("timeout", record["error"]))
        session.watch = None


class Teacher(Student):
    """The teacher with the class view open (lessons/teacher.py): gives the key once, then stays
    while the view refreshes itself (its fragment, every few seconds, as the browser's timer
    reruns it). Each refresh is reported as "teacher:refresh" on /teacher, beside the students'."""
    fixed_count = 1

    def wait_time(self):
        return self.every

    def on_start(self):
        super().on_start()
        self.every, self.view = 3.0, None
        self.open_view()

    def open_view(self):
        plan = self.plan
        if self.connect("teacher", plan.query) is None:
            return
        session = self.session
        box = next((w for w in session.main_widgets({"text"}) if w.key == "teacher.key"), None)
        submit = next((w for w in session.buttons() if w.key == "teacher.open"), None)
        if box is None or submit is None:
            plan.warnings.add("the teacher's page has no key form (teacher.key, teacher.open)")
            return
        session.values[box.id] = session.state_for(box, plan.teacher_key)
        if self.act(lambda: session.click(submit), "teacher:key", "teacher") is None:
            return
        views = session.drive()
        if not views:
            plan.warnings.add("the teacher's key did not open the class view (no timed fragment on /teacher)")
            return
        # the class view's fragment is the page's quickest timer (the app's hourly one is the other)
        self.view, self.every = min(views.items(), key=lambda view: view[1])

    @task
    def refresh(self):
        if self.session is None or self.session.closed or self.view is None:
            self.open_view()
            return
        self.act(lambda: self.session.refresh(self.view, "teacher:refresh"), "teacher:refresh", "teacher")
