"""The tasks panel: a page's tasks in the sidebar, checked on every run from what the page reports,
with two hints and then "show me"; and the checklist of every page's tasks below it. Progress is
kept per browser (an id in a cookie, `student_id`), so it survives page switches and a reload."""
import time

import streamlit as st

from lib import tasks as catalogue
from lib.classroom.progress import DONE, Progress
from lib.ui.classroom import keep_cookie, nickname_input, student_id, the_store
from lib.ui.pages import PAGES, is_available
from lib.ui.text import lang, t
from lib.ui.url import page_settings

ICONS = {DONE: ":material/check_circle:", "tried": ":material/clock_loader_40:",
         None: ":material/radio_button_unchecked:"}
MARKS = {DONE: ":green[:material/check_circle:]", "tried": ":orange[:material/clock_loader_40:]",
         None: ":gray[:material/radio_button_unchecked:]"}  # the checklist's, one line per page


@st.cache_resource(show_spinner=False)
def progress():
    """Every browser's progress, in the class's store (lib.ui.classroom.the_store)."""
    return Progress([task.id for task in catalogue.all_tasks()] + catalogue.result_ids(), the_store())


def task_open(page_id):
    """Is one of the page's tasks open in the panel? (A page whose controls live in a fragment
    reruns the whole page for it only then.)"""
    return st.session_state.get(f"tasks.chosen.{page_id}") is not None


def tasks(page_id, facts):
    """Check the page's tasks against its settings and `facts` (what it computed), keep what
    changed, and draw the panel in the sidebar (the frame adds the checklist: `checklist`)."""
    page_tasks = catalogue.for_page(page_id)
    student = student_id()
    facts = _checked_facts(page_id, facts)
    st.session_state[f"tasks.seen.{page_id}"] = facts  # what a part's rerun checks over (recheck)
    kept, changed = progress().of(student), False
    verdicts = {}
    for task in page_tasks:
        record = kept.get(task.id, {})
        verdict = task.verdict(facts, record.get("memory"))
        if verdict.memory is not None and verdict.memory != record.get("memory"):
            progress().remember(student, task.id, verdict.memory)
            changed = True
        if verdict.done and record.get("status") != DONE:
            progress().done(student, task.id, catalogue.facts_to_keep(task, facts), verdict.details.get("right"))
            changed = True
        verdicts[task.id] = verdict
    _keep_results(page_id, student, kept, facts)
    if page_tasks:
        with st.sidebar:
            _panel(page_id, page_tasks, verdicts, progress().of(student) if changed else kept, facts)


def recheck(page_id, facts):
    """For a part of the page that reran alone (lib/ui/parts.py): the page's tasks checked again,
    with the part's new `facts` over the page's latest (another part's may be newer than the page's
    last whole run). What a check keeps for its next run is kept here; when the panel would say
    something else — a task done, the open task's line and hints — the whole page reruns and says
    it; otherwise the panel stands as drawn."""
    seen = st.session_state.get(f"tasks.seen.{page_id}")
    if seen is None:
        return
    now = {**seen, **_checked_facts(page_id, facts)}
    if now == seen:  # nothing the tasks read has changed
        return
    st.session_state[f"tasks.seen.{page_id}"] = now  # the page's latest facts, whichever part last ran
    student = student_id()
    kept = progress().of(student)
    _keep_results(page_id, student, kept, now)  # the class view's numbers follow a part too
    if task_open(page_id):
        st.rerun()  # the open task's line, hints and "show me" read these facts
    for task in catalogue.for_page(page_id):
        record = kept.get(task.id, {})
        verdict = task.verdict(now, record.get("memory"))
        if verdict.done and record.get("status") != DONE:
            st.rerun()
        if verdict.memory is not None and verdict.memory != record.get("memory"):
            progress().remember(student, task.id, verdict.memory)


def _checked_facts(page_id, facts):
    """What a page's tasks are checked against: its URL-bound settings and `facts`, as plain values."""
    return {name: catalogue.plain(value) for name, value in {**page_settings(page_id), **facts}.items()}


RESULTS_EVERY_S = 10  # a page's results go to the class's store at most this often per session


def _keep_results(page_id, student, kept, facts):
    """The numbers the teacher's class view charts for everyone (lib.tasks.Result), when they
    changed — at most every RESULTS_EVERY_S: the Optimizers race changes with every nudge, and
    the class view does not need each one (a write per nudge per student would)."""
    results = catalogue.results().get(page_id)
    written = st.session_state.get(f"tasks.results_at.{page_id}", float("-inf"))
    if not results or time.monotonic() - written < RESULTS_EVERY_S:
        return
    now = catalogue.kept_results(page_id, kept.get(results[0].id, {}).get("facts"), facts)
    if now is not None:
        progress().result(student, results[0].id, now)
        st.session_state[f"tasks.results_at.{page_id}"] = time.monotonic()


def _panel(page_id, page_tasks, verdicts, kept, facts):
    done = sum(kept.get(task.id, {}).get("status") == DONE for task in page_tasks)
    st.subheader(t("tasks.panel", done=done, n=len(page_tasks)), anchor=False)
    chosen = st.session_state.get(f"tasks.chosen.{page_id}")
    for task in page_tasks:  # buttons, not a radio: a label that shows progress changes as it goes
        title = task.words(lang())["title"]
        st.button(f"**{title}**" if task.id == chosen else title, key=f"tasks.open.{task.id}",
                  icon=ICONS[kept.get(task.id, {}).get("status")], type="tertiary",
                  on_click=_open, args=(page_id, task.id))
    if chosen is None:
        st.caption(t("tasks.pick_one"))
        return
    task, record = next(task for task in page_tasks if task.id == chosen), kept.get(chosen, {})
    st.markdown(task.words(lang())["goal"])
    if task.predicts:
        _prediction(task, verdicts[chosen], record)
    else:
        _progress_line(task, verdicts[chosen], record, facts)
    _hints(task, facts)


def _open(page_id, task_id):
    st.session_state[f"tasks.chosen.{page_id}"] = task_id
    progress().tried(student_id(), task_id)


def _progress_line(task, verdict, record, facts):
    if record.get("status") == DONE:
        st.success(t("tasks.done", line=catalogue.done_line(task, record["facts"], lang())),
                   icon=":material/check_circle:")
    if not verdict.done:
        say = st.info if verdict.state == catalogue.SHORT else st.caption
        say(catalogue.say(task, verdict, facts, lang()))


def _prediction(task, verdict, record):
    guess = (record.get("memory") or {}).get("guess")
    if guess is None:
        st.caption(catalogue.say(task, verdict, {}, lang()))
        st.radio(t("tasks.your_guess"), list(task.options), index=None, key=f"tasks.guess.{task.id}",
                 format_func=lambda v: catalogue.option_label(task, v, lang()), horizontal=True)
        picked = st.session_state.get(f"tasks.guess.{task.id}") is not None
        st.button(t("tasks.lock_in"), key=f"tasks.lock.{task.id}", on_click=_lock_in, args=(task,),
                  disabled=not picked, icon=":material/lock:", type="primary")
        return
    if verdict.done:
        (st.success if verdict.details["right"] else st.warning)(
            catalogue.say(task, verdict, {}, lang()))
    else:
        st.caption(catalogue.say(task, verdict, {}, lang()))
        st.button(t("tasks.run_again"), key=f"tasks.rerun.{task.id}", on_click=_show_me, args=(task,))


def _lock_in(task):
    guess = st.session_state.get(f"tasks.guess.{task.id}")
    if guess in task.options:
        progress().remember(student_id(), task.id, {"guess": guess})
        _show_me(task)


def _hints(task, facts):
    """Two hints, one at a time, then "show me" (and, for a prediction, no "show me")."""
    shown = st.session_state.get(f"tasks.hints.{task.id}", 0)
    for n, hint in enumerate(task.words(lang())["hints"][:shown], start=1):
        st.caption(t("tasks.hint_n", n=n, hint=hint))
    if shown < 2:
        st.button(t("tasks.hint" if shown == 0 else "tasks.another_hint"), key=f"tasks.hint.{task.id}",
                  on_click=_more_hints, args=(task,), icon=":material/lightbulb:")
    elif not task.predicts:
        st.button(t("tasks.show_me"), key=f"tasks.show.{task.id}", on_click=_show_me, args=(task, facts),
                  icon=":material/visibility:")


def _more_hints(task):
    key = f"tasks.hints.{task.id}"
    st.session_state[key] = st.session_state.get(key, 0) + 1
    progress().tried(student_id(), task.id)


def _show_me(task, facts=None):
    """Set the page's controls to the task's solution (or a prediction's question), from the facts
    of the run the student saw: the same URL-bound settings a class link sets, so the address bar
    then holds the solution's link."""
    for key, value in task.solution(facts or {}).items():
        st.session_state[key] = value


def checklist():
    """In the sidebar of every page, after the page has run: every page's tasks (done, tried, not
    started: a mark each) and how many are done in all."""
    kept = progress().of(student_id())
    pages = [(info.id, catalogue.for_page(info.id)) for info in PAGES  # in the menu's order
             if catalogue.for_page(info.id) and is_available(info.id)]
    listed = [task.id for _, page_tasks in pages for task in page_tasks]
    done = sum(kept.get(task_id, {}).get("status") == DONE for task_id in listed)
    with st.sidebar.expander(t("tasks.checklist", done=done, n=len(listed)), icon=":material/checklist:"):
        st.markdown("  \n".join(
            "".join(MARKS[kept.get(task.id, {}).get("status")] for task in page_tasks) + " " + t(f"nav.{page}")
            for page, page_tasks in pages))
        nickname_input()
    keep_cookie(st.sidebar)
