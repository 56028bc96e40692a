"""The class's side of every page: the class's store, who this browser is (an id in a cookie, an
optional nickname), where it is; and the teacher's key and class view (lessons/teacher.py)."""
import ipaddress
import logging
import re
import secrets
import time

import streamlit as st

from lib import plots, tasks as catalogue
from lib.classroom import names, store as class_store, teacher
from lib.classroom.view import class_view
from lib.ui.layout import plot
from lib.ui.pages import PAGES, page_of
from lib.ui.text import lang, t

COOKIE = "keras_classroom_student"
STUDENT = "tasks.student"  # session key: (this browser's id, whether its cookie is still to be set)
COOKIE_DAYS = 30
SEEN_EVERY_S = 20  # a student on one page tells the store again after this; a new page at once
PRESENT_S = 90  # seen within this: in the class view
QUIET_S = 300  # no move on a task for this long: "quiet" in the class view
UNLOCKED = "teacher.unlocked"  # session key: this session gave the teacher's key
log = logging.getLogger(__name__)


@st.cache_resource(show_spinner=False)
def the_store():
    """The class's store (KERAS_CLASSROOM_STORE, by default an SQLite file); this server's memory
    when it cannot be opened (said in the log: the class goes on, on this server)."""
    try:
        return class_store.open_store()
    except class_store.StoreDown as e:
        log.warning("the class's store cannot be opened, the class is kept on this server only: %s", e)
        return class_store.MemoryStore()


def student_id():
    """This browser's id: from its cookie when it has a well-formed one, else a new random id the
    browser is asked to keep (`keep_cookie`; a reload then brings it back)."""
    if STUDENT not in st.session_state:
        sent = st.context.cookies.get(COOKIE, "") if st.context.cookies else ""
        fresh = not re.fullmatch(r"[0-9a-f]{32}", sent)
        st.session_state[STUDENT] = (secrets.token_hex(16) if fresh else sent, fresh)
    return st.session_state[STUDENT][0]


def keep_cookie(place):
    """Ask the browser to keep this session's new id, once per session: the script runs as soon as
    the browser draws it (sending it on every run cost the class's server a message per nudge)."""
    sid, fresh = st.session_state[STUDENT]
    if fresh:
        age = COOKIE_DAYS * 24 * 3600
        place.html(f"<script>document.cookie='{COOKIE}={sid}; path=/; max-age={age}; samesite=lax'</script>",
                   unsafe_allow_javascript=True)
        st.session_state[STUDENT] = (sid, False)


def be_seen(url_path):
    """Tell the class's store this browser is on the page at `url_path` (on a new page at once, on
    the same one every SEEN_EVERY_S; not the teacher's session, nor the teacher's page). A store
    that is down is the teacher's news, not the student's."""
    page = page_of(url_path)
    last = st.session_state.get("classroom.seen")
    told = last is not None and last[0] == page and time.monotonic() - last[1] < SEEN_EVERY_S
    if page is None or told or st.session_state.get(UNLOCKED):
        return
    st.session_state["classroom.seen"] = (page, time.monotonic())
    try:
        the_store().seen(student_id(), page)
    except class_store.StoreDown:
        pass


def nickname_input():
    """An optional nickname the class view shows instead of a number: plain text, made harmless
    (lib.classroom.names) and kept in the class's store."""
    key = "classroom.nickname"
    if key not in st.session_state:
        try:
            st.session_state[key] = the_store().names().get(student_id(), "")
        except class_store.StoreDown:
            st.session_state[key] = ""
    st.text_input(t("classroom.nickname"), key=key, max_chars=names.MAX_TYPED, placeholder=t("classroom.anonymous"),
                  on_change=_keep_nickname, help=t("classroom.nickname_help"))


def _keep_nickname():
    kept = names.clean(st.session_state.get("classroom.nickname")) or ""
    st.session_state["classroom.nickname"] = kept
    try:
        the_store().set_name(student_id(), kept)
    except class_store.StoreDown:
        pass


# --- The teacher -----------------------------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def teacher_key():
    """(the key checker, the key when this class made it: shown on this machine only)."""
    try:
        from_secrets = st.secrets.get("teacher_key")
    except Exception:  # no secrets file: Streamlit raises its own error on the first read
        from_secrets = None
    key, made = teacher.class_key(the_store(), from_secrets=from_secrets)
    if made:
        print(f"Keras Classroom: the teacher's key is {key} (open /teacher; set KERAS_CLASSROOM_TEACHER_KEY to "
              "choose it)", flush=True)
    return teacher.TeacherKey(key), key if made else None


def _on_this_machine():
    """A request from the server's own machine, not through a proxy: the made key is shown there."""
    address = st.context.ip_address or ""
    headers = st.context.headers or {}
    host = headers.get("Host", "").rsplit(":", 1)[0].strip("[]")
    try:
        loopback = ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
    return loopback and "X-Forwarded-For" not in headers and host in ("localhost", "127.0.0.1", "::1")


def _place():
    """Where a key comes from, for counting wrong ones: the browser's address (through nginx, the
    one it forwards), else this session."""
    forwarded = (st.context.headers or {}).get("X-Forwarded-For", "").split(",")[0].strip()
    return forwarded or st.context.ip_address or st.session_state.setdefault("classroom.place", secrets.token_hex(8))


def teacher_unlocked():
    """True once this session gave the teacher's key; else the key form (and, on this machine,
    the key a class made)."""
    if st.session_state.get(UNLOCKED):
        return True
    try:
        checker, made = teacher_key()
    except teacher.TeacherRefusal as e:  # the host's key is too short to be safe: said, not used
        st.error(t(f"teacher.error.{e.code}", **e.details), icon=":material/key_off:")
        return False
    if made and _on_this_machine():
        st.info(t("teacher.key_here", key=made), icon=":material/key:")
    with st.form("teacher.key_form", border=False):
        offered = st.text_input(t("teacher.key"), type="password", max_chars=200, key="teacher.key")
        sent = st.form_submit_button(t("teacher.open"), icon=":material/lock_open:", key="teacher.open")
    if sent:
        try:
            right = checker.check(offered, _place())
        except teacher.TeacherRefusal as e:
            st.error(t("teacher.error.wait", **e.details), icon=":material/timer:")
            return False
        if right:
            st.session_state[UNLOCKED] = True
            st.rerun()
        st.error(t("teacher.wrong"), icon=":material/block:")
    return False


def class_view_live():
    """The class now, redrawn every few seconds without the teacher touching anything."""
    st.fragment(_class_view, run_every=3)()


TEACHER_SEEN_EVERY_S = 60  # the teacher's room tells the store it is open (lib.classroom.drawings)


def _class_view():
    store = the_store()
    try:
        present, everyone, kept_names = store.present(PRESENT_S), store.everyone(), store.names()
        if time.monotonic() - st.session_state.get("teacher.told", -1e9) > TEACHER_SEEN_EVERY_S:
            store.put_setting("teacher.seen", str(store.clock()))  # (drawings.TEACHER_SEEN)
            st.session_state["teacher.told"] = time.monotonic()
    except class_store.StoreDown as e:
        st.error(t("teacher.store_down", where=e.details.get("where", "")), icon=":material/cloud_off:")
        return
    teacher_browser = student_id()  # seen as a student before the key was given: not one of the class
    present.pop(teacher_browser, None)
    everyone.pop(teacher_browser, None)
    order = [info.id for info in PAGES]  # the tasks in the menu's order
    all_tasks = sorted(catalogue.all_tasks(), key=lambda task: order.index(task.page) if task.page in order else 99)
    results = [result for page in order for result in catalogue.results().get(page, ())]
    view = class_view([task.id for task in all_tasks], present, everyone, kept_names, now=store.clock(),
                      quiet_s=QUIET_S, result_ids={result.id for result in results})
    here, done, idle, quiet = st.columns(4)
    here.metric(t("teacher.here"), view.here)
    done.metric(t("teacher.done"), sum(d for d, _ in view.tasks.values()))
    idle.metric(t("teacher.idle"), len(view.idle))
    quiet.metric(t("teacher.quiet", minutes=QUIET_S // 60), len(view.quiet))
    if view.pages:
        st.subheader(t("teacher.where"), anchor=False)
        plot(plots.where_figure({t(f"nav.{page}"): n for page, n in view.pages.items()}, lang()))
    st.subheader(t("teacher.tasks"), anchor=False)
    rows = [(f"{t(f'nav.{task.page}')} · {task.words(lang())['title']}", *view.tasks[task.id]) for task in all_tasks]
    plot(plots.tasks_figure(rows, lang()))
    if view.results:
        st.subheader(t("teacher.results"), anchor=False)
    for k, result in enumerate(r for r in results if view.results.get(r.id, {}).get(r.fact)):
        plot(plots.results_figure(view.results[result.id][result.fact], result.words[lang()], lang(), k))
    for k, task in enumerate(task for task in all_tasks if task.id in view.results):
        for fact, values in view.results[task.id].items():
            label = f"{task.words(lang())['title']}: {catalogue.fact_name(task, fact, lang())}"
            plot(plots.results_figure(values, label, lang(), k))
    for who, heading in ((view.idle, "teacher.who_idle"), (view.quiet, "teacher.who_quiet")):
        if who:
            st.subheader(t(heading, minutes=QUIET_S // 60), anchor=False)
            st.text(", ".join(who))  # plain text: a nickname is never markup
