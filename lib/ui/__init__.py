"""The shared Streamlit pieces every page uses: language, text, navigation, headers, code panel.

The only module in `lib` that imports Streamlit. Pages read widgets, call the rest of `lib`, and
show what comes back through these helpers, so every page looks and speaks alike.
"""
import dataclasses
import inspect
import math
import os
import pathlib
import time
import uuid

import streamlit as st

from lib import i18n
from lib.ui import models
from lib.ui.models import LOADED_MODEL, TRAINING_RUN  # noqa: F401  (the names pages use)

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODEL_STACK = "model_stack"  # the session's stack from the Model & layers page, which other pages use
PLOT_CONFIG = {"displayModeBar": False, "scrollZoom": False}
# Pages a host leaves out of the menu, by URL path: KERAS_CLASSROOM_HIDE=save-load on a small host
# (that page starts a model-loading process of its own), or lessons a class has not reached yet.
HIDDEN = {p.strip().strip("/") for p in os.environ.get("KERAS_CLASSROOM_HIDE", "").split(",")} - {""}


@dataclasses.dataclass(frozen=True)
class PageInfo:
    id: str  # catalog key prefix and glossary link target
    file: str
    url_path: str
    icon: str
    section: str
    needs: str = "keras"  # what it computes with: "keras", "class_model" (trained once per server), or "" (nothing heavy)


# The seed's flow. A page whose file does not exist yet is simply not listed.
PAGES = (
    PageInfo("overview", "lessons/overview.py", "", ":material/account_tree:", "start", needs=""),
    PageInfo("model", "lessons/model.py", "model", ":material/stacks:", "build"),
    PageInfo("filters", "lessons/filters.py", "filters", ":material/blur_on:", "build", needs="class_model"),
    PageInfo("pooling", "lessons/pooling.py", "pooling", ":material/grid_view:", "build"),
    PageInfo("activations", "lessons/activations.py", "activations", ":material/show_chart:", "build"),
    PageInfo("losses", "lessons/losses.py", "losses", ":material/straighten:", "compile"),
    PageInfo("optimizers", "lessons/optimizers.py", "optimizers", ":material/route:", "compile"),
    PageInfo("training", "lessons/training.py", "training", ":material/model_training:", "train"),
    PageInfo("overfitting", "lessons/overfitting.py", "overfitting", ":material/ssid_chart:", "train"),
    PageInfo("evaluate", "lessons/evaluate.py", "evaluate", ":material/fact_check:", "use", needs="class_model"),
    PageInfo("save_load", "lessons/save-load.py", "save-load", ":material/save:", "use", needs="class_model"),
    PageInfo("glossary", "lessons/glossary.py", "glossary", ":material/menu_book:", "reference", needs=""),
)
SECTIONS = ("start", "build", "compile", "train", "use", "reference")


def available_pages():
    """The pages that exist and the host did not hide, in the seed's order (the overview stays)."""
    return [p for p in PAGES if (ROOT / p.file).exists() and (p.url_path not in HIDDEN or not p.url_path)]


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
    """A widget's `format_func` showing option `v` as the text of `prefix.v` (of the first prefix
    that has it, when several are given).

    The language is fixed when it is made: Streamlit may call a format_func outside the script
    run, where the session (and so the language) is out of reach.
    """

    def __init__(self, *prefixes):
        self.prefixes, self.lang = prefixes, lang()

    def __call__(self, value):
        texts = i18n.catalog(self.lang)
        return next(texts[f"{p}.{value}"] for p in self.prefixes if f"{p}.{value}" in texts)


def literal(text):
    """Text a student typed (or a link carried), shown inside Markdown exactly as it is: every
    character Markdown would read as markup is escaped."""
    return "".join("\\" + c if c in "\\`*_{}[]()#+-.!|<>~" else c for c in str(text))


def keys(page_id):
    """The widget keys of one page: `key = ui.keys("filters")`, then `key("stride")` is
    "filters.stride". Keys must differ between pages (Streamlit mixes up same-key widgets of two
    pages at a page switch), and a bound widget's key is its name in the URL, so a class link
    reads `?filters.stride=2`."""
    return lambda name: f"{page_id}.{name}"


def choice(widget, label, options, *, key, default=None, labels=None, **kwargs):
    """A select-type widget (st.selectbox, st.segmented_control, st.radio, st.multiselect) whose
    choice lives in the URL as the option itself (`?filters.kernel=sobel_x`), the same in every
    language. (Streamlit's own `bind="query-params"` writes the *displayed* label there, which
    would tie a class link to one language; numbers and text, which have no labels, use `bind`.)
    """
    options = list(options)
    multi = widget is st.multiselect
    if default is None:
        default = [] if multi else options[0]
    if key not in st.session_state:  # the first run of this page in this session: the link decides
        st.session_state[key] = _from_url(key, options, default, multi)
    st.session_state.setdefault(BOUND, set()).add(key)
    value = widget(label, options, key=key, format_func=labels or str, **kwargs)
    if value == default or value is None:
        st.query_params.pop(key, None)
    else:
        st.query_params[key] = [str(v) for v in value] if multi else str(value)
    return value


def _from_url(param, options, default, multi):
    """The choice a link makes (the option's own text), or `default` — and a link that asks for
    what is not an option is noted as ignored (see `ignored_in_link`)."""
    by_text = {str(option): option for option in options}
    asked = st.query_params.get_all(param)
    if not asked:
        return default
    if multi and all(a in by_text for a in asked) and len(set(asked)) == len(asked):
        return [by_text[a] for a in asked]
    if not multi and len(asked) == 1 and asked[0] in by_text:
        return by_text[asked[0]]
    _ignore(param, asked)
    return default


# --- Links: a class link is a URL anyone can edit ----------------------------------------------

MAX_LINK_TEXT = 100  # characters of a text field a link may fill (the glossary's search)
IGNORED = "ui.ignored"  # session key: [(URL key, what it asked)] that this run left at its default
BOUND = "ui.bound"  # session key: the URL keys this session's widgets have read (their links checked)


def bound(widget, label, *args, key, **kwargs):
    """A number, toggle, slider, select slider, text or select box bound to the URL (`?key=value`,
    Streamlit's bind="query-params"), whose value in a link is checked before Streamlit reads it:
    a value that is not one this widget can take (not a number, inf, nan, out of range, not an
    option, too long, repeated) is dropped from the URL, so the widget starts at its default,
    and noted for the page's one-line notice (`ignored_in_link`)."""
    seen = st.session_state.setdefault(BOUND, set())
    if key not in seen and key in st.query_params:  # Streamlit reads a link once, at a widget's first run
        spec = inspect.signature(widget).bind(label, *args, **kwargs).arguments
        asked = st.query_params.get_all(key)
        if not _takes(widget.__name__, spec, asked):
            _drop_from_link(key)
            _ignore(key, asked)
    seen.add(key)
    return widget(label, *args, key=key, bind="query-params", **kwargs)


def _takes(kind, spec, asked):
    """Can the widget of `kind`, made with `spec`, take the URL values `asked` as they are?"""
    if kind in ("slider", "number_input"):
        low, high = spec.get("min_value"), spec.get("max_value")
        default = spec.get("value", low)
        whole = all(isinstance(v, int) for v in (low, high) if v is not None)
        numbers = [_finite(a) for a in asked]
        return (len(asked) == (2 if isinstance(default, (tuple, list)) else 1)
                and all(n is not None and (not whole or n == int(n)) and (low is None or n >= low)
                        and (high is None or n <= high) for n in numbers))
    if kind == "select_slider":
        texts = {str(spec.get("format_func", str)(option)) for option in spec["options"]}
        return len(asked) == (2 if isinstance(spec.get("value"), (tuple, list)) else 1) and set(asked) <= texts
    if kind == "selectbox":
        texts = {str(spec.get("format_func", str)(option)) for option in spec["options"]}
        return len(asked) == 1 and asked[0] in texts
    if kind in ("toggle", "checkbox"):
        return len(asked) == 1 and asked[0].lower() in ("true", "false")
    return len(asked) == 1 and len(asked[0]) <= min(spec.get("max_chars") or MAX_LINK_TEXT, MAX_LINK_TEXT)


def _drop_from_link(key):
    """Remove `key` from the URL — and from the link the session started with, which is what
    Streamlit 1.67 seeds a bound widget from (`QueryParams._initial_query_params`: no public way)."""
    from streamlit.runtime.state.session_state_proxy import get_session_state

    with get_session_state().query_params() as params:
        params.remove_param(key)
        params._initial_query_params.pop(key, None)


def _finite(text):
    """A finite number from a link's text, or None (inf, nan, 1e309, words)."""
    try:
        number = float(text)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _ignore(key, asked):
    st.session_state.setdefault(IGNORED, []).append((key, asked))


def ignored_in_link(place):
    """After the page has run: one line in `place` naming what this run's link asked for and did
    not get (each setting left at its default), shown as plain text; nothing when all was taken."""
    ignored = st.session_state.pop(IGNORED, [])
    if ignored:
        shown = ", ".join(f"{key}={'&'.join(asked)[:40]}" for key, asked in ignored)
        place.warning(t("common.link_ignored", settings=literal(shown)), icon=":material/link_off:")


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


def get_ready(page):
    """Before a page that computes with Keras runs on a fresh server: a note at the top of the page
    saying what the student waits for (TensorFlow's import, the class model's training) — never an
    empty column. The page itself runs at once and draws what it can; the note is returned, for the
    caller to clear when the page has run. None on a warm server, or for a page that needs nothing."""
    from lib import server

    info = next((p for p in PAGES if (p.url_path or None) == (page.url_path or None)), None)
    needs = info.needs if info else ""
    pending = [name for name, event in (("keras", server.imported), ("class_model", server.class_model_ready))
               if needs and not event.is_set() and (name == "keras" or needs == "class_model")]
    if not pending:
        return None
    note = st.empty()
    note.info(t(f"common.preparing.{'_and_'.join(pending)}", page=t(f"nav.{info.id}")),
              icon=":material/hourglass_top:")
    time.sleep(0.2)  # the note reaches the browser before TensorFlow's import holds the interpreter
    return note


def class_link():
    """This page's address with its settings and language: the link a teacher shares."""
    import urllib.parse

    base = (st.context.url or "").split("?")[0]
    pairs = [(k, v) for k in st.query_params for v in st.query_params.get_all(k)]
    return base + ("?" + urllib.parse.urlencode(pairs) if pairs else "")


QR_SCALE, QR_BORDER = 16, 2  # pixels per module, and modules of quiet zone around the code


def qr_png(link):
    """The link as a QR code, a PNG with big modules: readable by a phone from the back of a room."""
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
    groups = {}
    for info in available_pages():
        page = st.Page(info.file, title=t(f"nav.{info.id}"), icon=info.icon,
                       url_path=info.url_path or None, default=info.id == "overview")
        groups.setdefault(t(f"nav.section.{info.section}"), []).append(page)
    page = st.navigation(groups)
    st.query_params["lang"] = lang()  # after st.navigation, which starts a new page's URL afresh
    share_button()
    return page


# --- Page furniture ------------------------------------------------------------------------

def header(page_id):
    """The page's title and its idea in two sentences."""
    st.title(t(f"{page_id}.title"))
    st.markdown(t(f"{page_id}.idea"))


def page_link(page_id, label=None):
    """A link to another page in the current language; nothing when that page is not built."""
    if is_available(page_id):
        info = page_info(page_id)
        st.page_link(info.file, label=label or t(f"nav.{page_id}"), icon=info.icon,
                     query_params={"lang": lang()})


_SHARED_FIGURES = {}  # (module, name) -> the cached builder (a page file runs again on every rerun)


def shared_figure(builder):
    """Cache a figure builder for all sessions, by its arguments. A built figure is never changed
    (st.plotly_chart only reads it), so sessions share it without the copy st.cache_data makes
    on every rerun — unpickling a figure of many small images cost tens of milliseconds."""
    cached = st.cache_resource(max_entries=64, show_spinner=False)(builder)
    _SHARED_FIGURES[(builder.__module__, builder.__qualname__)] = cached
    return cached


def forget_figures():
    """Drop the figures and page results cached for all sessions (shared_figure, st.cache_data).
    Called once the class has left (lib.server): an idle server gives that memory back, and the
    next student's page draws them again."""
    for cached in list(_SHARED_FIGURES.values()):
        cached.clear()
    st.cache_data.clear()


def plot(figure, key=None):
    """Every figure of every page goes through here: one look (no mode bar, no scroll zoom)."""
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


def say(refusal, *, kind="error", icon=":material/block:", then=""):
    """A refusal of `lib` (any `lib.errors.Refusal`) in the page's language, as one message box;
    `then` says what the page does instead."""
    text = t(f"{refusal.catalog}.{refusal.code}", **refusal.details)
    getattr(st, kind)(f"{text} {then}".strip(), icon=icon)


def pass_cost(cost_of_pass):
    """"One example needs X MB and Y M multiply-adds": what a pass of a model costs (lib.cost),
    and a warning when one example is more than a pass may use here."""
    from lib import cost

    st.caption(t("cost.summary", memory=cost.megabytes(cost_of_pass.example_bytes),
                 multiply_adds=cost.millions(cost_of_pass.multiply_adds), budget=cost.megabytes(cost.PASS_MEMORY_BYTES),
                 batch=cost_of_pass.batch_size(), seconds=f"{cost.EXAM_SECONDS:g}",
                 rate=f"{cost.MULTIPLY_ADDS_PER_SECOND / 1e9:g}"))
    try:
        cost_of_pass.check(0)
    except cost.PassTooCostly as e:
        say(e, kind="warning")


def spec_error_text(error):
    """A `lib.models.ModelSpecError` in the page's language, naming the layer."""
    reason = t(f"errors.model.{error.code}", **error.details)
    if error.index:
        return t("errors.model.in_layer", index=error.index, type=error.layer_type, reason=reason)
    return reason


def image_input(source, key):
    """The image of a chosen source — a bundled photo ("china", "flower"), a digit of the set
    (a number box says which), or an upload ("upload") — and the recipe the shown code makes it
    from. An upload that is not a usable image says why and falls back to the China photo."""
    from lib import data

    if source == "digit":
        index = bound(st.number_input, t("image.digit", last=data.DIGIT_COUNT - 1), 0, data.DIGIT_COUNT - 1, 0,
                      key=key)
        image, label = data.digit(index)
        st.caption(t("image.digit_label", label=label))
        return image, dict(source="digit", digit_index=index)
    if source == "upload":
        upload = st.file_uploader(t("image.upload"), type=["png", "jpg", "jpeg"], key=key,
                                  max_upload_size=data.MAX_UPLOAD_BYTES // 2 ** 20)
        if upload is not None:
            try:
                image, factor = data.image_from_bytes(upload.getvalue(), max_side=data.PHOTO_SIDE)
                return image, dict(source="upload", upload_name=upload.name, factor=factor)
            except data.ImageUnreadable as e:
                st.error(t(f"image.bad_upload.{e.code}", **e.details), icon=":material/broken_image:")
        st.caption(t("image.upload_fallback"))
        source = "china"
    image, factor = data.photo(source)
    return image, dict(source=source, factor=factor)


def dense_unit_view(model, x, key, caption, outputs=None):
    """The study note's Dense layer on real numbers: choose a Dense layer of `model` and one of its
    units, and see its arithmetic on input `x` — the largest terms of x·W, plus b, through the
    activation — equal to what Keras's layer outputs. `outputs` are the layers' outputs for x when
    the page has them (a stranger's model is never run here); else this server's own model is run.
    Returns (layer name, its position, unit), or None."""
    import pandas as pd

    from lib import evaluate

    dense = [layer.name for layer in model.layers if type(layer).__name__ == "Dense"]
    if not dense:
        return None
    st.subheader(t("dense.title"))
    st.markdown(t("dense.idea"))
    st.caption(caption)
    left, right = st.columns(2)
    name = bound(left.selectbox, t("dense.layer"), dense, key=key("dense_layer"))
    layer = model.get_layer(name)
    st.session_state[key("dense_unit")] = min(st.session_state.get(key("dense_unit"), 0), layer.units - 1)  # stay inside
    unit = bound(right.number_input, t("dense.unit", last=layer.units - 1), 0, layer.units - 1, key=key("dense_unit"))
    position = model.layers.index(layer)
    outputs = outputs if outputs is not None or position == 0 else evaluate.layer_outputs(model, x[None])
    inputs = x if position == 0 else outputs[position - 1][1][0]
    kernel, bias = layer.get_weights()
    if inputs.ndim > 1:  # Dense on an image works on each position's numbers separately: show the first
        st.caption(t("dense.per_position", shape="×".join(map(str, inputs.shape[:-1])), n=inputs.shape[-1]))
    unit_math = evaluate.dense_unit(inputs.reshape(-1, len(kernel))[0], kernel, bias, layer.get_config()["activation"],
                                    unit)
    st.dataframe(pd.DataFrame([{t("dense.col.input"): f"x[{i}]", "x": round(xi, 4), "w": round(wi, 4),
                                "x·w": round(term, 4)} for i, xi, wi, term in unit_math.terms]), hide_index=True)
    st.markdown(t("dense.sum", shown=len(unit_math.terms), inputs=len(kernel), rest=f"{unit_math.rest:.4f}",
                  total=f"{unit_math.weighted_sum:.4f}", bias=f"{unit_math.bias:.4f}", z=f"{unit_math.z:.4f}",
                  activation=unit_math.activation, output=f"{unit_math.output:.4f}"))
    return name, position, int(unit)


def start_button(label, key, *, container=st, icon=":material/play_arrow:", disabled=False):
    """The primary, full-width button that starts a run; True in the run after its click.
    The click travels as a flag set by the button's callback rather than as the button's own
    value: under AppTest a button's value is lost when the page was reached by a page switch."""
    flag = f"{key}.clicked"
    container.button(label, key=key, type="primary", icon=icon, width="stretch", disabled=disabled,
                     on_click=st.session_state.__setitem__, args=(flag, True))
    return bool(st.session_state.pop(flag, False)) and not disabled


# --- The live run: start, follow and draw a training run ---------------------------------------

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
