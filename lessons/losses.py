"""Loss & metrics: how mistakes are measured, and why the loss steers while a metric reports."""
import numpy as np
import pandas as pd
import streamlit as st

from lib import losses, plots, snippets, training, ui

t = ui.t
key = ui.keys("losses")
P_GRID = np.linspace(0.005, 0.995, 199, dtype="float32")
SEED_COMPILE_LINE = ('model.compile(optimizer="rmsprop", loss="binary_crossentropy", '
                     'metrics=["accuracy"])')
REFERENCES = (("common.ref_losses", "https://keras.io/api/losses/"),
              ("common.ref_metrics", "https://keras.io/api/metrics/"))


def outlier_sentence(shares):
    """How much of each loss the one outlier (the last point) makes, in percent."""
    percent = {name: f"{100 * float(shares[name][-1] / shares[name].sum()):.0f}"
               for name in losses.REGRESSION_LOSSES}
    return t("losses.outlier_share", **percent)


def confidence_sentence(p0, at_p):
    """Both losses at p0, and what cross-entropy charges for the most confident mistake."""
    most_wrong = losses.confidence_curves(np.array([0.01]))["binary_crossentropy"][0]
    return t("losses.confidence_numbers", p=f"{p0:.2f}", ce=f"{at_p['binary_crossentropy']:.3f}",
             mse=f"{at_p['mse']:.3f}", wrong=f"{most_wrong:.2f}")


def race_table(run, names):
    """Each racer's test scores, rounded for reading (none for a racer the Stop came before)."""
    rows = [{"trained_with": name, **{k: round(v, 4) for k, v in run.test_scores(r).items()}}
            for r, name in enumerate(names)]
    ui.table(pd.DataFrame(rows), prefix="losses.col")  # a frame is {heading: values} too


def draw_race(entry):
    """The race so far: the lines both models draw, or their metrics epoch by epoch."""
    if entry is None:
        return st.info(t("losses.press_train"))
    run, kind = entry.run, entry.meta["experiment"]
    names, metrics, epochs = losses.EXPERIMENTS[kind]
    if kind == "line":
        probes = [run.latest_probes(k)[1] for k in range(len(names))]
        fits = {name: (losses.LINE_GRID, probe["line"])
                for name, probe in zip(names, probes) if "line" in probe}
        points = entry.job.data
        ui.plot(plots.race_lines_figure(points.x_train, points.y_train, fits, ui.lang()))
    else:
        histories = [(name, run.history(k)) for k, name in enumerate(names)]
        ui.plot(plots.metric_race_figure(histories, metrics, ui.lang(), epochs=epochs))
    if run.result:
        race_table(run, names)


ui.header("losses")

# --- Regression: MSE, MAE, Huber on a line through points ---------------------------------------
ui.section("losses", "regression", idea=False)
controls, picture = ui.controls_and_picture()
with controls:
    slope = ui.bound(st.slider, t("losses.slope"), -1.0, 4.0, 1.0, 0.1, key=key("slope"))
    intercept = ui.bound(st.slider, t("losses.intercept"), -2.0, 3.0, 0.5, 0.1,
                         key=key("intercept"))
    outlier = ui.bound(st.toggle, t("losses.outlier"), key=key("outlier"))
x, y = losses.points(outlier)
values = losses.line_losses(slope, intercept, x, y)
shares = losses.per_point(y, slope * x + intercept)
facts = dict(line_mse=values["mse"], line_mae=values["mae"])  # what the tasks are checked on
if outlier:  # the loss the one outlier makes the largest share of
    facts["heaviest_share"] = max(shares, key=lambda name: shares[name][-1] / shares[name].sum())
with picture:
    ui.plot(plots.regression_figure(x, y, slope, intercept, shares, ui.lang()))
for column, name in zip(st.columns(3), losses.REGRESSION_LOSSES):
    column.metric(t(f"losses.name.{name}"), f"{values[name]:.4f}")
if outlier:
    st.markdown(outlier_sentence(shares))
else:
    st.caption(t("losses.try_outlier"))

# --- Classification: a confident wrong answer ------------------------------------------------
ui.section("losses", "classification")
p0 = ui.bound(st.slider, t("losses.p"), 0.01, 0.99, 0.9, 0.01, key=key("p"))
at_p = {name: float(v[0]) for name, v in losses.confidence_curves(np.array([p0])).items()}
facts.update(cross_entropy=at_p["binary_crossentropy"], squared_error=at_p["mse"])
ui.plot(plots.confidence_figure(P_GRID, losses.confidence_curves(P_GRID), p0, at_p, ui.lang()))
st.markdown(confidence_sentence(p0, at_p))

# --- The study note's compile line -------------------------------------------------------------
ui.section("losses", "seed", idea=False)
st.code(SEED_COMPILE_LINE, language="python")
check = losses.seed_compile_check()
st.markdown(t("losses.seed_idea"))
ui.table({"cross_entropy": list(losses.CROSS_ENTROPIES),
          "labels": [t(f"losses.labels.{name}") for name in losses.CROSS_ENTROPIES],
          "value": [round(check.losses[name], 4) for name in losses.CROSS_ENTROPIES]},
         prefix="losses.col")
st.markdown(t("losses.seed_verdict", refusal=check.refusal))
with st.expander(t("losses.seed_code")):
    ui.code_panel(snippets.seed_compile_snippet(ui.lang()), part="seed", heading=False)

# --- Loss vs metric ----------------------------------------------------------------------------
ui.section("losses", "versus")
versus_controls, versus_picture = ui.controls_and_picture()
live = ui.LiveRun(key("race_run"))
with versus_controls:
    experiment = ui.choice(st.radio, t("losses.experiment"), losses.EXPERIMENTS,
                           key=key("experiment"), labels=ui.labels("losses.experiments"))
    job = losses.race_job(experiment, outlier=outlier)
    st.caption(t(f"losses.about.{experiment}"))
    live.buttons(t("training.train"), job, stop=True, experiment=experiment)
with versus_picture:
    live.show(draw_race)

code = snippets.losses_snippet(slope, intercept, outlier, experiment, job, ui.lang())
ui.page_end("losses", code, *REFERENCES)
ui.tasks("losses", facts)

training.runner()  # start the workers once the page is drawn: Keras loads before the first click
