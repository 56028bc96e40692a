"""Every widget of every page pushed to its edges: slider ends, every option, all and none of a
multiselect, hostile text in text fields and grid cells, each button — and never an exception
element. (The other page tests move each widget once; this one looks for the corners.)"""
import pytest

from lib import i18n, ui
from tests.helpers import open_page, settle, shown_code

HOSTILE_TEXT = ("", " ", "<script>alert(1)</script>", "' OR 1=1 --", "{lang}", "%s%s%n", "💥" * 50, "x" * 5000,
                "한국어 검색", "\u202eevil", "1e309", "-0", "NaN")
HOSTILE_CELLS = ("1_abc_0~0_1_0~0_0_1", "1e309_0_0~0_0_0~0_0_0", "1/0_0_0~0_0_0~0_0_0", "<b>_0_0~0_0_0~0_0_0",
                 "~~~", "1_2~3", "_" * 40, "nan_nan_nan~nan_nan_nan~nan_nan_nan")
PAGES = [info.file for info in ui.available_pages()]


def edges(widget, kind):
    """The values to try for one widget: its ends, every option, all and none, hostile text. A
    scale ends at its low end: the page's buttons then train the least the page allows (the edges
    of a run are the training tests'; here only 'never raises' is judged)."""
    if kind in ("checkbox", "toggle"):
        return [True, False]
    if kind == "slider":
        low, high = widget.min, widget.max
        return [(high, high), (low, high), (low, low)] if isinstance(widget.value, tuple) else [high, low]
    if kind == "select_slider":
        return [widget.options[-1], widget.options[0]]
    if kind == "number_input":
        low = widget.min if widget.min is not None else -1e9
        high = widget.max if widget.max is not None else 1e9
        return [high, low]
    if kind == "text_input":
        return list(HOSTILE_TEXT)
    if kind in ("selectbox", "radio", "segmented_control"):
        return [("option", option) for option in widget.options]
    if kind == "multiselect":
        return [("options", list(widget.options)), ("options", [])]
    return []


def set_edge(widget, value):
    from tests.helpers import _option_value

    if isinstance(value, tuple) and value and value[0] == "option":
        return widget.set_value(_option_value(widget, value[1]))
    if isinstance(value, tuple) and value and value[0] == "options":
        return widget.set_value([_option_value(widget, o) for o in value[1]])
    return widget.set_value(value)


KINDS = ("slider", "select_slider", "number_input", "selectbox", "radio", "segmented_control", "multiselect",
         "checkbox", "toggle", "text_input")


@pytest.mark.parametrize("page", PAGES)
def test_every_widget_at_its_edges_never_raises(page):
    at = open_page(page)
    tried = 0
    for kind in KINDS:
        for key in [w.key for w in getattr(at.main, kind)]:
            first = next((w for w in getattr(at.main, kind) if w.key == key), None)
            for value in edges(first, kind) if first is not None else ():
                matches = [w for w in getattr(at.main, kind) if w.key == key]
                if not matches or getattr(matches[0], "disabled", False):
                    break  # the widget went away (another control hid it) or cannot be used now
                set_edge(matches[0], value).run()
                assert not at.exception, f"{page}: {kind} {key!r} = {value!r}: {at.exception}"
                tried += 1
    for key in [b.key for b in at.main.button]:
        matches = [b for b in at.main.button if b.key == key]
        if matches and not matches[0].disabled:
            matches[0].click().run()
            assert not at.exception, f"{page}: button {key!r}: {at.exception}"
            settle(at)
            tried += 1
    assert tried or page == "lessons/overview.py", f"{page} has nothing to move"


@pytest.mark.parametrize("cells", HOSTILE_CELLS)
def test_hostile_kernel_cells_in_a_link_are_explained(cells):
    at = open_page("lessons/filters.py", query={"filters.kernel": "custom", "filters.cells": cells})
    assert not at.exception and (at.error or at.warning)  # said, not just drawn


HOSTILE_LINK_VALUES = ("inf", "nan", "-1e309", "1e12", "x" * 5000, ["1", "2"], "")
WIDGET_KINDS = ("slider", "select_slider", "number_input", "selectbox", "radio", "segmented_control", "multiselect",
                "checkbox", "toggle", "text_input")


def bound_widgets(at):
    """{URL key: widget} of every widget of the page bound to the URL in this run (lib.ui records
    the keys its URL-bound widgets read)."""
    keys = at.session_state["ui.bound"] if "ui.bound" in at.session_state else set()
    return {w.key: w for kind in WIDGET_KINDS for w in getattr(at, kind) if w.key in keys}


def reachable_keys(page):
    """The page's bound widgets at their defaults: those shown at first, and those its bound
    toggles and checkboxes show when on. {key: default value}, {toggle keys}."""
    defaults = {k: w.value for k, w in bound_widgets(open_page(page)).items()}
    switches = {k for k, value in defaults.items() if isinstance(value, bool)}
    shown = bound_widgets(open_page(page, query={k: "true" for k in switches}))
    return {**{k: w.value for k, w in shown.items()}, **defaults}, switches


def takes_as_given(widget, value):
    """Values a widget may rightly take from these links: short text in a text field, two numbers
    in range for a range slider."""
    kind = type(widget).__name__
    if kind == "TextInput":
        return isinstance(value, str) and len(value) <= 100
    return kind == "Slider" and isinstance(widget.value, tuple) and isinstance(value, list)


@pytest.mark.parametrize("page", PAGES)
def test_every_bound_key_in_a_hostile_link_starts_at_its_default_and_is_named(page):
    defaults, switches = reachable_keys(page)
    assert defaults or page in ("lessons/overview.py",), f"{page} has no bound widget"
    notice = i18n.translate("common.link_ignored", "en", settings="")
    for value in HOSTILE_LINK_VALUES:
        for on in ((), switches) if switches else ((),):
            query = {k: value for k in defaults}
            query.update({k: "true" for k in on})
            at = open_page(page, query=query)
            assert not at.exception, f"{page} with {str(value)[:20]!r}: {at.exception}"
            said = " ".join(w.value for w in at.warning if w.value.startswith(notice))
            for key, widget in bound_widgets(at).items():
                if key in on or takes_as_given(widget, value):
                    continue
                assert widget.value == defaults[key], f"{page}: {key}={str(value)[:20]!r} -> {widget.value!r}"
                assert ui.literal(key) + "=" in said, f"{page}: {key}={str(value)[:20]!r} not named in {said[:200]!r}"


def test_a_link_notice_is_one_line_of_plain_text():
    at = open_page("lessons/pooling.py", query={"pooling.grid": "<b>**hi**</b>", "pooling.pool_size": "inf"})
    said = [w.value for w in at.warning if w.value.startswith(i18n.translate("common.link_ignored", "en", settings=""))]
    assert len(said) == 1 and "\\n" not in said[0] and "\n" not in said[0]
    assert ui.literal("pooling.grid=<b>**hi**</b>") in said[0] and ui.literal("pooling.pool_size=inf") in said[0]


def test_a_required_choice_sent_empty_is_its_default_not_a_traceback():
    # Seen under the class's load test: a session's state reached /pooling with no mode (29 tracebacks
    # in 30 minutes); a browser cannot clear a required segmented control, a stale or forged state can.
    at = open_page("lessons/pooling.py")
    at.segmented_control(key="pooling.mode").set_value(None).run()
    assert not at.exception, at.exception
    assert "MaxPooling2D" in shown_code(at)
