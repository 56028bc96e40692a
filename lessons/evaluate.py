"""Evaluate & predict: the mock exam, where the model goes wrong, and one digit followed through it."""
import numpy as np
import pandas as pd
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from lib import data, evaluate, plots, snippets, ui

t, key = ui.t, ui.keys("evaluate")
SOURCES = ("class", "yours", "loaded")
ANY = -1  # the cell choice that means "every class"


@st.cache_resource(show_spinner=False, max_entries=2)
def class_report(dataset):
    """The class model on its mock exam: evaluated once per server, not on every rerun."""
    d = data.load_dataset(dataset)
    return evaluate.report(evaluate.class_model(dataset).model, d.x_test, d.y_test)


def session_report(model, dataset, test_size, cache_key):
    """A student's model on its mock exam: evaluated once, kept in the session."""
    reports = st.session_state.setdefault(key("reports"), {})
    if cache_key not in reports:
        d = data.load_dataset(dataset, test_size=test_size)
        reports.clear()  # only the model looked at now: a session keeps one report, not one per model ever seen
        reports[cache_key] = evaluate.report(model, d.x_test, d.y_test)
    return reports[cache_key]


def choose_model(source):
    """(model, data set, test split, report, what the page says about it, the shown code's recipe);
    a source with no model yet says so and falls back to the class model."""
    finished = ui.LiveRun.finished(ui.TRAINING_RUN)
    loaded = st.session_state.get(ui.LOADED_MODEL)
    if source == "yours" and finished:
        entry, model = finished[-1], finished[-1].run.model()
        name, test_size = entry.job.data.name, entry.job.data.test_size
        about = t("evaluate.about.yours", optimizer=entry.job.compile.optimizer, epochs=entry.run.epochs_done(),
                  rate=f"{entry.job.compile.learning_rate:g}", batch=entry.job.fit.batch_size,
                  dataset=t(f"training.datasets.{name}"), status=t(f"training.state.{entry.run.status}"))
        return (model, name, test_size, session_report(model, name, test_size, ("run", entry.run.id)), about,
                dict(source="yours", job=entry.job))
    if source == "loaded" and loaded:
        about = t("evaluate.about.loaded", name=ui.literal(loaded["name"]), params=f"{loaded['model'].count_params():,}")
        try:
            model = evaluate.as_sequential(loaded["model"])  # a Functional chain: its layers, in order
            name = evaluate.dataset_for(model)
            return (model, name, data.TEST_SIZE, session_report(model, name, data.TEST_SIZE, ("file", loaded["hash"])),
                    about, dict(source="loaded", shared=name, maxout=loaded["maxout"], file=loaded["name"]))
        except evaluate.ModelUnfit as e:
            st.warning(about + " " + t(f"evaluate.unfit.{e.code}", **e.details), icon=":material/block:")
    elif source != "class":
        st.info(t("evaluate.no_run" if source == "yours" else "evaluate.no_file"), icon=":material/info:")
        ui.page_link("training" if source == "yours" else "save_load")
    dataset = "mnist" if data.is_cached("mnist") else "digits"
    shared = evaluate.class_model(dataset)
    about = t("evaluate.about.class", dataset=t(f"training.datasets.{dataset}"), n=f"{shared.train_samples:,}",
              epochs=shared.epochs, rate=f"{shared.learning_rate:g}", accuracy=f"{shared.accuracy:.3f}")
    return shared.model, dataset, data.TEST_SIZE, class_report(dataset), about, dict(source="class", shared=shared)


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
        index = st.slider(t("evaluate.test_image", last=len(d.x_test) - 1), 0, len(d.x_test) - 1, 0, key=key("image"),
                          bind="query-params")
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


def follow_section(model, d, shape, recipe):
    """One input: what the model answers, then how — every layer's output; the code follows the image."""
    left, right = st.columns([1, 1.6], gap="large")
    with left:
        image, label = pick_input(d, shape)
    if image is not None:
        x = evaluate.model_input(model, image[None])
        outputs = evaluate.layer_outputs(model, x)
        probabilities, answer = outputs[-1][1][0], int(np.argmax(outputs[-1][1][0]))
        verdict = "unlabelled" if label is None else "right" if answer == label else "wrong"
        with right:
            st.markdown(t(f"evaluate.verdict.{verdict}", answer=answer, label=label, p=f"{probabilities.max():.3f}",
                          loss="" if label is None else f"{evaluate.cross_entropy(probabilities, label):.4f}"))
            ui.plot(plots.softmax_figure(evaluate.logits(model, outputs, x)[0], probabilities, label, ui.lang()))
        with left:
            ui.plot(plots.input_figure(image, ui.lang(), label=label))
        for name, output in outputs[:-1]:
            title = f"{name} → {'×'.join(map(str, output.shape[1:]))}"
            ui.plot(plots.maps_figure(output[0], title) if output.ndim == 4 else plots.vector_figure(output[0], title))
        ui.dense_unit_view(model, x[0], key, t("evaluate.unit_input"))
    ui.notice("evaluate")
    ui.code_panel(snippets.evaluate_snippet(ui.lang(), index=st.session_state.get(key("image"), 0), **recipe))
    ui.references(("common.ref_fit", "https://keras.io/api/models/model_training_apis/"),
                  ("common.ref_keras_guide", "https://keras.io/guides/sequential_model/"))


# --- The page --------------------------------------------------------------------------------
ui.header("evaluate")
source = ui.choice(st.segmented_control, t("evaluate.which"), SOURCES, key=key("source"), required=True,
                   labels=ui.labels("evaluate.sources"))
model, dataset, test_size, report, about, recipe = choose_model(source)
d = data.load_dataset(dataset, test_size=test_size)
st.markdown(about)

st.subheader(t("evaluate.exam_title"))
s = report.scores
st.dataframe(pd.DataFrame({t("evaluate.col.measure"): ["loss", "accuracy", "mae", "mse"], t("evaluate.col.value"):
                           [round(v, 4) for v in (s.loss, s.accuracy, s.mae, s.mse)]}), hide_index=True)
st.markdown(t("evaluate.exam_idea", n=len(d.x_test), mae=f"{s.mae:.4f}", mse=f"{s.mse:.4f}"))

st.subheader(t("evaluate.wrong_title"))
st.fragment(mistakes_section)(report, d)

st.subheader(t("evaluate.follow_title"))
st.markdown(t("evaluate.follow_idea"))
st.fragment(follow_section)(model, d, data.DATASETS[dataset].image_shape, recipe)
