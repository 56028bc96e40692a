"""Evaluate & predict: the mock exam, where the model goes wrong, and one digit followed through it."""
import dataclasses

import numpy as np
import pandas as pd
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from lib import data, evaluate, plots, snippets, ui
from lib.errors import Refusal
from lib.passes import as_passes as passes_of

t, key = ui.t, ui.keys("evaluate")
SOURCES = ("class", "yours", "loaded")
ANY = -1  # the cell choice that means "every class"


@dataclasses.dataclass(frozen=True)
class Choice:
    """The model this page grades, how it runs, and what the page says and shows about it."""
    passes: object  # lib.passes: this server's own model runs here, a stranger's in its own process
    dataset: str
    test_size: float
    report: object
    about: str
    recipe: dict  # the shown code's recipe


def yours(entry):
    """The newest model of the Training page (built and run here: the server built it)."""
    name, test_size, passes = entry.job.data.name, entry.job.data.test_size, passes_of(entry.run.model())
    about = t("evaluate.about.yours", optimizer=entry.job.compile.optimizer, epochs=entry.run.epochs_done(),
              rate=f"{entry.job.compile.learning_rate:g}", batch=entry.job.fit.batch_size,
              dataset=t(f"training.datasets.{name}"), status=t(f"training.state.{entry.run.status}"))
    report = ui.models.session_exam(passes, name, test_size, ("run", entry.run.id))
    return Choice(passes, name, test_size, report, about, dict(source="yours", job=entry.job))


def from_file(loaded):
    """The model loaded on Save & load, graded and followed through its passes (a stranger's file runs
    only in its own locked-down process); a Functional chain is followed layer by layer."""
    evaluate.as_sequential(loaded.model)  # ModelUnfit unless one chain of layers
    name = evaluate.dataset_for(loaded.passes)
    report = ui.models.session_exam(loaded.passes, name, data.TEST_SIZE, ("file", loaded.digest))
    recipe = dict(source="loaded", shared=name, maxout=loaded.maxout, file=loaded.name)
    return Choice(loaded.passes, name, data.TEST_SIZE, report, about_file(loaded), recipe)


def about_file(loaded):
    return t("evaluate.about.loaded", name=ui.literal(loaded.name), params=f"{loaded.model.count_params():,}")


def choose_model(source):
    """The Choice of `source`; a source with no model yet, or one this page cannot run, says why
    and falls back to the class model."""
    entry, loaded = ui.models.trained(), ui.models.loaded()
    try:
        if source == "yours" and entry:
            return yours(entry)
        if source == "loaded" and loaded:
            return from_file(loaded)
        if source != "class":
            st.info(t("evaluate.no_run" if source == "yours" else "evaluate.no_file"), icon=":material/info:")
            ui.page_link("training" if source == "yours" else "save_load")
    except evaluate.ModelUnfit as e:
        st.warning(about_file(loaded) + " " + t(f"evaluate.unfit.{e.code}", **e.details), icon=":material/block:")
    except Refusal as e:  # too costly to run here, or its process hit a limit
        ui.say(e, then=t("evaluate.fallback"))
    dataset = "mnist" if data.is_cached("mnist") else "digits"
    shared = evaluate.class_model(dataset)
    about = t("evaluate.about.class", dataset=t(f"training.datasets.{dataset}"), n=f"{shared.train_samples:,}",
              epochs=shared.epochs, rate=f"{shared.learning_rate:g}", accuracy=f"{shared.accuracy:.3f}")
    return Choice(passes_of(shared.model), dataset, data.TEST_SIZE, ui.models.class_exam(dataset), about,
                  dict(source="class", shared=shared))


def mistakes_section(report, d):
    """The confusion matrix, per-class accuracy, and the images behind a chosen cell."""
    cells = [ANY, *range(10)]
    worst = np.unravel_index(np.argmax(report.matrix - np.diag(np.diag(report.matrix))), report.matrix.shape)
    label = {ANY: t("evaluate.any"), **{k: str(k) for k in range(10)}}.get
    left, right = st.columns(2)
    truth = ui.choice(left.selectbox, t("evaluate.cell_truth"), cells, key=key("truth"), default=ANY, labels=label)
    guess = ui.choice(right.selectbox, t("evaluate.cell_guess"), cells, key=key("guess"), default=ANY, labels=label)
    chosen = (truth, guess) if ANY not in (truth, guess) else None
    matrix_col, bars_col = st.columns([1.3, 1])
    with matrix_col:
        ui.plot(plots.confusion_figure(report.matrix, d.class_names, ui.lang(), chosen=chosen))
    with bars_col:
        ui.plot(plots.per_class_figure(report.per_class, d.class_names, ui.lang()))
        st.caption(t("evaluate.most_confused", truth=worst[0], guess=worst[1], n=report.matrix[worst]))
    shown, count = evaluate.cell_examples(report, None if truth == ANY else truth, None if guess == ANY else guess)
    if not shown:
        return st.info(t("evaluate.empty_cell"))
    st.markdown(t("evaluate.gallery", n=count))
    ui.plot(plots.mistakes_figure(d.x_test[shown], report.probabilities[shown], report.labels[shown], ui.lang()))


def pick_input(d, shape):
    """(image, its label or None): a test image by number, or the student's drawing as the model
    will see it; (None, None) while there is no drawing to read (the page says why)."""
    if ui.choice(st.segmented_control, t("evaluate.input"), ("test", "draw"), key=key("input"), required=True,
                 labels=ui.labels("evaluate.inputs")) == "test":
        index = ui.bound(st.slider, t("evaluate.test_image", last=len(d.x_test) - 1), 0, len(d.x_test) - 1, 0, key=key("image"))
        return d.x_test[index], int(d.y_test[index])
    drawing = st_canvas(stroke_width=evaluate.STROKE_WIDTH, stroke_color="#000000", background_color="#FFFFFF",
                        width=evaluate.CANVAS_SIDE, height=evaluate.CANVAS_SIDE, drawing_mode="freedraw", key=key("canvas"),
                        return_image_data=True)
    try:
        if drawing.image_data is None:
            raise evaluate.EmptyDrawing("empty", "nothing drawn yet")
        return evaluate.preprocess_drawing(drawing.image_data, shape), None
    except evaluate.EmptyDrawing as e:
        st.info(t(f"evaluate.drawing.{e.code}", **e.details), icon=":material/draw:")
        return None, None


def follow_section(passes, d, shape, recipe):
    """One input: what the model answers, then how; the code follows the image."""
    left, right = st.columns([1, 1.6], gap="large")
    with left:
        image, label = pick_input(d, shape)
    if image is not None:
        show_how(passes, image, label, left, right)
    ui.notice("evaluate")
    ui.code_panel(snippets.evaluate_snippet(ui.lang(), index=st.session_state.get(key("image"), 0), **recipe))
    ui.references(("common.ref_fit", "https://keras.io/api/models/model_training_apis/"),
                  ("common.ref_keras_guide", "https://keras.io/guides/sequential_model/"))


def show_how(passes, image, label, left, right):
    """The model's answer for one image, then every layer's output and one Dense unit's arithmetic."""
    model = evaluate.as_sequential(passes.model)  # its layers in order (a stranger's is never run here)
    x = evaluate.model_input(model, image[None])
    try:
        outputs, logits = passes.follow(x)
    except Refusal as e:
        return ui.say(e)
    probabilities, answer = outputs[-1][1][0], int(np.argmax(outputs[-1][1][0]))
    verdict = "unlabelled" if label is None else "right" if answer == label else "wrong"
    with right:
        st.markdown(t(f"evaluate.verdict.{verdict}", answer=answer, label=label, p=f"{probabilities.max():.3f}",
                      loss="" if label is None else f"{evaluate.cross_entropy(probabilities, label):.4f}"))
        ui.plot(plots.softmax_figure(logits[0], probabilities, label, ui.lang()))
    with left:
        ui.plot(plots.input_figure(image, ui.lang(), label=label))
    for name, output in outputs[:-1]:
        title = f"{name} → {'×'.join(map(str, output.shape[1:]))}"
        ui.plot(plots.maps_figure(output[0], title) if output.ndim == 4 else plots.vector_figure(output[0], title))
    ui.dense_unit_view(model, x[0], key, t("evaluate.unit_input"), outputs=outputs)


# --- The page --------------------------------------------------------------------------------
ui.header("evaluate")
source = ui.choice(st.segmented_control, t("evaluate.which"), SOURCES, key=key("source"), required=True,
                   labels=ui.labels("evaluate.sources"))
chosen = choose_model(source)
d = data.load_dataset(chosen.dataset, test_size=chosen.test_size)
st.markdown(chosen.about)

st.subheader(t("evaluate.exam_title"))
s = chosen.report.scores
st.dataframe(pd.DataFrame({t("evaluate.col.measure"): ["loss", "accuracy", "mae", "mse"], t("evaluate.col.value"):
                           [round(v, 4) for v in (s.loss, s.accuracy, s.mae, s.mse)]}), hide_index=True)
st.markdown(t("evaluate.exam_idea", n=len(d.x_test), mae=f"{s.mae:.4f}", mse=f"{s.mse:.4f}"))

st.subheader(t("evaluate.wrong_title"))
st.fragment(mistakes_section)(chosen.report, d)

st.subheader(t("evaluate.follow_title"))
st.markdown(t("evaluate.follow_idea"))
st.fragment(follow_section)(chosen.passes, d, data.DATASETS[chosen.dataset].image_shape, chosen.recipe)
