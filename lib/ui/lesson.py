"""Lesson links: the teacher chooses the pages a lesson opens and, on each page, the controls it
hides (fixed at the teacher's values); students who open the lesson's link see only those pages
and controls, on every run and reload of their session (lib.classroom.lessons keeps the lesson)."""
import collections
import json

import streamlit as st

from lib.classroom import lessons, store as class_store
from lib.ui.classroom import the_store
from lib.ui.pages import LESSON, PAGES, available_pages
from lib.ui.shell import qr_png
from lib.ui.text import lang, literal, say, t
from lib.ui.url import LABELS, LESSON_HIDES, page_settings

JOINED = "lesson.joined"  # session key: the link's lesson was looked up (once per session)
NOTICE = "lesson.notice"  # session key: what to say about the link's lesson on the first page
DRAFT = "lesson.draft"  # session key (the teacher's): {control key: value} to hide in the next lesson
KNOWN = [info.id for info in PAGES]


def join_lesson():
    """Before the menu is built: on a session's first run, the lesson its link names (`?lesson=`),
    kept for the session; a link naming no kept lesson opens every page, and says so once."""
    if st.session_state.get(JOINED):
        return
    st.session_state[JOINED] = True
    code = st.query_params.get("lesson")
    if code is None:
        return
    try:
        # the pages this server shows (a host may have hidden one since the lesson was made)
        found = lessons.find_lesson(the_store(), code, known_pages=[info.id for info in available_pages()])
    except class_store.StoreDown:
        st.session_state[NOTICE] = "lesson.store_down"
        return
    if found is None:
        st.query_params.pop("lesson", None)
        st.session_state[NOTICE] = "lesson.unknown"
        return
    st.session_state[LESSON], st.session_state[LESSON_HIDES] = found, dict(found.hidden)


def lesson_notice():
    """The one line about a lesson link that could not be opened, on the first page drawn."""
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        st.warning(t(notice), icon=":material/link_off:")


def hide_picker(page):
    """In the teacher's session, on every page: which of this page's controls the next lesson
    hides, each fixed at the value it has when the lesson is made."""
    draft = st.session_state.setdefault(DRAFT, {})
    here = page_settings(page)
    named = _control_names(here)
    key = f"lesson.hide.{page}"
    if key not in st.session_state:
        st.session_state[key] = [k for k in draft if k in here]
    chosen = st.multiselect(t("lesson.hide"), list(here), key=key, format_func=named.get,
                            placeholder=t("lesson.hide_none"), help=t("lesson.hide_help"))
    for gone in [k for k in draft if k.startswith(page + ".") and k not in chosen]:
        del draft[gone]
    for k in chosen:  # the value now: moving the control after choosing it updates what is fixed
        draft[k] = list(here[k]) if isinstance(here[k], tuple) else here[k]


def _control_names(controls):
    """{control key: what the teacher reads}: its label, and its key's name where two share one
    (the Optimizers page has two "learning rate" controls)."""
    labels = st.session_state.get(LABELS, {})
    pages = {k.split(".", 1)[0] for k in controls}
    named = {k: str(label) for k, label in labels.items() if k.split(".", 1)[0] in pages}
    twice = collections.Counter((k.split(".", 1)[0], name) for k, name in named.items())
    return {k: (f"{named[k]} ({k.split('.', 1)[1]})" if twice[k.split(".", 1)[0], named[k]] > 1 else named[k])
            if k in named else k for k in controls}


def _page_name(control):
    return t(f"nav.{control.split('.', 1)[0]}")


def _root_link():
    """The app's address, as the teacher's browser reaches it (the lesson link starts there)."""
    base = (st.context.url or "").split("?")[0]
    return base.removesuffix("/teacher").rstrip("/") + "/"


def lesson_maker():
    """On the teacher's page: the pages of a new lesson, the controls it hides (chosen on each
    page), its link and QR code; the kept lessons, each with its link and a way to end it."""
    st.subheader(t("lesson.title"), anchor=False)
    st.caption(t("lesson.idea"))
    offered = [info.id for info in available_pages()]
    pages = st.multiselect(t("lesson.pages"), offered, default=offered, key="lesson.pages",
                           format_func=lambda p: t(f"nav.{p}"))
    draft = st.session_state.get(DRAFT, {})
    hidden = {k: v for k, v in draft.items() if k.split(".", 1)[0] in pages}
    if hidden:
        st.markdown(t("lesson.hidden_list", count=len(hidden)))
        named = _control_names(draft)
        lines = [f"{_page_name(k)} · {named[k]} = {json.dumps(v)}" for k, v in hidden.items()]
        st.text("\n".join(lines))  # plain text: a label or value is never markup
    else:
        st.caption(t("lesson.none_hidden"))
    store = the_store()
    if st.button(t("lesson.make"), icon=":material/add_link:", key="lesson.make", type="primary"):
        try:
            made = lessons.make_lesson(store, pages, hidden, known_pages=KNOWN)
            st.toast(t("lesson.made", code=made.code), icon=":material/link:")
        except (lessons.LessonRefusal, class_store.StoreDown) as e:
            say(e)
    try:
        kept = lessons.all_lessons(store, known_pages=KNOWN)
    except class_store.StoreDown as e:
        say(e)
        return
    for lesson in kept:
        _kept_lesson(store, lesson)


def _kept_lesson(store, lesson):
    link = f"{_root_link()}?lesson={lesson.code}&lang={lang()}"
    with st.container(border=True):
        st.markdown(t("lesson.kept", code=lesson.code, pages=literal(", ".join(t(f"nav.{p}") for p in lesson.pages)),
                      hidden=len(lesson.hidden)))
        st.code(link, language=None)
        left, right = st.columns(2)
        with left.popover(t("lesson.qr"), icon=":material/qr_code_2:"):
            st.image(qr_png(link), width=480)
        if right.button(t("lesson.end"), icon=":material/link_off:", key=f"lesson.end.{lesson.code}"):
            try:
                lessons.end_lesson(store, lesson.code)
            except class_store.StoreDown as e:
                say(e)
            st.rerun()

