"""Regression: the study note's evaluate line on the problem it was written for, Auto MPG."""
import numpy as np
import streamlit as st

from lib import regression, training, ui
from lib.plots import regression as figures
from lib.snippets.regression import regression_snippet

t, key = ui.t, ui.keys("regression")
SEED_LINES = ("# {heading}\n"
              "loss, mae, mse = model.evaluate(normed_test_data, test_labels, verbose=2)\n"
              'print("{printed}: {{:5.2f}} MPG".format(mae))\n\n'
              "test_predictions = model.predict(normed_test_data).flatten()")
REFERENCES = (("regression.ref_tutorial", "https://www.tensorflow.org/tutorials/keras/regression"),
              ("regression.ref_normalization",
               "https://keras.io/api/layers/preprocessing_layers/numerical/normalization/"),
              ("common.ref_fit", "https://keras.io/api/models/model_training_apis/"))


@ui.shared()
def evaluation(job_key, run_id, inputs, _run):
    """The note's evaluate and predict on the test cars: once per run, for every session."""
    return regression.evaluate(_run.model(), regression.cars(inputs))


def inputs_text(inputs):
    if tuple(inputs) == regression.COLUMNS:
        return t("regression.col.all_inputs")
    return ", ".join(t(f"regression.input.{name}") for name in inputs)


def hidden_text(job):
    return "-".join(map(str, regression.hidden_of(job)))


def settings_text(entry):
    job = entry.job
    epochs = f"{job.fit.epochs} {t('regression.col.epochs')}"  # "100 epochs", "100 에포크"
    return f"{inputs_text(entry.meta['inputs'])} · {hidden_text(job)} · {epochs}"


def normalizer_table(data):
    """What Normalization learned from the training part, one row per input column."""
    ui.table({"column": list(data.columns), "mean": np.round(data.mean, 2).tolist(),
              "std": np.round(np.sqrt(data.variance), 2).tolist()}, prefix="regression.col")


def draw_curves(entry, job, epochs):
    if entry is None:  # what Train will fit: the count follows every control
        press = t("regression.press_train", params=f"{regression.parameter_count(job):,}",
                  columns=job.model.input_shape[0], epochs=epochs) if job else ""
        return ui.plot(figures.mae_curves_figure({}, ui.lang(), epochs=epochs, message=press))
    history = entry.run.history()
    ui.plot(figures.mae_curves_figure(history, ui.lang(), epochs=entry.job.fit.epochs))
    if history.get("val_mae"):
        train, validation = history["mae"][-1], history["val_mae"][-1]
        st.markdown(t("regression.curve_numbers", epoch=len(history["mae"]), train=f"{train:.2f}",
                      validation=f"{validation:.2f}"))


def runs_table(finished, best):
    histories = [e.run.history() for e in finished]
    ui.table({"run": list(range(1, len(finished) + 1)),
              "inputs": [inputs_text(e.meta["inputs"]) for e in finished],
              "hidden": [hidden_text(e.job) for e in finished],
              "epochs": [e.run.epochs_done() for e in finished],
              "train_mae": [round(regression.final(h, "mae"), 2) for h in histories],
              "val_mae": [round(regression.final(h, "val_mae"), 2) for h in histories],
              "tested": ["✓" if k == best else "" for k in range(len(finished))]},
             prefix="regression.col")


def show_test(scores):
    """The note's three numbers, its printed line, what they are, and the predictions drawn."""
    for column, name in zip(st.columns(3), ("loss", "mae", "mse")):
        column.metric(name, f"{getattr(scores, name):.4f}")
    st.markdown(t("regression.printed", mae=f"{scores.mae:5.2f}".strip()))
    hand_mae, hand_mse = scores.by_hand
    st.markdown(t("regression.truths", loss=f"{scores.loss:.4f}", mse=f"{scores.mse:.4f}",
                  mae2=f"{scores.mae ** 2:.4f}", rmse=f"{np.sqrt(scores.mse):.2f}",
                  hand_mae=f"{hand_mae:.4f}", hand_mse=f"{hand_mse:.4f}"))
    st.markdown(t("regression.picture_idea"))
    ui.plot(figures.predictions_figure(scores.truth, scores.predictions, scores.mae, ui.lang()))


ui.header("regression")
st.code(SEED_LINES.format(heading=t("regression.seed_lines"), printed=t("code.regression.print")),
        language="python")

# --- The cars: three parts, normalised on the training part ---------------------------------
ui.section("regression", "data", idea=False)
train_n, validation_n, test_n = regression.split_sizes()
st.markdown(t("regression.data_idea", cars=train_n + validation_n + test_n, train=train_n,
              validation=validation_n, test=test_n))

# --- Train: inputs, layers, epochs ----------------------------------------------------------
ui.section("regression", "train")
controls, picture = ui.controls_and_picture()
live = ui.LiveRun(key("run"), keep=5)
with controls:
    inputs = ui.choice(st.multiselect, t("regression.inputs"), regression.COLUMNS,
                       key=key("inputs"), default=list(regression.COLUMNS),
                       labels=ui.labels("regression.input"))
    depth = ui.bound(st.slider, t("regression.depth"), 1, regression.MAX_HIDDEN,
                     len(regression.HIDDEN), key=key("depth"))
    width = ui.bound(st.select_slider, t("regression.width"), regression.WIDTHS,
                     regression.HIDDEN[0], key=key("width"))
    epochs = ui.bound(st.slider, "epochs", 10, 300, regression.EPOCHS, 10, key=key("epochs"))
    try:
        chosen_inputs = regression.checked_inputs(inputs)
        job = regression.regression_job(inputs=chosen_inputs, hidden=(width,) * depth,
                                        epochs=epochs)
    except regression.RegressionError as e:
        chosen_inputs, job = None, None
        ui.say(e)
    live.buttons(t("training.train"), job, stop=True, inputs=chosen_inputs)
with picture:
    live.show(lambda entry: draw_curves(entry, job, epochs))
if chosen_inputs:
    with st.expander(t("regression.normalizer")):
        normalizer_table(regression.cars(chosen_inputs))

# --- Compare on validation; the chosen run takes the test -----------------------------------
ui.section("regression", "runs", idea=False)
finished = [e for e in live.entries if e.run.result is not None]
best = regression.chosen([e.run.history() for e in finished])
last = finished[-1] if finished else None  # the tasks are checked on the last run and on the job
facts = dict(weights=regression.parameter_count(job) if job else None)
if last:
    facts.update(last_val_mae=regression.final(last.run.history(), "val_mae"),
                 last_epochs=last.run.epochs_done(), last_inputs=len(last.meta["inputs"]))
if best is None:
    st.caption(t("regression.runs_empty"))
else:
    st.markdown(t("regression.runs_idea"))
    runs_table(finished, best)

ui.section("regression", "evaluate", idea=False)
code_job, code_inputs = job, chosen_inputs
if best is None:
    st.caption(t("regression.evaluate_empty", test=test_n))
else:
    tested = finished[best]
    code_job, code_inputs = tested.job, tested.meta["inputs"]
    st.markdown(t("regression.chosen", run=best + 1, settings=settings_text(tested),
                  validation=f"{regression.final(tested.run.history(), 'val_mae'):.2f}"))
    show_test(evaluation(tested.job.key, tested.run.id, code_inputs, tested.run))

if code_job is not None:
    ui.page_end("regression", regression_snippet(code_job, code_inputs, ui.lang()), *REFERENCES)
else:
    ui.notice("regression")
    ui.references(*REFERENCES)
ui.tasks("regression", facts)

training.runner()  # start the workers once the page is drawn: Keras loads before the first click
