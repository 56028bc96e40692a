"""The live run: a training run started from a page, followed while it trains, and why it draws
nothing yet or stopped short."""
import dataclasses
import uuid

import streamlit as st

from lib.ui.layout import start_button
from lib.ui.text import t


@dataclasses.dataclass(frozen=True)
class Entry:
    """One run this session started from a LiveRun, and what the page noted beside it (labels,
    the settings it was started with)."""
    run: object
    meta: dict = dataclasses.field(default_factory=dict)

    @property
    def job(self):
        return self.run.job


FOLLOW_COST = 0.03  # seconds between redraws per session following a run: 30 students -> about 1 s


def session_id():
    """This browser session's id (the runner counts who is watching a shared run by it)."""
    if "ui.session" not in st.session_state:
        st.session_state["ui.session"] = uuid.uuid4().hex
    return st.session_state["ui.session"]


class LiveRun:
    """The one live-run component of every page that trains: its start (and stop) buttons, the
    session's latest runs of it, and a picture redrawn while the newest one waits or trains.

        live = ui.LiveRun(key("fit"), keep=5)
        live.buttons(t("training.train"), job, stop=True)   # where the controls are
        live.show(draw)                                     # where the picture goes: draw(entry or None)

    The picture is a fragment (`st.fragment`): while a run is active it alone is redrawn, every
    `every` seconds, the rest of the page untouched; when the run ends the page reruns once so
    tables and buttons show the final state. Below the picture a line says why a run draws
    nothing yet or stopped short (waiting, failed, out of time, diverged), and how many
    classmates follow the same run (identical jobs share one run on the server).

    A session waits in line with one run at most: a new click replaces its own run that has not
    started yet. Stop stops a run only the student follows; when classmates follow it too, the
    button leaves it to them instead.
    """

    def __init__(self, key, *, keep=1):
        self.key, self.keep = key, keep
        self.entries = st.session_state.setdefault(f"{key}.runs", [])

    @property
    def current(self):
        return self.entries[-1] if self.entries else None

    def buttons(self, label, job, *, stop=False, icon=":material/play_arrow:", container=st, **meta):
        """The start button (disabled without a job) and, with `stop`, a Stop button beside it.
        A click submits `job` to the server's runner. Returns the current entry (or None)."""
        from lib import training

        start_col, stop_col = container.columns(2) if stop else (container, None)
        if start_button(label, f"{self.key}.start", container=start_col, icon=icon, disabled=job is None):
            self._replace_waiting()
            self.entries.append(Entry(training.runner().submit(job, session_id()), meta))
            del self.entries[:-self.keep]
            if self.current.run.status == "queued":
                st.session_state["ui.waiting"] = (self.key, self.current.run)
        if stop:
            run = self.current.run if self.current else None
            active = run is not None and run.active
            shared = active and run.watching() > 1
            stop_col.button(t("training.leave" if shared else "training.stop"), key=f"{self.key}.stop",
                            icon=":material/logout:" if shared else ":material/stop:", width="stretch",
                            disabled=not active, on_click=self._leave if shared else self._stop)
        return self.current

    def _stop(self):
        self.current.run.stop()

    def _leave(self):
        """Leave a run classmates follow too: it goes on for them; this page forgets it."""
        self.current.run.leave(session_id())
        self.entries.pop()

    def _replace_waiting(self):
        """This session's run still waiting in line (on any page) gives way to the new one."""
        waiting = st.session_state.pop("ui.waiting", None)
        if waiting and waiting[1].status == "queued":
            live_key, run = waiting
            run.leave(session_id())  # cancels it, unless a classmate waits for the same run
            entries = st.session_state.get(f"{live_key}.runs", [])
            entries[:] = [e for e in entries if e.run is not run]

    def show(self, draw, *, every=0.3):
        """Draw the current entry (None before the first click) in a fragment that follows it:
        every `every` seconds while it trains, less often while it waits in line or when many
        sessions on the server follow runs (the server redraws for each of them)."""
        from lib import training

        run = self.current.run if self.current else None
        st.session_state[f"{self.key}.following"] = run is not None and run.active
        if run is not None and run.active:
            every = 1.0 if run.status == "queued" else max(every, FOLLOW_COST * training.runner().followers())
        st.fragment(self._frame, run_every=every if run is not None and run.active else None)(draw)

    def _frame(self, draw):
        entry = self.current
        draw(entry)
        if entry is None:
            return
        entry.run.seen(session_id())
        notice = run_notice(entry.run)
        if notice:
            getattr(st, notice[0])(notice[1])
        classmates = entry.run.watching() - 1
        if classmates > 0 and entry.run.active:
            st.caption(t("common.run.watching", n=classmates))
        if st.session_state.get(f"{self.key}.following") and not entry.run.active:
            st.session_state[f"{self.key}.following"] = False
            st.rerun()  # the run ended while the student watched: the whole page shows the result


def run_notice(run):
    """(kind, text) saying why a run draws nothing yet or stopped short — waiting for a free
    trainer, failed, out of time, diverged — or None while it trains or when it simply ended."""
    from lib import training

    if run.status == "queued":
        ahead = run.queue_position - 1
        key = "training.status.queued" if ahead > 0 else "training.status.next"
        wait = training.runner().estimated_wait(run)
        text = t(key, ahead=ahead, slots=training.SLOTS)  # the server runner's size
        return "info", text + (" " + t("common.run.wait", seconds=f"{wait:.0f}") if wait is not None else "")
    if run.status == "failed":
        return "error", t(f"training.error.{run.error.code}", **run.error.details, message=run.error.message)
    losses = run.history().get("loss", [])
    if run.status == "budget":
        return "warning", t("common.run.budget", budget=f"{run.job.budget_s:.0f}", epoch=len(losses))
    if run.status == "diverged":
        return "warning", t("common.run.diverged", epoch=len(losses), first=f"{losses[0]:.3g}" if losses else "?",
                            last=f"{losses[-1]:.3g}" if losses else "?")
    return None
