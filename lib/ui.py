"""The shared Streamlit pieces every page uses: language, text, navigation, headers, code panel.

The only module in `lib` that imports Streamlit. Pages read widgets, call the rest of `lib`, and
show what comes back through these helpers, so every page looks and speaks alike.
"""
import dataclasses
import pathlib
import time

import streamlit as st

from lib import i18n

ROOT = pathlib.Path(__file__).resolve().parent.parent
PLOT_CONFIG = {"displayModeBar": False, "scrollZoom": False}


@dataclasses.dataclass(frozen=True)
class PageInfo:
    id: str  # catalog key prefix and glossary link target
    file: str
    url_path: str
    icon: str
    section: str


# The seed's flow. A page whose file does not exist yet is simply not listed.
PAGES = (
    PageInfo("overview", "pages/overview.py", "", ":material/account_tree:", "start"),
    PageInfo("model", "pages/model.py", "model", ":material/stacks:", "build"),
    PageInfo("filters", "pages/filters.py", "filters", ":material/blur_on:", "build"),
    PageInfo("pooling", "pages/pooling.py", "pooling", ":material/grid_view:", "build"),
    PageInfo("activations", "pages/activations.py", "activations", ":material/show_chart:", "build"),
    PageInfo("losses", "pages/losses.py", "losses", ":material/straighten:", "compile"),
    PageInfo("optimizers", "pages/optimizers.py", "optimizers", ":material/route:", "compile"),
    PageInfo("training", "pages/training.py", "training", ":material/model_training:", "train"),
    PageInfo("overfitting", "pages/overfitting.py", "overfitting", ":material/ssid_chart:", "train"),
    PageInfo("evaluate", "pages/evaluate.py", "evaluate", ":material/fact_check:", "use"),
    PageInfo("save_load", "pages/save_load.py", "save-load", ":material/save:", "use"),
    PageInfo("glossary", "pages/glossary.py", "glossary", ":material/menu_book:", "reference"),
)
SECTIONS = ("start", "build", "compile", "train", "use", "reference")


def available_pages():
    """The pages that exist, in the seed's order."""
    return [p for p in PAGES if (ROOT / p.file).exists()]


def page_info(page_id):
    return next(p for p in PAGES if p.id == page_id)


def is_available(page_id):
    return any(p.id == page_id for p in available_pages())


# --- Language ------------------------------------------------------------------------------

def lang():
    return st.session_state.get("lang", i18n.DEFAULT_LANGUAGE)


def t(key, **values):
    """The text for `key` in the page's language."""
    return i18n.translate(key, lang(), **values)


class labels:  # noqa: N801  (used like a function: format_func=ui.labels("model.input"))
    """A widget's `format_func` showing option `v` as the text of `prefix.v`.

    The language is fixed when it is made: Streamlit may call a format_func outside the script
    run, where the session (and so the language) is out of reach.
    """

    def __init__(self, prefix):
        self.prefix, self.lang = prefix, lang()

    def __call__(self, value):
        return i18n.translate(f"{self.prefix}.{value}", self.lang)


def choice(widget, label, options, *, key, default=None, labels=None, **kwargs):
    """A select-type widget (st.selectbox, st.segmented_control, st.radio, st.multiselect) whose
    choice lives in the URL as the option itself (`?kernel=sobel_x`), the same in every language.

    `key` is "page.name": unique across pages (Streamlit mixes up same-key widgets of two pages
    at a page switch), while the URL says just `name`. Streamlit's own `bind="query-params"`
    writes the *displayed* label there, which would tie a class link to one language; numbers
    and text, which have no labels, use `bind` directly.
    """
    options = list(options)
    param = key.rsplit(".", 1)[-1]
    multi = widget is st.multiselect
    if default is None:
        default = [] if multi else options[0]
    if key not in st.session_state:  # the first run of this page in this session: the link decides
        st.session_state[key] = _from_url(param, options, default, multi)
    value = widget(label, options, key=key, format_func=labels or str, **kwargs)
    if value == default or value is None:
        st.query_params.pop(param, None)
    else:
        st.query_params[param] = [str(v) for v in value] if multi else str(value)
    return value


def _from_url(param, options, default, multi):
    by_text = {str(option): option for option in options}
    if multi:
        asked = st.query_params.get_all(param)
        picked = [by_text[a] for a in asked if a in by_text]
        return picked if asked else default
    return by_text.get(st.query_params.get(param), default)


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


def navigation():
    """`st.navigation` over the pages that exist, grouped in the seed's flow, titles translated."""
    groups = {}
    for info in available_pages():
        page = st.Page(info.file, title=t(f"nav.{info.id}"), icon=info.icon,
                       url_path=info.url_path or None, default=info.id == "overview")
        groups.setdefault(t(f"nav.section.{info.section}"), []).append(page)
    page = st.navigation(groups)
    st.query_params["lang"] = lang()  # after st.navigation, which starts a new page's URL afresh
    return page


# --- Page furniture ------------------------------------------------------------------------

def _leave_legacy_pages_mode():
    """Make sure this run came through the entry point.

    Streamlit treats a folder named `pages/` beside the entry point as an old-style multipage app
    until the first `st.navigation` call in the process. So if the first visitor after a server
    start opens a deep link (a class link to /model), Streamlit runs pages/model.py on its own:
    no language, no layout, no navigation. The first page to run says "we use st.navigation"
    and reruns, which goes through streamlit_app.py like every later run.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def header(page_id):
    """The page's title and its idea in two sentences."""
    _leave_legacy_pages_mode()
    st.title(t(f"{page_id}.title"))
    st.markdown(t(f"{page_id}.idea"))


def page_link(page_id, label=None):
    """A link to another page in the current language; nothing when that page is not built."""
    if is_available(page_id):
        info = page_info(page_id)
        st.page_link(info.file, label=label or t(f"nav.{page_id}"), icon=info.icon,
                     query_params={"lang": lang()})


def shared_figure(builder):
    """Cache a figure builder for all sessions, by its arguments. A built figure is never changed
    (st.plotly_chart only reads it), so sessions share it without the copy st.cache_data makes
    on every rerun — unpickling a figure of many small images cost tens of milliseconds."""
    return st.cache_resource(max_entries=64, show_spinner=False)(builder)


def plot(figure, key=None):
    st.plotly_chart(figure, config=PLOT_CONFIG, key=key)


def notice(page_id):
    """'What to notice': the page's short list of things to look for."""
    st.subheader(t("common.notice"))
    st.markdown(t(f"{page_id}.notice"))


def code_panel(code):
    """The runnable Keras code for what the page shows (Streamlit's code block has a copy button)."""
    st.subheader(t("common.code"))
    st.caption(t("common.code_hint"))
    st.code(code, language="python")


def references(*links):
    """The seed's references that go with this page: (label key, url) pairs."""
    st.caption(" · ".join(f"[{t(key)}]({url})" for key, url in links))


def spec_error_text(error):
    """A `lib.models.ModelSpecError` in the page's language, naming the layer."""
    reason = t(f"errors.model.{error.code}", **error.details)
    if error.index:
        return t("errors.model.in_layer", index=error.index, type=error.layer_type, reason=reason)
    return reason


def start_button(label, key, *, container=st, icon=":material/play_arrow:", disabled=False):
    """The primary, full-width button that starts a run; True in the run after its click.
    The click travels as a flag set by the button's callback rather than as the button's own
    value: under AppTest a button's value is lost when the page was reached by a page switch."""
    flag = f"{key}_clicked"
    container.button(label, key=key, type="primary", icon=icon, width="stretch", disabled=disabled,
                     on_click=st.session_state.__setitem__, args=(flag, True))
    return bool(st.session_state.pop(flag, False)) and not disabled


def run_button(label, key, job, *, remember, container=st, icon=":material/play_arrow:", **keep):
    """A start button for `job` and the session's latest run of it: a click submits the job to
    the shared runner and keeps {"run", "job", **keep} in the session under `remember`.
    Returns that entry, or None before the first click. (No job: the button is disabled.)"""
    from lib import training

    if start_button(label, key, container=container, icon=icon, disabled=job is None):
        st.session_state[remember] = {"run": training.runner().submit(job), "job": job, **keep}
    return st.session_state.get(remember)


def run_notice(run):
    """(kind, text) saying why a run draws nothing yet or stopped short — waiting for a free
    trainer, failed, out of time, diverged — or None while it trains or when it simply ended.
    Every page that trains shows it, so a student never clicks into silence."""
    from lib import training

    if run.status == "queued":
        ahead = run.queue_position - 1
        key = "training.status.queued" if ahead > 0 else "training.status.next"
        return "info", t(key, ahead=ahead, slots=training.SLOTS)  # the server runner's size
    if run.status == "failed":
        return "error", t(f"training.error.{run.error['code']}", **run.error.get("details", {}),
                          message=run.error["message"])
    losses = run.history().get("loss", [])
    if run.status == "budget":
        return "warning", t("common.run.budget", budget=f"{run.job.budget_s:.0f}", epoch=len(losses))
    if run.status == "diverged":
        return "warning", t("common.run.diverged", epoch=len(losses), first=f"{losses[0]:.3g}" if losses else "?",
                            last=f"{losses[-1]:.3g}" if losses else "?")
    return None


def show_run_notice(slot, run):
    """Write `run_notice(run)` into `slot`; True if there was one."""
    notice = run_notice(run)
    if notice:
        getattr(slot, notice[0])(notice[1])
    return notice is not None


def follow(runs, redraw, every=0.3):
    """Redraw now and, while any of `runs` (a Run, a list of them, or None) waits or trains,
    again every `every` seconds. When the last one ends while the student watches, rerun the
    page so buttons and tables show the final state. Any control the student touches
    interrupts this loop (Streamlit reruns the page); the runs go on in their workers, and the
    new run of the page picks them up again."""
    runs = [r for r in (runs if isinstance(runs, (list, tuple)) else [runs]) if r is not None]
    redraw()
    if not any(r.active for r in runs):
        return
    while any(r.active for r in runs):
        time.sleep(every)
        redraw()
    st.rerun()
