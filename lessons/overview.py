"""Overview: the seed's missing figure — the whole journey from data to a saved model."""
import streamlit as st

from lib import plots, snippets, ui

t = ui.t
ui.header("overview")
ui.plot(plots.pipeline_figure(ui.lang()))

# Each step of the figure: what it does in two sentences, and the pages that show it.
STEPS = (
    ("data", ("training", "glossary")),
    ("layers", ("model", "filters", "pooling", "activations")),
    ("compile", ("losses", "optimizers")),
    ("fit", ("training", "overfitting")),
    ("evaluate", ("evaluate",)),
    ("save", ("save_load",)),
)
for row in (STEPS[:3], STEPS[3:]):
    for column, (step, pages) in zip(st.columns(3), row):
        with column.container(border=True):
            st.markdown(f"**{t(f'overview.fig.{step}')}**")
            st.markdown(t(f"overview.step.{step}"))
            for page_id in pages:
                ui.page_link(page_id)

st.info(t("overview.seed_note"))
ui.code_panel(snippets.pipeline_snippet(ui.lang()))
ui.references(("common.ref_keras", "https://keras.io/"), ("common.ref_keras_guide", "https://keras.io/guides/sequential_model/"))
