"""The furniture every page shares, in the order a page shows it: its header, its controls beside
its picture, a figure, what to notice, the code, the references; the start button of a run."""
import streamlit as st

from lib.ui.pages import PAGES, is_available, page_info
from lib.ui.text import lang, say, t

PLOT_CONFIG = {"displayModeBar": False, "scrollZoom": False}


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


def section(page_id, name, *, idea=True):
    """A part of a page: its title (`<page>.<name>_title`) and, with `idea`, the paragraph that
    says what to look at (`<page>.<name>_idea`)."""
    st.subheader(t(f"{page_id}.{name}_title"))
    if idea:
        st.markdown(t(f"{page_id}.{name}_idea"))


def controls_and_picture():
    """The two columns of a part that teaches by moving something: the controls on the left, the
    picture they change on the right, wider. `controls, picture = ui.controls_and_picture()`."""
    return st.columns([1, 2.4], gap="large")


def table(columns, prefix=None, **options):
    """A table of `columns` ({heading: values}) without the row numbers. With `prefix`, a heading
    the catalog has as `<prefix>.<heading>` is shown in the page's language (others as they are:
    "f(x)", "x·w"); `options` go to st.dataframe (column_config, ...)."""
    import pandas as pd

    named = _headed(columns, prefix)
    config = options.pop("column_config", None)
    if config and prefix:
        config = _headed(config, prefix)
    st.dataframe(pd.DataFrame(named), hide_index=True, column_config=config, **options)


def _headed(columns, prefix):
    """{heading: anything} with each heading the catalog has as `<prefix>.<heading>` in the page's
    language."""
    from lib import i18n

    texts = i18n.catalog(lang()) if prefix else {}
    return {texts.get(f"{prefix}.{heading}", heading): values for heading, values in columns.items()}


def live_table(columns, prefix=None, formats=None):
    """A few rows of numbers that follow a control (`table`'s arguments; `formats`: {heading:
    "{:.4g}"}), drawn as a plain table: it changes with the picture beside it. (st.dataframe's grid
    shows new numbers ~190 ms after they arrive: a 3-row table on the bare slider page took it from
    95 to 281 ms a nudge to settle, in Chromium; a plain table, 99.)"""
    import pandas as pd

    frame = pd.DataFrame(_headed(columns, prefix))
    formats = _headed(formats or {}, prefix)
    # every column in one call: a second Styler.format puts the columns it does not name back to 1.000000
    shown = {heading: formats.get(heading, _short_number) for heading in frame.columns}
    st.table(frame.style.format(shown, na_rep="—"), hide_index=True, width="content")


def _short_number(value):
    """A float as a reader writes it (1.1, not 1.100000: the plain table's default); others as
    they are."""
    return f"{value:.6g}" if isinstance(value, float) else value


def plot(figure, key=None):
    """Every figure of every page goes through here: one look (no mode bar, no scroll zoom)."""
    st.plotly_chart(figure, config=PLOT_CONFIG, key=key)


def pictures(images, captions, across):
    """Pictures (PNG bytes) side by side, `across` a row, each above its caption: where a chart
    drawn anew at every nudge would cost the browser too much and nobody needs to hover."""
    for first in range(0, len(images), across):
        for place, image, caption in zip(st.columns(across), images[first:], captions[first:]):
            place.image(image, caption=caption, width="stretch", output_format="PNG")  # as drawn, not JPEG


def notice(page_id):
    """'What to notice': the page's short list of things to look for."""
    st.subheader(t("common.notice"))
    st.markdown(t(f"{page_id}.notice"))


def code_panel(code, *, page_id=None, part=None, heading=True):
    """The runnable Keras code for what the page shows (Streamlit's code block has a copy button),
    and beside it the same code to take home: a `.py` and a Jupyter notebook, one cell a step.
    The files are named for `page_id` (default: the page being drawn) and `part` (a second code
    block of one page); `heading=False` leaves out the title and the hint (for an expander)."""
    if heading:
        st.subheader(t("common.code"))
        st.caption(t("common.code_hint"))
    st.code(code, language="python")
    _code_downloads(code, page_id, part)


def _code_downloads(code, page_id, part):
    """Two download buttons: the code as `keras-classroom-<page>.py` and as `.ipynb`. A click does
    not rerun the page. The notebook is built when its button is clicked (Streamlit calls `data`
    then, outside the page's run): built on every run, it took 3.7 % of a class's server time
    (py-spy --gil on bench/class_load.py sliders, 30 students)."""
    from lib.snippets import notebook

    page_id = page_id or _drawn_page_id()
    stem = "-".join(n.replace("_", "-") for n in ("keras-classroom", page_id, part) if n)
    title = t(f"{page_id}.title") if page_id else None
    language = lang()  # (read now: the callable runs without the session)
    with st.container(horizontal=True):
        st.download_button(t("code.download.py"), notebook.script(code), file_name=f"{stem}.py",
                           mime="text/x-python", key=f"{stem}-py", on_click="ignore",
                           icon=":material/download:",
                           help=t("code.download.py_help", file=f"{stem}.py"))
        book = lambda: notebook.notebook(code, language, title).encode("utf-8")  # noqa: E731
        st.download_button(t("code.download.notebook"), book, file_name=f"{stem}.ipynb",
                           mime="application/x-ipynb+json", key=f"{stem}-ipynb", on_click="ignore",
                           icon=":material/download:", help=t("code.download.notebook_help"))


def _drawn_page_id():
    """The id of the page Streamlit is running (pages that call code_panel without one), or None:
    then the files are plain keras-classroom.py/.ipynb (Streamlit's page registry is internal)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    try:
        ctx = get_script_run_ctx()
        path = str(ctx.pages_manager.get_pages()[ctx.page_script_hash]["script_path"])
    except (AttributeError, KeyError, TypeError):
        return None
    return next((p.id for p in PAGES if path.endswith(p.file)), None)


def references(*links):
    """The seed's references that go with this page: (label key, url) pairs."""
    st.caption(" · ".join(f"[{t(key)}]({url})" for key, url in links))


def page_end(page_id, code, *links):
    """How every lesson ends: what to notice, the runnable code for what it shows, its references
    ((label key, url) pairs)."""
    notice(page_id)
    code_panel(code, page_id=page_id)
    references(*links)


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


def start_button(label, key, *, container=st, icon=":material/play_arrow:", disabled=False):
    """The primary, full-width button that starts a run; True in the run after its click.
    The click travels as a flag set by the button's callback rather than as the button's own
    value: under AppTest a button's value is lost when the page was reached by a page switch."""
    flag = f"{key}.clicked"
    container.button(label, key=key, type="primary", icon=icon, width="stretch", disabled=disabled,
                     on_click=st.session_state.__setitem__, args=(flag, True))
    return bool(st.session_state.pop(flag, False)) and not disabled
