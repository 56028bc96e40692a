"""What is around every page: the language switch, the menu, the share button with its QR code,
and the note a fresh server shows while it prepares."""
import functools
import time

import streamlit as st

from lib import i18n, optimizers, server, training
from lib.ui.pages import SECTIONS, available_pages, page_info, page_of, session_lesson
from lib.ui.text import lang, t
from lib.ui.url import class_link


def choose_language():
    """Settle the language for this run: a valid `?lang=` wins, else the session's, else English.

    The choice lives in the session (so it survives page switches, which clear the URL) and is
    written back to the URL on every run (so a copied link opens in the same language).
    """
    asked = st.query_params.get("lang")
    if asked is not None and asked.strip().lower() in i18n.LANGUAGES:
        st.session_state.lang = asked.strip().lower()
    st.session_state.lang = i18n.normalize(st.session_state.get("lang"))
    st.session_state.lang_switch = st.session_state.lang
    st.sidebar.segmented_control(
        t("app.language"), list(i18n.LANGUAGES), format_func=i18n.LANGUAGES.get,
        key="lang_switch", on_change=_switch_language, required=True)


def _switch_language():
    st.session_state.lang = i18n.normalize(st.session_state.lang_switch)
    st.query_params["lang"] = st.session_state.lang


def prepare_server():
    """What this server prepares in the background before students ask, once (asked at every run by
    the entry point, and by deploy/replica.py at a replica's start, before its first student):
    Keras kept between reruns; once Keras is imported, the Optimizers page's first walks; once the
    class model is trained, the first training worker (its own import of Keras, seconds of a core,
    would otherwise slow a training page's first nudges) and the first view's other learning rates.
    It does not start the warm-up (`server.prepare`): the entry point lets a page that needs nothing
    draw first."""
    server.keep_keras_state_between_reruns()
    server.once_imported(optimizers.warm_up)
    server.once_ready(training.runner)
    server.once_ready(optimizers.walk_around)


def get_ready(page):
    """Before a page that computes with Keras runs on a fresh server: a note at the top of the page
    saying what the student waits for (TensorFlow's import, the class model's training) — never an
    empty column. The page itself runs at once and draws what it can. Returns the note's place, for
    the caller to clear when the page has run: on every run of such a page, empty on a warm server,
    so the page below it stays where it was from its first run to the next (one element fewer above
    it made the browser draw the whole page anew, every chart, at the student's first nudge); None
    for a page that needs nothing."""
    page_id = page_of(page.url_path)  # (the menu's default page has the address "")
    info = page_info(page_id) if page_id else None
    needs = info.needs if info else ""
    if not needs:
        return None
    note = st.empty()
    pending = [name for name, event in (("keras", server.imported), ("class_model", server.class_model_ready))
               if not event.is_set() and (name == "keras" or needs == "class_model")]
    if pending:
        note.info(t(f"common.preparing.{'_and_'.join(pending)}", page=t(f"nav.{info.id}")),
                  icon=":material/hourglass_top:")
        if "keras" in pending:  # the note reaches the browser before TensorFlow's import holds the interpreter
            time.sleep(0.2)  # (reading or training the class model lets it go: no pause before it)
    return note


QR_SCALE, QR_BORDER = 16, 2  # pixels per module, and modules of quiet zone around the code


@functools.lru_cache(maxsize=64)
def qr_png(link):
    """The link as a QR code, a PNG with big modules: readable by a phone from the back of a room.
    Kept per link: the teacher's page draws one for every kept lesson (up to 20) on each run."""
    import io

    import segno

    picture = io.BytesIO()
    segno.make(link, error="m").save(picture, kind="png", scale=QR_SCALE, border=QR_BORDER, dark="#0f172a")
    return picture.getvalue()


@st.dialog(" ", width="large")
def _share_dialog():
    link = class_link()
    st.subheader(t("share.title"))
    st.caption(t("share.idea"))
    st.code(link, language=None)
    if "//localhost" in link or "//127.0.0.1" in link:
        st.warning(t("share.localhost"), icon=":material/lan:")
    st.image(qr_png(link), width=560)


def share_button():
    """"Share with the class": the page's class link as text and as a QR code big enough to scan
    from the back of a room (in a dialog over the page)."""
    st.sidebar.button(t("share.button"), key="ui.share", icon=":material/qr_code_2:", width="stretch",
                      on_click=st.session_state.__setitem__, args=("ui.share.clicked", True))
    if st.session_state.pop("ui.share.clicked", False):  # the click as a flag: see start_button
        _share_dialog()


def navigation():
    """`st.navigation` over the pages that exist, grouped in the seed's flow, titles translated.

    The lesson files live in `lessons/`, not in a folder named `pages/`: Streamlit lists a `pages/`
    folder by its file names (and runs a deep-linked file on its own, without this entry point)
    until the first st.navigation call of a server process — the first student of a class saw the
    raw file names in the menu for a second or two."""
    groups, shown = {}, available_pages()
    first = "overview" if any(info.id == "overview" for info in shown) else shown[0].id  # (a lesson may leave it out)
    for info in shown:
        page = st.Page(info.file, title=t(f"nav.{info.id}"), icon=info.icon,
                       url_path=info.url_path or None, default=info.id == first)
        groups.setdefault(t(f"nav.section.{info.section}"), []).append(page)
    # The teacher's room: in no menu (a student may still type its address: it asks for the key).
    groups.setdefault(t(f"nav.section.{SECTIONS[-1]}"), []).append(
        st.Page("lessons/teacher.py", title=t("teacher.title"), icon=":material/co_present:", url_path="teacher",
                visibility="hidden"))
    # Every lesson in view: past twelve pages Streamlit folds the menu to ten and a "View more"
    # (the Regression page made thirteen: Save & load and the Glossary went out of sight).
    page = st.navigation(groups, expanded=True)
    st.query_params["lang"] = lang()  # after st.navigation, which starts a new page's URL afresh
    if session_lesson() is not None:  # the lesson too: a reload or a shared link stays in it
        st.query_params["lesson"] = session_lesson().code
    share_button()
    return page
