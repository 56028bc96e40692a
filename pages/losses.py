"""Loss & metrics: how mistakes are measured, and why a metric only reports while the loss steers."""
import itertools

import numpy as np
import pandas as pd
import streamlit as st

from lib import losses, plots, snippets, training, ui

t = ui.t
P_GRID = np.linspace(0.005, 0.995, 199, dtype="float32")
training.runner()  # start the workers now: Keras is imported before the first click
redraws = itertools.count()


ui.header("losses")

# --- Regression: MSE, MAE, Huber on a line through points ---------------------------------------
st.subheader(t("losses.regression_title"))
controls, picture = st.columns([1, 2.4], gap="large")
with controls:
    slope = st.slider(t("losses.slope"), -1.0, 4.0, 1.0, 0.1, key="slope", bind="query-params")
    intercept = st.slider(t("losses.intercept"), -2.0, 3.0, 0.5, 0.1, key="intercept", bind="query-params")
    outlier = st.toggle(t("losses.outlier"), key="outlier", bind="query-params")
x, y = losses.points(outlier)
values = losses.line_losses(slope, intercept, x, y)
shares = losses.per_point(y, slope * x + intercept)
with picture:
    ui.plot(plots.regression_figure(x, y, slope, intercept, shares, ui.lang()))
columns = st.columns(3)
for column, name in zip(columns, ("mse", "mae", "huber")):
    column.metric(t(f"losses.name.{name}"), f"{values[name]:.4f}")
if outlier:
    worst = {name: float(shares[name][-1] / shares[name].sum()) for name in ("mse", "mae", "huber")}
    st.markdown(t("losses.outlier_share", mse=f"{100 * worst['mse']:.0f}", mae=f"{100 * worst['mae']:.0f}",
                  huber=f"{100 * worst['huber']:.0f}"))
else:
    st.caption(t("losses.try_outlier"))

# --- Classification: a confident wrong answer ------------------------------------------------------
st.subheader(t("losses.classification_title"))
st.markdown(t("losses.classification_idea"))
p0 = st.slider(t("losses.p"), 0.01, 0.99, 0.9, 0.01, key="p", bind="query-params")
curves = losses.confidence_curves(P_GRID)
at_p = {name: float(values[0]) for name, values in losses.confidence_curves(np.array([p0])).items()}
ui.plot(plots.confidence_figure(P_GRID, curves, p0, at_p, ui.lang()))
st.markdown(t("losses.confidence_numbers", p=f"{p0:.2f}", ce=f"{at_p['binary_crossentropy']:.3f}",
              mse=f"{at_p['mse']:.3f}", wrong=f"{losses.confidence_curves(np.array([0.01]))['binary_crossentropy'][0]:.2f}"))

# --- Loss vs metric -------------------------------------------------------------------------------------
st.subheader(t("losses.versus_title"))
st.markdown(t("losses.versus_idea"))
versus_controls, versus_picture = st.columns([1, 2.4], gap="large")
with versus_controls:
    experiment = ui.choice(st.radio, t("losses.experiment"), losses.EXPERIMENTS, key="losses.experiment",
                           labels=ui.labels("losses.experiments"))
    job = losses.race_job(experiment, outlier=outlier)
    st.caption(t(f"losses.about.{experiment}"))
    race = ui.run_button(t("training.train"), "train", job, remember="losses_race", experiment=experiment)
with versus_picture:
    race_chart, race_table = st.empty(), st.empty()


def draw_race():
    if race is None:
        race_chart.info(t("losses.press_train"))
        return
    run, shown, kind = race["run"], race["job"], race["experiment"]
    names, metrics, epochs = losses.EXPERIMENTS[kind]
    if kind == "line":
        fits = {}
        for k, name in enumerate(names):
            epoch, probes = run.latest_probes(k)
            if "line" in probes:
                fits[name] = (losses.LINE_GRID, probes["line"])
        figure = plots.race_lines_figure(shown.data["x_train"], shown.data["y_train"], fits, ui.lang())
    else:
        figure = plots.metric_race_figure([(name, run.history(k)) for k, name in enumerate(names)], metrics,
                                          ui.lang(), epochs=epochs)
    race_chart.plotly_chart(figure, config=ui.PLOT_CONFIG, key=f"race{next(redraws)}")
    if not ui.show_run_notice(race_table, run) and run.result:
        rows = [{t("losses.col.trained_with"): name, **{key: round(value, 4) for key, value in scores.items()}}
                for name, scores in zip(names, run.result["test"])]
        race_table.dataframe(pd.DataFrame(rows), hide_index=True)


ui.notice("losses")
ui.code_panel(snippets.losses_snippet(slope, intercept, outlier, experiment, ui.lang()))
ui.references(("common.ref_losses", "https://keras.io/api/losses/"), ("common.ref_metrics", "https://keras.io/api/metrics/"))
ui.follow(race and race["run"], draw_race)
