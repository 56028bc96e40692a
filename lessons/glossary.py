"""Glossary: the seed's terms and analogies, and every term the pages use, linked to its page."""
import itertools

import streamlit as st

from lib import data, glossary, plots, ui

t = ui.t
key = ui.keys("glossary")


@ui.shared_figure
def analogy_figure(lang):
    """The seed's analogy: six digits of the workbook (the train set), six of the mock exam."""
    digits = data.load_dataset("digits")
    return plots.workbook_figure(digits.x_train[:6], digits.y_train[:6],
                                 digits.x_test[:6], digits.y_test[:6], lang)


def term_card(term):
    """One term: what it means, the seed's analogy when it has one, and the page that shows it."""
    words = f"glossary.term.{term.id}"
    with st.container(border=True):
        st.markdown(f"**{t(f'{words}.name')}** — {t(f'{words}.text')}")
        if term.id in glossary.SEED_TERMS:
            st.caption(t("glossary.seed_says", analogy=t(f"{words}.seed")))
        ui.page_link(term.page, t("glossary.see", page=t(f"nav.{term.page}")))


ui.header("glossary")
ui.plot(analogy_figure(ui.lang()))
query = ui.bound(st.text_input, t("glossary.search"), key=key("q"),
                 placeholder=t("glossary.search_hint"))
found = glossary.search(query, ui.lang())
for group, terms in itertools.groupby(found, key=lambda term: term.group):
    st.subheader(t(f"glossary.group.{group}"))
    for term in terms:
        term_card(term)
if not found:
    st.info(t("glossary.nothing", query=ui.literal(query)))
