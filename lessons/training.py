"""Training: learning rate, epochs and batch size, and a real model.fit you watch epoch by epoch."""
import pandas as pd
import streamlit as st

from lib import data, models, plots, snippets, training, ui

t = ui.t
key = ui.keys("training")
DATASETS = ("digits", "mnist", "fashion_mnist")
MODELS = ("mlp", "cnn", "built")
OPTIMIZERS = ("SGD", "RMSprop", "Adam", "Adagrad")
RATES = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 0)  # 0: the full batch
CNN = [{"type": "Conv2D", "filters": 8, "kernel_size": 3, "padding": "same", "activation": "relu"},
       {"type": "MaxPooling2D", "pool_size": 2}, {"type": "Flatten"}, {"type": "Dense", "units": 10, "activation": "softmax"}]


@st.cache_data(show_spinner=False, max_entries=4)
def load(name):
    """The data set, or (digits, the reason) when an online one cannot be fetched."""
    try:
        return name, data.load_dataset(name, timeout=15), None
    except data.DatasetUnavailable as e:
        return "digits", data.load_dataset("digits"), e.reason


def model_choice(kind, image_shape):
    """(layers, input shape) of a preset or of the stack built on the Model & layers page."""
    h, w = image_shape[:2]
    if kind == "mlp":  # the study note's model, on flattened images
        return models.PRESETS["seed"][1], (h * w,)
    if kind == "cnn":
        return CNN, (h, w, 1)
    built = st.session_state.get(ui.MODEL_STACK)
    if built is None:
        return None, None
    return [{k: v for k, v in layer.items() if k != "uid"} for layer in built["layers"]], models.INPUT_SHAPES[built["input"]]


def settings_label(job):
    return t("training.run_label", optimizer=job.compile.optimizer, rate=f"{job.compile.learning_rate:g}",
             batch=job.fit.batch_size, epochs=job.fit.epochs)


def steps_per_epoch(job):
    return training.steps_per_epoch(training.training_examples(job), job.fit.batch_size)


def draw(entry):
    """The live curves, and one sentence on what the run is doing (waiting and failing are said
    by the live-run component)."""
    if entry is None:
        return ui.plot(plots.curves_figure({}, ui.lang(), epochs=epochs, message=t("training.press_train")))
    run, history = entry.run, entry.run.history()
    ui.plot(plots.curves_figure(history, ui.lang(), epochs=entry.job.fit.epochs))
    losses = history.get("loss", [])
    if run.status == "running":
        seconds = run.epoch_seconds()
        st.info(t("training.status.running", epoch=len(losses), epochs=entry.job.fit.epochs, loss=f"{losses[-1]:.3f}",
                  seconds=f"{seconds[-1]:.2f}") if losses else t("training.status.starting"))
    elif run.status in ("done", "stopped"):
        stuck = run.status == "done" and training.stuck_at_chance(history)
        state = "stuck" if stuck else run.status
        (st.warning if stuck else st.info)(t(f"training.status.{state}", epoch=len(losses), seconds=f"{run.seconds():.1f}",
                                             accuracy=f"{run.test_scores().get('accuracy', 0.0):.3f}",
                                             rate=f"{entry.job.compile.learning_rate:g}"))


# --- The page --------------------------------------------------------------------------------
ui.header("training")
controls, picture = st.columns([1, 2.4], gap="large")
with controls:
    asked = ui.choice(st.selectbox, t("training.dataset"), DATASETS, key=key("dataset"),
                      labels=ui.labels("training.datasets"))
    name, dataset, unavailable = load(asked)
    if unavailable:
        st.caption(t("training.offline", name=t(f"training.datasets.{asked}"), reason=unavailable))
    test_size = ui.bound(st.slider, t("training.split"), 0.1, 0.5, 0.2, 0.05, key=key("test"),
                          disabled=name != "digits", help=t("training.split_help"))
    kind = ui.choice(st.selectbox, t("training.model"), MODELS, key=key("model"), labels=ui.labels("training.models"))
    optimizer = ui.choice(st.selectbox, t("training.optimizer"), OPTIMIZERS, key=key("optimizer"), default="Adam")
    learning_rate = ui.bound(st.select_slider, t("training.learning_rate"), RATES, value=0.01, key=key("lr"))
    epochs = ui.bound(st.slider, t("training.epochs"), 1, 100, 10, key=key("epochs"))
    batch = ui.choice(st.select_slider, t("training.batch_size"), BATCHES, key=key("batch"), default=32,
                      labels=lambda b, full=t("training.full_batch"): str(b) if b else full)

dataset = data.load_dataset(name, test_size=test_size) if name == "digits" else dataset  # online: the official split
layers, input_shape = model_choice(kind, dataset.x_train.shape[1:])
job, problem = None, t("training.no_built_model") if layers is None else None
if layers is not None:
    try:
        job = training.classifier_job(dataset=name, layers=layers, input_shape=input_shape, optimizer=optimizer,
                                      learning_rate=learning_rate, epochs=epochs, batch_size=batch or None,
                                      test_size=test_size)
    except training.TrainingError as e:
        problem = t(f"training.error.{e.code}", **e.details)
    except models.ModelSpecError as e:
        problem = ui.spec_error_text(e)

live = ui.LiveRun(ui.TRAINING_RUN, keep=5)
with controls:
    if problem:
        st.error(problem, icon=":material/block:")
        if kind == "built":
            ui.page_link("model")
    live.buttons(t("training.train"), job, stop=True)
with picture:
    live.show(draw)

st.subheader(t("training.data_title"))
st.markdown(t("training.data_idea", train=len(dataset.x_train), test=len(dataset.x_test),
              name=t(f"training.datasets.{name}")))
ui.plot(plots.workbook_figure(dataset.x_train[:8], dataset.y_train[:8], dataset.x_test[:8], dataset.y_test[:8],
                              ui.lang()))

st.subheader(t("training.batch_title"))
if job is not None:
    st.markdown(t("training.batch_idea", n=training.training_examples(job), batch=job.fit.batch_size,
                  steps=steps_per_epoch(job), validation=len(dataset.x_train) - training.training_examples(job)))
finished = [e for e in live.entries if e.run.epochs]
if finished:
    ui.plot(plots.step_loss_figure([(settings_label(e.job), e.run.batch_losses(), steps_per_epoch(e.job))
                                    for e in finished], ui.lang()))

st.subheader(t("training.compare_title"))
if len(finished) > 1:
    ui.plot(plots.compare_figure([(settings_label(e.job), e.run.history()) for e in finished], ui.lang()))
if finished:
    rows = [{t("training.col.settings"): settings_label(e.job), t("training.col.status"): t(f"training.state.{e.run.status}"),
             t("training.col.epochs"): e.run.epochs_done(),
             t("training.col.train"): round(e.run.history()["accuracy"][-1], 3),
             t("training.col.validation"): round(e.run.history()["val_accuracy"][-1], 3),
             t("training.col.test"): round(e.run.test_scores()["accuracy"], 3) if e.run.test_scores() else None,
             t("training.col.seconds"): round(sum(e.run.epoch_seconds()) / e.run.epochs_done(), 2)} for e in finished]
    st.dataframe(pd.DataFrame(rows), hide_index=True)
else:
    st.caption(t("training.compare_empty"))

ui.notice("training")
if job is not None:
    ui.code_panel(snippets.training_snippet(job, ui.lang()))
ui.references(("common.ref_fit", "https://keras.io/api/models/model_training_apis/"),
              ("common.ref_optimizers_overview", "http://shuuki4.github.io/deep%20learning/2016/05/20/Gradient-Descent-Algorithm-Overview.html"))

training.runner()  # start the workers once the page is drawn: Keras is imported before the first click
