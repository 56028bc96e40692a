"""Parts of a page that redraw alone (lib/ui/parts.py), where AppTest can tell: what a part keeps
for the page, and a nudge that names a part the page has not drawn yet. What a part sends the
browser, and a task done from one, are checked in Chromium (tests/test_browser.py)."""
from streamlit.testing.v1 import AppTest

from lib.ui import parts


def _page():
    import streamlit as st

    from lib import ui

    @ui.part("demo", "doubled")
    def doubled():
        n = st.slider("n", 0, 10, 3, key="demo.n", on_change=ui.redraws("demo", "doubled", "not_drawn_yet"))
        return {"twice": 2 * n}

    st.markdown(f"doubled returned {doubled()['twice']}, kept {ui.part_result('demo', 'doubled')['twice']}")


def test_a_part_returns_what_it_drew_and_keeps_it_for_the_page():
    at = AppTest.from_function(_page).run()
    assert not at.exception and at.markdown[0].value == "doubled returned 6, kept 6"


def test_a_nudge_that_names_a_part_not_drawn_yet_reruns_the_whole_page_instead(monkeypatch):
    """A student who nudges during a page's first run (its end not drawn yet) gets the whole page,
    not Streamlit's "No fragment found for target"."""
    monkeypatch.setattr(parts, "RERUN_NAMED_PARTS", True)
    at = AppTest.from_function(_page).run()
    at.slider(key="demo.n").set_value(5).run()
    assert not at.exception and at.markdown[0].value == "doubled returned 10, kept 10"
