"""Evaluate & predict: the mock exam, where the model goes wrong, one digit followed through it."""
import collections

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from lib import data, drawing, errors, evaluate, plots, ui
from lib.class_model import class_model, class_recipe
from lib.snippets.evaluate import evaluate_snippet

t, key = ui.t, ui.keys("evaluate")
SOURCES = ("class", "yours", "loaded")
MEASURES = ["loss", "accuracy"]  # what model.evaluate reports, in its order
ANY = -1  # the cell choice that means "every class"
DATASET = ui.labels("evaluate.datasets")  # a data set's name, as this page says it
CANVAS = dict(stroke_width=drawing.STROKE_WIDTH, stroke_color="#000000", background_color="#FFFFFF",
              width=drawing.CANVAS_SIDE, height=drawing.CANVAS_SIDE, drawing_mode="freedraw")
REFERENCES = (("common.ref_fit", "https://keras.io/api/models/model_training_apis/"),
              ("common.ref_keras_guide", "https://keras.io/guides/sequential_model/"))
# The model this page grades: how it runs (lib.passes; None for the class model, see from_class), its
# data, exam, description, code recipe.
Choice = collections.namedtuple("Choice", "passes dataset test_size report about recipe")


def yours(entry):
    """The newest model of the Training page (built and run here: the server built it)."""
    job, run = entry.job, entry.run
    dataset, test_size = job.data.name, job.data.test_size
    passes = evaluate.as_passes(run.model())
    about = t("evaluate.about.yours", optimizer=job.compile.optimizer, epochs=run.epochs_done(),
              rate=f"{job.compile.learning_rate:g}", batch=job.fit.batch_size,
              dataset=DATASET(dataset), status=t(f"training.state.{run.status}"))
    report = ui.models.session_exam(passes, dataset, test_size, ("run", run.id))
    return Choice(passes, dataset, test_size, report, about, dict(source="yours", job=job))


def about_file(loaded):
    """What the page says of a loaded file: its name and how many parameters it has."""
    params = f"{loaded.model.count_params():,}"
    return t("evaluate.about.loaded", name=ui.literal(loaded.name), params=params)


def from_file(loaded):
    """The file loaded on Save & load (a stranger's runs only in its own locked-down process)."""
    evaluate.as_sequential(loaded.model)  # ModelUnfit unless one chain of layers
    name = evaluate.dataset_for(loaded.passes)
    report = ui.models.session_exam(loaded.passes, name, data.TEST_SIZE, ("file", loaded.digest))
    recipe = dict(source="loaded", shared=name, maxout=loaded.maxout, file=loaded.name)
    about = f"{about_file(loaded)} {t('evaluate.about.loaded_exam', dataset=DATASET(name))}"
    return Choice(loaded.passes, name, data.TEST_SIZE, report, about, recipe)


def from_class():
    """The class model (lib.class_model): its recipe and its exam kept on this computer need no Keras,
    so a fresh server draws them while TensorFlow is imported; its passes wait for an image."""
    shared = class_recipe()
    exam = ui.models.class_exam(shared.dataset)
    about = t("evaluate.about.class", dataset=DATASET(shared.dataset), rate=shared.learning_rate,
              n=f"{shared.train_samples:,}", test=f"{exam.labels.size:,}", epochs=shared.epochs)
    return Choice(None, shared.dataset, data.TEST_SIZE, exam, about, dict(source="class", shared=shared))


def choose_model(source):
    """The Choice of `source`, or the class model, saying why, when `source` has none to run."""
    entry, loaded = ui.state.trained(), ui.state.loaded()
    try:
        if source == "yours" and entry:
            return yours(entry)
        if source == "loaded" and loaded:
            return from_file(loaded)
        if source != "class":
            st.info(t(f"evaluate.none.{source}"), icon=":material/info:")
            ui.page_link("training" if source == "yours" else "save_load")
    except evaluate.ModelUnfit as e:
        st.warning(f"{about_file(loaded)} {ui.refusal_text(e)}", icon=":material/block:")
    except errors.Refusal as e:  # too costly to run here, or its process hit a limit
        ui.say(e, then=t("evaluate.fallback"))
    return from_class()


def mistakes_section(report, d):
    """The confusion matrix, per-class accuracy, and the images behind a chosen cell."""
    matrix, pair = report.matrix, evaluate.most_confused(report.matrix)
    cell = dict(options=[ANY, *range(10)], default=ANY,
                labels={ANY: t("evaluate.any"), **{k: str(k) for k in range(10)}}.get)
    left, right = st.columns(2)
    truth = ui.choice(left.selectbox, t("evaluate.cell_truth"), key=key("truth"), **cell)
    guess = ui.choice(right.selectbox, t("evaluate.cell_guess"), key=key("guess"), **cell)
    chosen = (truth, guess) if ANY not in (truth, guess) else None
    matrix_col, bars_col = st.columns([1.3, 1])
    with matrix_col:
        ui.plot(plots.confusion_figure(matrix, d.class_names, ui.lang(), chosen=chosen))
    with bars_col:
        ui.plot(plots.per_class_figure(report.per_class, d.class_names, ui.lang()))
        st.caption(t("evaluate.most_confused", truth=pair[0], guess=pair[1], n=pair[2]) if pair
                   else t("evaluate.no_mistakes", n=f"{matrix.sum():,}"))
    classes = [None if picked == ANY else picked for picked in (truth, guess)]  # None: any class
    shown, count = evaluate.cell_examples(report, *classes)
    kind = "mistakes" if evaluate.shows_mistakes(*classes) else "right"  # a diagonal cell: right
    if not shown:
        return st.info(t(f"evaluate.empty_{kind}", digit=truth))
    st.markdown(t(f"evaluate.gallery_{kind}", n=f"{count:,}", shown=len(shown), digit=truth))
    images, labels = d.x_test[shown], report.labels[shown]
    ui.plot(plots.mistakes_figure(images, report.probabilities[shown], labels, ui.lang()))


def pick_input(d, shape):
    """(image, its label or None) to follow; (None, None), said why, until there is a drawing."""
    how = ui.choice(st.segmented_control, t("evaluate.input"), ("test", "draw"), key=key("input"),
                    required=True, labels=ui.labels("evaluate.inputs"))
    if how == "draw":
        canvas = st_canvas(**CANVAS, key=key("canvas"), return_image_data=True)
        try:
            image = drawing.preprocess_drawing(canvas.image_data, shape)
        except drawing.EmptyDrawing as e:
            ui.say(e, kind="info", icon=":material/draw:")
            return None, None
        ui.give_drawing(canvas.image_data)  # opt-in: to the class's set
        return image, None
    last = len(d.x_test) - 1
    index = ui.bound(st.slider, t("evaluate.test_image", last=last), 0, last, 0, key=key("image"))
    return d.x_test[index], int(d.y_test[index])


def show_how(passes, image, label, left, right):
    """The model's answer for one image, then each layer's output and a Dense unit's arithmetic."""
    model = evaluate.as_sequential(passes.model)  # layers in order (a stranger's is never run here)
    x = evaluate.model_input(model, image[None])
    try:
        outputs, logits = passes.follow(x)
    except errors.Refusal as e:
        ui.say(e)
        return
    probabilities = outputs[-1][1][0]
    answer = int(np.argmax(probabilities))
    verdict = "unlabelled" if label is None else "right" if answer == label else "wrong"
    loss = "" if label is None else f"{evaluate.cross_entropy(probabilities, label):.4f}"
    with right:
        st.markdown(t(f"evaluate.verdict.{verdict}", answer=answer, label=label,
                      p=f"{probabilities.max():.3f}", loss=loss))
        st.html(plots.answer_table(logits[0], probabilities, label, ui.lang()))
    with left:
        seen = (t("evaluate.fig.input") if label is None
                else t("evaluate.fig.input_label", label=label))
        st.image(plots.input_picture(image), caption=seen, width=224, output_format="PNG")
    ui.layer_outputs(outputs[:-1])
    ui.dense_unit_view(model, x[0], key, t("evaluate.unit_input"), outputs=outputs)


def follow_section(chosen, d):
    """One input: what the model answers, then how; the code follows the image."""
    left, right = st.columns([1, 1.6], gap="large")
    with left:
        image, label = pick_input(d, data.DATASETS[chosen.dataset].image_shape)
    if image is not None:
        show_how(chosen.passes or evaluate.as_passes(class_model().model), image, label, left, right)
    index = st.session_state.get(key("image"), 0)  # the test image the shown code looks at
    told = st.session_state.get(key("told"))
    if (st.session_state.get(key("input"), "test"), index) != told and ui.task_open("evaluate"):
        st.rerun()  # a task is open in the sidebar: it reads the new image on the whole page's run
    ui.page_end("evaluate", evaluate_snippet(ui.lang(), index=index, **chosen.recipe), *REFERENCES)


# --- The page --------------------------------------------------------------------------------
ui.header("evaluate")
source = ui.choice(st.segmented_control, t("evaluate.which"), SOURCES, key=key("source"),
                   required=True, labels=ui.labels("evaluate.sources"))
chosen = choose_model(source)
d = data.load_dataset(chosen.dataset, test_size=chosen.test_size)
st.markdown(chosen.about)

ui.section("evaluate", "exam", idea=False)
values = [round(getattr(chosen.report.scores, m), 4) for m in MEASURES]  # model.evaluate's numbers
ui.table({"measure": MEASURES, "value": values}, prefix="evaluate.col")
st.markdown(t("evaluate.exam_idea", n=f"{len(d.x_test):,}", right=f"{chosen.report.right:,}"))
st.markdown(t("evaluate.no_mae"))  # the study note's MAE and MSE belong to a regression
ui.page_link("regression")

told = (st.session_state.get(key("input"), "test"), st.session_state.get(key("image"), 0))
st.session_state[key("told")] = told  # the image the tasks read (lib/tasks/catalogue/evaluate.toml)
ui.section("evaluate", "wrong", idea=False)
st.fragment(mistakes_section)(chosen.report, d)

ui.section("evaluate", "follow")
st.fragment(follow_section)(chosen, d)
followed = told[1] if told[0] == "test" and told[1] < len(chosen.report.labels) else None
ui.tasks("evaluate", evaluate.task_facts(chosen.report, followed))
