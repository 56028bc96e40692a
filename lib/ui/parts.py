"""Parts of a page that redraw alone.

A nudge reruns the whole page: Streamlit sends every element of it again and the browser renders
every one (108 on Activations, for one slider: 2.4-3.0x the bare slider page's latency, 2 cores).
A part is a section drawn by a keyed fragment: a nudge of one of its controls reruns and sends
that part alone. What it computed is kept for the rest of the page (`part_result`), and a control
whose setting another part shows too (the page's code, at its end) reruns those parts with it
(`redraws`). The tasks in the sidebar are drawn on the whole page's run; a part that returns its
"facts" asks for one when they would change (`lib.ui.task_panel.recheck`).

    @ui.part("activations", "explorer")
    def explorer():
        x0 = ui.bound(st.slider, ..., on_change=ui.redraws("activations", "explorer", "end"))
        ...
        return {"x0": x0, "facts": {...}}           # ui.part_result("activations", "explorer")["x0"]
"""
import functools

import streamlit as st
from streamlit.errors import StreamlitAPIException
from streamlit.runtime.scriptrunner import get_script_run_ctx

from lib.ui.task_panel import recheck

RESULTS = "parts"  # session key prefix: what each part returned on its latest run

# False: `redraws` leaves the rerun to Streamlit (the control's own part). Streamlit's AppTest (1.67)
# takes the output of a rerun of named parts for the whole page, so the page tests, which run whole
# pages, set it (tests/conftest.py); the browser tests check the parts (tests/test_browser.py).
RERUN_NAMED_PARTS = True


def part(page_id, name):
    """Draw the decorated function as the part `name` of page `page_id` (a keyed fragment): it
    reruns alone when one of its own controls moves. Calling it (on the page's run) returns what
    the function returned; a rerun of the part alone keeps that for `part_result`, and checks the
    page's tasks again with its "facts" when it returned any (`lib.ui.task_panel.recheck`)."""
    key = f"{page_id}.{name}"

    def decorate(draw):
        def kept(*args, **kwargs):
            result = st.session_state[f"{RESULTS}.{key}"] = draw(*args, **kwargs)
            if alone() and isinstance(result, dict) and "facts" in result:
                recheck(page_id, result["facts"])

        fragment = st.fragment(kept, key=key)

        @functools.wraps(draw)
        def drawn(*args, **kwargs):
            fragment(*args, **kwargs)
            return st.session_state.get(f"{RESULTS}.{key}")
        return drawn
    return decorate


def part_result(page_id, name):
    """What part `name` of the page returned on its latest run (None before it ran)."""
    return st.session_state.get(f"{RESULTS}.{page_id}.{name}")


def redraws(page_id, *names, first=None):
    """An `on_change` for a control whose setting parts `names` of the page show (name its own part
    too): they rerun together, in the page's order, and nothing else does. `first`: a callback of
    the control's own, called before."""
    keys = [f"{page_id}.{name}" for name in names]

    def rerun():
        if first is not None:
            first()
        if not RERUN_NAMED_PARTS:
            return
        try:
            st.rerun(keys)
        except StreamlitAPIException:  # a part the page has not drawn yet (a nudge during its first run)
            st.rerun()
    return rerun


def reruns_page(first=None):
    """An `on_change` for a control in a part whose setting the rest of the page reads too: the
    whole page reruns. `first`: a callback of the control's own, called before."""
    def rerun():
        if first is not None:
            first()
        if RERUN_NAMED_PARTS:
            st.rerun()
    return rerun


def alone():
    """Is this run a rerun of parts alone (not the whole page's run)?"""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)
