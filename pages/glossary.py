"""Glossary: the seed's terms and analogies, and every term the pages use, linked to its page."""
import streamlit as st

from lib import data, plots, ui

t = ui.t
# (group, terms); each term is (id in the catalog, the page that shows it).
TERMS = (
    ("data", (("dataset", "training"), ("train_set", "training"), ("test_set", "evaluate"),
              ("validation_set", "overfitting"), ("label", "training"), ("ground_truth", "losses"),
              ("one_hot", "activations"))),
    ("layers", (("model", "model"), ("layer", "model"), ("deep_learning", "model"), ("sequential", "model"),
                ("parameter", "model"), ("convolution", "filters"), ("kernel", "filters"),
                ("feature_map", "filters"), ("stride", "filters"), ("padding", "filters"),
                ("pooling", "pooling"), ("flatten", "model"), ("dense", "model"), ("dropout", "overfitting"),
                ("activation", "activations"), ("relu", "activations"), ("sigmoid", "activations"),
                ("softmax", "activations"), ("maxout", "activations"))),
    ("compile", (("compile", "losses"), ("loss", "losses"), ("cross_entropy", "losses"), ("mse", "losses"),
                 ("mae", "losses"), ("metric", "losses"), ("accuracy", "losses"), ("optimizer", "optimizers"),
                 ("gradient", "optimizers"), ("sgd", "optimizers"), ("momentum", "optimizers"),
                 ("rmsprop", "optimizers"), ("adam", "optimizers"))),
    ("train", (("fit", "training"), ("epoch", "training"), ("batch_size", "training"),
               ("learning_rate", "training"), ("hyperparameter", "training"), ("overfitting", "overfitting"),
               ("regularization", "overfitting"), ("early_stopping", "overfitting"),
               ("augmentation", "overfitting"))),
    ("use", (("evaluate", "evaluate"), ("predict", "evaluate"), ("save_load", "save_load"))),
)
SEED_TERMS = ("train_set", "test_set", "label", "ground_truth")  # the note's own analogies


@st.cache_data(show_spinner=False)
def analogy_figure(lang):
    digits = data.load_dataset("digits")
    return plots.workbook_figure(digits.x_train[:6], digits.y_train[:6], digits.x_test[:6], digits.y_test[:6], lang)


ui.header("glossary")
ui.plot(analogy_figure(ui.lang()))
query = st.text_input(t("glossary.search"), key="glossary.q", bind="query-params", placeholder=t("glossary.search_hint"))
needle = query.strip().lower()
shown = 0
for group, terms in TERMS:
    matches = [(term, page) for term, page in terms
               if needle in (t(f"glossary.term.{term}.name") + " " + t(f"glossary.term.{term}.text")).lower()]
    if not matches:
        continue
    st.subheader(t(f"glossary.group.{group}"))
    for term, page in matches:
        shown += 1
        with st.container(border=True):
            st.markdown(f"**{t(f'glossary.term.{term}.name')}** — {t(f'glossary.term.{term}.text')}")
            if term in SEED_TERMS:
                st.caption(t("glossary.seed_says", analogy=t(f"glossary.term.{term}.seed")))
            ui.page_link(page, t("glossary.see", page=t(f"nav.{page}")))
if not shown:
    st.info(t("glossary.nothing", query=query))
