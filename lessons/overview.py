"""Overview: the seed's missing figure — the whole journey from data to a saved model."""
import streamlit as st

from lib import plots, snippets, ui

t = ui.t
# Each step of the figure: what it does in two sentences, and the pages that show it.
STEPS = (
    ("data", ("training", "glossary")),
    ("layers", ("model", "filters", "pooling", "activations")),
    ("compile", ("losses", "optimizers")),
    ("fit", ("training", "overfitting")),
    ("evaluate", ("evaluate", "regression")),
    ("save", ("save_load",)),
)
REFERENCES = (("common.ref_keras", "https://keras.io/"),
              ("common.ref_keras_guide", "https://keras.io/guides/sequential_model/"))


def step_card(place, step, pages):
    """One step of the journey in `place`: its name, what it does, links to its pages."""
    with place.container(border=True):
        st.markdown(f"**{t(f'overview.fig.{step}')}**")
        st.markdown(t(f"overview.step.{step}"))
        for page_id in pages:
            ui.page_link(page_id)


ui.header("overview")
st.html(plots.pipeline_html(ui.lang()))  # boxes, not a chart: the first page draws at once
for row in (STEPS[:3], STEPS[3:]):
    for column, (step, pages) in zip(st.columns(3), row):
        step_card(column, step, pages)

st.info(t("overview.seed_note"))
ui.code_panel(snippets.pipeline_snippet(ui.lang()))
ui.references(*REFERENCES)
