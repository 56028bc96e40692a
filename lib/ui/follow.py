"""Bring the class here: the teacher pushes the page they are on, with its settings, through the
class's store; every student's page shows "your teacher is on …: follow" and, in presenter mode,
follows by itself until the teacher releases the class. A student's own page and settings are
kept, to go back to."""
import time

import streamlit as st

from lib.classroom import store as class_store
from lib.ui.classroom import UNLOCKED, the_store
from lib.ui.lesson import hide_picker
from lib.ui.pages import is_available, page_info, page_of
from lib.ui.text import t
from lib.ui.url import LESSON_HIDES, page_settings

SEEN = "follow.seen"  # session key: the number of the last push this session has read
OWN = "follow.own"  # session key: (page id, settings) the student had before following
FRESH_S = 15 * 60  # a push older than this is not shown to a student who arrives later
CHECK_EVERY_S = 10  # how often a student's page asks the store whether the teacher pushed
MAX_SETTINGS = 40


def teacher_controls(url_path):
    """In the teacher's session, on every page: "Bring the class here", and presenter mode, in
    which every move of the teacher's (page or settings) is pushed as it happens."""
    page = page_of(url_path)
    if not st.session_state.get(UNLOCKED) or page is None:
        return
    with st.sidebar.container(border=True):
        st.caption(t("follow.teacher_caption"))
        presenting = st.toggle(t("follow.present"), key="follow.presenting", help=t("follow.present_help"),
                               on_change=_presenting_changed)
        clicked = st.button(t("follow.bring"), icon=":material/campaign:", width="stretch", key="follow.bring")
        hide_picker(page)
    message = {"page": page, "settings": page_settings(page), "follow": presenting}
    if clicked or (presenting and message != st.session_state.get("follow.pushed")):
        _push(message)
        st.toast(t("follow.pushed", page=t(f"nav.{page}")), icon=":material/campaign:")


def _presenting_changed():
    if not st.session_state.get("follow.presenting"):
        _push({"release": True})


def _push(message):
    st.session_state["follow.pushed"] = message
    try:
        the_store().push({**message, "at": time.time()})
    except class_store.StoreDown as e:
        st.error(t("teacher.store_down", where=e.details.get("where", "")), icon=":material/cloud_off:")


def follow_the_teacher(url_path):
    """On a student's page: what the teacher pushed last (said once, or followed in presenter
    mode), and a check every CHECK_EVERY_S for a new push, without the student touching anything."""
    if st.session_state.get(UNLOCKED):
        return
    try:
        number, push = the_store().last_push()
    except class_store.StoreDown:
        return  # the teacher's view says so; the student goes on
    with st.sidebar:
        st.fragment(_check_for_push, run_every=CHECK_EVERY_S)(number)
    if not push or time.time() - push.get("at", 0) > FRESH_S:
        return
    page = page_of(url_path)
    if push.get("release"):
        _offer_way_back(page, number)
        return
    target = push.get("page")
    if not isinstance(target, str) or not is_available(target):  # (a page this student's lesson leaves out)
        return
    fixed = st.session_state.get(LESSON_HIDES) or {}  # this student's lesson fixes these: left as they are
    settings = {k: v for k, v in list((push.get("settings") or {}).items())[:MAX_SETTINGS]
                if isinstance(k, str) and k.startswith(target + ".") and k not in fixed}
    here = page == target and all(st.session_state.get(k) == v for k, v in settings.items())
    if push.get("follow") and not here:
        _follow(page, target, settings, number)
    if here or st.session_state.get(SEEN) == number and not push.get("follow"):
        st.session_state[SEEN] = number
        return
    with st.container(border=True):
        st.markdown(t("follow.teacher_is_on", page=t(f"nav.{target}")))
        if st.button(t("follow.go"), icon=":material/arrow_forward:", key=f"follow.go.{number}", type="primary"):
            _follow(page, target, settings, number)
        if st.button(t("follow.stay"), key=f"follow.stay.{number}", type="tertiary"):
            st.session_state[SEEN] = number
            st.rerun()


def _follow(page, target, settings, number):
    """Keep the student's own page and settings (the first time), set the teacher's, and go."""
    if OWN not in st.session_state and page is not None:
        st.session_state[OWN] = (page, page_settings(page))
    for key, value in settings.items():
        st.session_state[key] = value  # as a class link or "show me" sets them: the same widgets' keys
    st.session_state[SEEN] = number
    if page != target:
        st.switch_page(page_info(target).file)
    st.rerun()


def _offer_way_back(page, number):
    own = st.session_state.get(OWN)
    if own is None or st.session_state.get(SEEN) == number:
        st.session_state[SEEN] = number
        return
    with st.container(border=True):
        st.markdown(t("follow.released", page=t(f"nav.{own[0]}")))
        if st.button(t("follow.back"), icon=":material/undo:", key=f"follow.back.{number}"):
            st.session_state.pop(OWN)
            _follow(page, own[0], own[1], number)
        if st.button(t("follow.stay_here"), key=f"follow.keep.{number}", type="tertiary"):
            st.session_state.pop(OWN)
            st.session_state[SEEN] = number
            st.rerun()


def _check_for_push(known):
    """Draws nothing: reruns the page when the teacher has pushed since it was drawn."""
    try:
        number, _ = the_store().last_push()
    except class_store.StoreDown:
        return
    if number != known:
        st.rerun(scope="app")
