"""Keras Classroom: deep learning taught by running real Keras and drawing what it does.

Run with `streamlit run streamlit_app.py`. This file runs before every page: it settles the
language, hands over to the page the student asked for, and then (once per process) starts the
server's preparation: TensorFlow imported in the background and kept out of the garbage
collector's way. It starts after the page on purpose — loading TensorFlow's library holds
Python's lock for seconds, which would keep the very first page (and its menu) from drawing; and
what the preparation does after the import waits while any page is being run (`page_running`).

It also tells a student whose page lost its session (see `_started_afresh`): with several
replicas behind a load balancer (deploy/), a student whose replica stops is reconnected to
another one, which does not know them.
"""
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from lib import saving, server, ui

AFRESH = "deploy.afresh"  # session key: (the notice's catalog key, the page it is shown on)


@st.cache_resource(show_spinner=False)
def _sessions_of_this_server():
    """The ids of every session this server process has started (a few dozen bytes each)."""
    return set()


def _started_afresh():
    """On a session's first run: the notice to show if this session replaces one the browser had
    ("deploy.afresh": it was on another server; "deploy.expired": this server forgot it), else None.

    When its websocket drops, Streamlit's frontend reconnects and names its last session in the
    handshake (the third entry of Sec-WebSocket-Protocol, after "streamlit" and the XSRF token; seen
    in 1.67's frontend and server). A server that still has that session resumes it — its first run
    is long past, so nothing is said — and any other starts a new one. So a new session whose
    handshake names a session is exactly a browser that had a session arriving where it is not
    known: never a first visit, a reload or another tab, which name none.
    """
    if "deploy.seen" in st.session_state:
        return None
    st.session_state["deploy.seen"] = True
    entries = st.context.headers.get("Sec-WebSocket-Protocol", "").split(",")
    previous = entries[2].strip() if len(entries) > 2 else ""
    known = _sessions_of_this_server()
    ctx = get_script_run_ctx()
    if ctx is not None:
        known.add(ctx.session_id)
    if not previous:
        return None
    return "deploy.expired" if previous in known else "deploy.afresh"


@st.fragment(run_every=3600)
def _rerun_when_reconnected():
    """Draws nothing. Streamlit's frontend reruns a page at once when its websocket reconnects only
    if the page has a timed fragment (1.67: otherwise at the student's next click), so with this
    one a student moved to another server reads the notice without having to touch anything."""


def _say_if_started_afresh(page):
    """The notice, at the top of the page on which this session started afresh, until the student
    goes to another page."""
    notice = _started_afresh()
    if notice:
        st.session_state[AFRESH] = (notice, page.url_path)
    shown = st.session_state.get(AFRESH)
    if shown and shown[1] == page.url_path:
        st.info(ui.t(shown[0]), icon=":material/sync_problem:")
    else:
        st.session_state.pop(AFRESH, None)


st.set_page_config(page_title="Keras Classroom", page_icon=":material/school:", layout="wide")
server.when_class_leaves(ui.forget_figures)  # what the class cached goes with it
server.when_class_leaves(saving.forget_files)
server.while_idle(ui.drop_class_drawings)  # once the class has gone, unless the teacher keeps them
server.once_at_start(ui.drop_drawings_left_behind)  # by a class that ended while no server watched
ui.prepare_server()  # what the warm-up does besides Keras's import and the class model (deploy/replica.py too)
ui.choose_language()
ui.join_lesson()  # a lesson link: before the menu, which shows only the lesson's pages
page = ui.navigation()
st.sidebar.caption(ui.t("app.tagline"))
with st.sidebar:
    _rerun_when_reconnected()
_say_if_started_afresh(page)
with server.page_running():  # the server's head starts wait while a page is being run
    waiting = ui.get_ready(page)  # on a fresh server: what the page waits for, instead of an empty column
    link_notice = st.empty()  # what a class link asked for and could not have, said once the page has run
    try:
        ui.lesson_notice()
        ui.follow_the_teacher(page.url_path)  # before the page: "your teacher is on …", or follow at once
        page.run()
        ui.task_checklist()  # after the page: what its tasks' checks just found is counted
        ui.be_seen(page.url_path)  # the teacher's class view: who is on which page
        ui.teacher_controls(page.url_path)  # in the teacher's session: bring the class here
    finally:
        if waiting is not None:
            waiting.empty()
        ui.ignored_in_link(link_notice)
        server.prepare()
