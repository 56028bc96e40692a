"""Loss & metrics: how mistakes are measured, and why a metric only reports while the loss steers."""
import numpy as np
import pandas as pd
import streamlit as st

from lib import losses, plots, snippets, training, ui

t = ui.t
key = ui.keys("losses")
P_GRID = np.linspace(0.005, 0.995, 199, dtype="float32")


def draw_race(entry):
    if entry is None:
        return st.info(t("losses.press_train"))
    run, kind = entry.run, entry.meta["experiment"]
    names, metrics, epochs = losses.EXPERIMENTS[kind]
    if kind == "line":
        fits = {name: (losses.LINE_GRID, run.latest_probes(k)[1]["line"]) for k, name in enumerate(names)
                if "line" in run.latest_probes(k)[1]}
        ui.plot(plots.race_lines_figure(entry.job.data.x_train, entry.job.data.y_train, fits, ui.lang()))
    else:
        ui.plot(plots.metric_race_figure([(name, run.history(k)) for k, name in enumerate(names)], metrics, ui.lang(),
                                         epochs=epochs))
    if run.result:
        rows = [{t("losses.col.trained_with"): name, **{k: round(v, 4) for k, v in run.test_scores(r).items()}}
                for r, name in enumerate(names)]
        st.dataframe(pd.DataFrame(rows), hide_index=True)


ui.header("losses")

# --- Regression: MSE, MAE, Huber on a line through points ---------------------------------------
st.subheader(t("losses.regression_title"))
controls, picture = st.columns([1, 2.4], gap="large")
with controls:
    slope = ui.bound(st.slider, t("losses.slope"), -1.0, 4.0, 1.0, 0.1, key=key("slope"))
    intercept = ui.bound(st.slider, t("losses.intercept"), -2.0, 3.0, 0.5, 0.1, key=key("intercept"))
    outlier = ui.bound(st.toggle, t("losses.outlier"), key=key("outlier"))
x, y = losses.points(outlier)
values = losses.line_losses(slope, intercept, x, y)
shares = losses.per_point(y, slope * x + intercept)
with picture:
    ui.plot(plots.regression_figure(x, y, slope, intercept, shares, ui.lang()))
for column, name in zip(st.columns(3), ("mse", "mae", "huber")):
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
p0 = ui.bound(st.slider, t("losses.p"), 0.01, 0.99, 0.9, 0.01, key=key("p"))
at_p = {name: float(v[0]) for name, v in losses.confidence_curves(np.array([p0])).items()}
ui.plot(plots.confidence_figure(P_GRID, losses.confidence_curves(P_GRID), p0, at_p, ui.lang()))
st.markdown(t("losses.confidence_numbers", p=f"{p0:.2f}", ce=f"{at_p['binary_crossentropy']:.3f}",
              mse=f"{at_p['mse']:.3f}", wrong=f"{losses.confidence_curves(np.array([0.01]))['binary_crossentropy'][0]:.2f}"))

# --- The study note's compile line -------------------------------------------------------------------
st.subheader(t("losses.seed_title"))
st.code('model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])', language="python")
check = losses.seed_compile_check()
st.markdown(t("losses.seed_idea"))
st.dataframe(pd.DataFrame({t("losses.col.cross_entropy"): list(losses.CROSS_ENTROPIES),
                           t("losses.col.labels"): [t(f"losses.labels.{n}") for n in losses.CROSS_ENTROPIES],
                           t("losses.col.value"): [round(check.losses[n], 4) for n in losses.CROSS_ENTROPIES]}),
             hide_index=True)
st.markdown(t("losses.seed_verdict", refusal=check.refusal))
with st.expander(t("losses.seed_code")):
    st.code(snippets.seed_compile_snippet(ui.lang()), language="python")

# --- Loss vs metric -------------------------------------------------------------------------------------
st.subheader(t("losses.versus_title"))
st.markdown(t("losses.versus_idea"))
versus_controls, versus_picture = st.columns([1, 2.4], gap="large")
live = ui.LiveRun(key("race_run"))
with versus_controls:
    experiment = ui.choice(st.radio, t("losses.experiment"), losses.EXPERIMENTS, key=key("experiment"),
                           labels=ui.labels("losses.experiments"))
    job = losses.race_job(experiment, outlier=outlier)
    st.caption(t(f"losses.about.{experiment}"))
    live.buttons(t("training.train"), job, stop=True, experiment=experiment)
with versus_picture:
    live.show(draw_race)

ui.notice("losses")
ui.code_panel(snippets.losses_snippet(slope, intercept, outlier, experiment, job, ui.lang()))
ui.references(("common.ref_losses", "https://keras.io/api/losses/"), ("common.ref_metrics", "https://keras.io/api/metrics/"))

training.runner()  # start the workers once the page is drawn: Keras is imported before the first click
