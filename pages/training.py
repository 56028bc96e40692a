"""Training: learning rate, epochs and batch size, and a real model.fit you watch epoch by epoch."""
import itertools

import pandas as pd
import streamlit as st

from lib import data, models, plots, snippets, training, ui

t = ui.t
DATASETS = ("digits", "mnist", "fashion_mnist")
MODELS = ("mlp", "cnn", "built")
OPTIMIZERS = ("SGD", "RMSprop", "Adam", "Adagrad")
RATES = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 0)  # 0: the full batch
KEPT_RUNS = 5
training.runner()  # start the workers now: Keras is imported before the first click


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
        return [{"type": "Conv2D", "filters": 8, "kernel_size": 3, "padding": "same", "activation": "relu"},
                {"type": "MaxPooling2D", "pool_size": 2}, {"type": "Flatten"},
                {"type": "Dense", "units": 10, "activation": "softmax"}], (h, w, 1)
    built = st.session_state.get("model_stack")
    if built is None:
        return None, None
    layers = [{k: v for k, v in layer.items() if k != "uid"} for layer in built["layers"]]
    return layers, models.INPUT_SHAPES[built["input"]]


def status_line(run, job):
    """What the run is doing, in one sentence."""
    if run.status in ("queued", "failed"):
        return ui.run_notice(run)[1]
    epochs = run.history().get("loss", [])
    if run.status == "running":
        if not epochs:
            return t("training.status.starting")
        last = run.epochs[-1]
        return t("training.status.running", epoch=len(epochs), epochs=job.fit["epochs"], loss=f"{epochs[-1]:.3f}",
                 seconds=f"{last['seconds']:.2f}")
    test = run.result["test"][0].get("accuracy", 0.0) if run.result else 0.0
    state = "stuck" if run.status == "done" and training.stuck_at_chance(run.history()) else run.status
    return t(f"training.status.{state}", epoch=len(epochs), accuracy=f"{test:.3f}", budget=f"{job.budget_s:.0f}",
             seconds=f"{(run.finished or 0) - (run.started or 0):.1f}", rate=f"{job.compile['learning_rate']:g}",
             first=f"{run.epochs[0]['logs'].get('loss', 0):.3g}" if run.epochs else "?",
             last=f"{epochs[-1]:.3g}" if epochs else "?")


def settings_label(job):
    return t("training.run_label", optimizer=job.compile["optimizer"], rate=f"{job.compile['learning_rate']:g}",
             batch=job.fit["batch_size"], epochs=job.fit["epochs"])


def steps_per_epoch(job):
    return training.steps_per_epoch(training.training_examples(job), job.fit["batch_size"])


# --- The page --------------------------------------------------------------------------------
ui.header("training")
controls, picture = st.columns([1, 2.4], gap="large")
with controls:
    asked = ui.choice(st.selectbox, t("training.dataset"), DATASETS, key="training.dataset",
                      labels=ui.labels("training.datasets"))
    name, dataset, unavailable = load(asked)
    if unavailable:
        st.caption(t("training.offline", name=t(f"training.datasets.{asked}"), reason=unavailable))
    test_size = st.slider(t("training.split"), 0.1, 0.5, 0.2, 0.05, key="test", bind="query-params",
                          disabled=name != "digits", help=t("training.split_help"))
    kind = ui.choice(st.selectbox, t("training.model"), MODELS, key="training.model", labels=ui.labels("training.models"))
    optimizer = ui.choice(st.selectbox, t("training.optimizer"), OPTIMIZERS, key="training.optimizer", default="Adam")
    learning_rate = st.select_slider(t("training.learning_rate"), RATES, value=0.01, key="lr", bind="query-params")
    epochs = st.slider(t("training.epochs"), 1, 100, 10, key="epochs", bind="query-params")
    batch = ui.choice(st.select_slider, t("training.batch_size"), BATCHES, key="training.batch", default=32,
                      labels=lambda b, full=t("training.full_batch"): str(b) if b else full)

if name != "digits":
    dataset = data.load_dataset(name)  # the official split, whatever the slider says
else:
    dataset = data.load_dataset("digits", test_size=test_size)
layers, input_shape = model_choice(kind, dataset.x_train.shape[1:])
job, problem = None, None
if layers is None:
    problem = t("training.no_built_model")
else:
    try:
        job = training.classifier_job(dataset=name, layers=layers, input_shape=input_shape, optimizer=optimizer,
                                      learning_rate=learning_rate, epochs=epochs, batch_size=batch or None,
                                      test_size=test_size)
    except training.TrainingError as e:
        problem = t(f"training.error.{e.code}", **e.details)
    except models.ModelSpecError as e:
        problem = ui.spec_error_text(e)
examples = training.training_examples(job) if job else 0

runs = st.session_state.setdefault("training_runs", [])
current = runs[-1] if runs else None
with controls:
    if problem:
        st.error(problem, icon=":material/block:")
        if kind == "built":
            ui.page_link("model")
    train, stop = st.columns(2)
    if ui.start_button(t("training.train"), key="train", container=train, disabled=job is None):
        run = training.runner().submit(job)
        runs.append({"run": run, "job": job})
        del runs[:-KEPT_RUNS]
        current = runs[-1]
    active = current is not None and current["run"].active
    stop.button(t("training.stop"), key="stop", icon=":material/stop:", disabled=not active, width="stretch",
                on_click=current["run"].stop if active else None)

with picture:
    chart, status = st.empty(), st.empty()


redraws = itertools.count()  # each redraw in one page run needs its own element key


def draw(entry):
    if entry is None:
        chart.plotly_chart(plots.curves_figure({}, ui.lang(), epochs=epochs, message=t("training.press_train")),
                           config=ui.PLOT_CONFIG)
        return
    run, job_shown = entry["run"], entry["job"]
    chart.plotly_chart(plots.curves_figure(run.history(), ui.lang(), epochs=job_shown.fit["epochs"]),
                       config=ui.PLOT_CONFIG, key=f"curves{next(redraws)}")
    message = status_line(run, job_shown)
    stuck = run.status == "done" and training.stuck_at_chance(run.history())
    kind = "warning" if stuck or run.status in ("diverged", "budget") else "error" if run.status == "failed" else "info"
    getattr(status, kind)(message)


st.subheader(t("training.data_title"))
st.markdown(t("training.data_idea", train=len(dataset.x_train), test=len(dataset.x_test),
              name=t(f"training.datasets.{name}")))
ui.plot(plots.workbook_figure(dataset.x_train[:8], dataset.y_train[:8], dataset.x_test[:8], dataset.y_test[:8],
                              ui.lang()))

st.subheader(t("training.batch_title"))
if job is not None:
    st.markdown(t("training.batch_idea", n=examples, batch=job.fit["batch_size"], steps=steps_per_epoch(job)))
finished = [r for r in runs if r["run"].epochs]
if finished:
    ui.plot(plots.step_loss_figure([(settings_label(r["job"]), [b for e in r["run"].epochs for b in e["batch_loss"]],
                                     steps_per_epoch(r["job"])) for r in finished], ui.lang()))

st.subheader(t("training.compare_title"))
if len(finished) > 1:
    ui.plot(plots.compare_figure([(settings_label(r["job"]), r["run"].history()) for r in finished], ui.lang()))
if finished:
    rows = []
    for r in finished:
        history, result = r["run"].history(), r["run"].result or {}
        test = (result.get("test") or [{}])[0]
        rows.append({t("training.col.settings"): settings_label(r["job"]), t("training.col.status"): t(f"training.state.{r['run'].status}"),
                     t("training.col.epochs"): len(history.get("loss", [])),
                     t("training.col.train"): round(history.get("accuracy", [0])[-1], 3),
                     t("training.col.validation"): round(history.get("val_accuracy", [0])[-1], 3),
                     t("training.col.test"): round(test["accuracy"], 3) if "accuracy" in test else None,
                     t("training.col.seconds"): round(sum(e["seconds"] for e in r["run"].epochs) / len(r["run"].epochs), 2)})
    st.dataframe(pd.DataFrame(rows), hide_index=True)
else:
    st.caption(t("training.compare_empty"))

ui.notice("training")
if job is not None:
    ui.code_panel(snippets.training_snippet(job, ui.lang()))
ui.references(("common.ref_fit", "https://keras.io/api/models/model_training_apis/"),
              ("common.ref_optimizers_overview", "http://shuuki4.github.io/deep%20learning/2016/05/20/Gradient-Descent-Algorithm-Overview.html"))
ui.follow(current and current["run"], lambda: draw(current))
