"""Overfitting: see a model learn the workbook by heart, then cure it."""
import itertools

import pandas as pd
import streamlit as st

from lib import data, overfitting, plots, snippets, training, ui

t = ui.t
WIDTHS = (16, 32, 64, 128, 256, 512)
PENALTIES = (0.0001, 0.0003, 0.001, 0.003, 0.01)
KEPT_RUNS = 6
WORKBOOK = len(data.load_dataset("digits").x_train)  # the whole training split: "more data" at its most
training.runner()  # start the workers now: Keras is imported before the first click
redraws = itertools.count()  # each redraw in one page run needs its own element key


def cures_ui():
    """The cures, each a switch (with its one setting when it is on); returns digits_job's arguments."""
    cures = {}
    if st.toggle(t("overfitting.cure.more_data"), key="more_data", bind="query-params"):
        cures["samples"] = WORKBOOK
    if st.toggle(t("overfitting.cure.smaller"), key="smaller", bind="query-params"):
        cures.update(width=32, depth=1)
    if st.toggle(t("overfitting.cure.dropout"), key="dropout", bind="query-params"):
        cures["dropout"] = st.slider(t("overfitting.dropout_rate"), 0.1, 0.7, 0.5, 0.1, key="rate", bind="query-params")
    if st.toggle(t("overfitting.cure.l2"), key="l2", bind="query-params"):
        cures["l2"] = st.select_slider(t("overfitting.l2_strength"), PENALTIES, 0.001, key="penalty", bind="query-params")
    if st.toggle(t("overfitting.cure.early"), key="early", bind="query-params"):
        patience = st.slider("patience", 2, 30, 10, key="patience", bind="query-params")
        restore = st.checkbox("restore_best_weights", True, key="restore", bind="query-params")
        cures["early_stopping"] = {"patience": patience, "restore_best_weights": restore}
    if st.toggle(t("overfitting.cure.augment"), key="augment", bind="query-params"):
        cures["augment"] = True
    return cures


def run_label(settings):
    parts = [t("overfitting.label.base", samples=settings["samples"], width=settings["width"], depth=settings["depth"])]
    if settings.get("dropout"):
        parts.append(f"Dropout {settings['dropout']:g}")
    if settings.get("l2"):
        parts.append(f"L2 {settings['l2']:g}")
    if settings.get("early_stopping"):
        parts.append(t("overfitting.label.early", patience=settings["early_stopping"]["patience"]))
    if settings.get("augment"):
        parts.append(t("overfitting.label.augment"))
    return " · ".join(parts)


# --- The page --------------------------------------------------------------------------------
ui.header("overfitting")
st.subheader(t("overfitting.happen_title"))
controls, picture = st.columns([1, 2.4], gap="large")
with controls:
    samples = st.slider(t("overfitting.samples"), 50, WORKBOOK, 100, 10, key="samples", bind="query-params")
    width = st.select_slider(t("overfitting.width"), WIDTHS, 256, key="width", bind="query-params")
    depth = st.slider(t("overfitting.depth"), 1, 4, 2, key="depth", bind="query-params")
    epochs = st.slider("epochs", 10, 300, 60, 10, key="epochs", bind="query-params")
    st.markdown(f"**{t('overfitting.cures')}**")
    settings = {"samples": samples, "width": width, "depth": depth, **cures_ui()}
    try:
        job = overfitting.digits_job(**settings, epochs=epochs)
    except training.TrainingError as e:  # only reachable through a hand-edited link
        job = None
        st.error(t(f"training.error.{e.code}", **e.details))
    train, stop = st.columns(2)
    train_clicked = ui.start_button(t("training.train"), key="train", container=train, disabled=job is None)

runs = st.session_state.setdefault("overfit_runs", [])
if train_clicked:
    runs.append({"run": training.runner().submit(job), "settings": settings, "job": job})
    del runs[:-KEPT_RUNS]
current = runs[-1] if runs else None
active = current is not None and current["run"].active
stop.button(t("training.stop"), key="stop", icon=":material/stop:", disabled=not active, width="stretch",
            on_click=current["run"].stop if active else None)
with picture:
    chart, numbers = st.empty(), st.empty()


def draw_digits():
    if current is None:
        chart.plotly_chart(plots.curves_figure({}, ui.lang(), epochs=epochs, message=t("training.press_train")),
                           config=ui.PLOT_CONFIG)
        return
    run = current["run"]
    history = run.history()
    best = overfitting.best_epoch(history)
    chart.plotly_chart(plots.curves_figure(history, ui.lang(), epochs=current["job"].fit["epochs"], best_epoch=best),
                       config=ui.PLOT_CONFIG, key=f"digits{next(redraws)}")
    if not ui.show_run_notice(numbers, run) and history.get("accuracy"):
        gap = overfitting.gap(history)
        numbers.markdown(t("overfitting.numbers", train=f"{history['accuracy'][-1]:.3f}",
                           val=f"{history['val_accuracy'][-1]:.3f}", gap=f"{gap:.3f}", best=best,
                           epochs=len(history["loss"])))


st.subheader(t("overfitting.runs_title"))
done = [r for r in runs if r["run"].epochs]
if done:
    ui.plot(plots.runs_loss_figure([(run_label(r["settings"]), r["run"].history()) for r in done], ui.lang()))
    rows = []
    for r in done:
        history, result = r["run"].history(), r["run"].result or {}
        kept = (result.get("test") or [{}])[0].get("accuracy")
        rows.append({t("overfitting.col.settings"): run_label(r["settings"]), t("overfitting.col.epochs"): len(history["loss"]),
                     t("overfitting.col.train"): round(history["accuracy"][-1], 3),
                     t("overfitting.col.validation"): round(history["val_accuracy"][-1], 3),
                     t("overfitting.col.gap"): round(overfitting.gap(history), 3),
                     t("overfitting.col.best"): overfitting.best_epoch(history),
                     t("overfitting.col.kept"): round(kept, 3) if kept is not None else None})
    st.dataframe(pd.DataFrame(rows), hide_index=True)
else:
    st.caption(t("overfitting.runs_empty"))

st.subheader(t("overfitting.curve_title"))
st.markdown(t("overfitting.curve_idea"))
curve_controls, curve_picture = st.columns([1, 2.4], gap="large")
with curve_controls:
    points = st.slider(t("overfitting.points"), 5, 40, 12, key="points", bind="query-params")
    noise = st.slider(t("overfitting.noise"), 0.0, 0.6, 0.25, 0.05, key="noise", bind="query-params")
    curve_width = st.select_slider(t("overfitting.width"), WIDTHS, 128, key="curve_width", bind="query-params")
    curve_epochs = st.slider("epochs", 50, training.MAX_EPOCHS, 200, 50, key="curve_epochs", bind="query-params")
    curve_l2 = st.select_slider(t("overfitting.curve_l2"), (0.0, *PENALTIES), 0.0, key="curve_l2", bind="query-params")
    curve_job = overfitting.curve_job(n=points, noise=noise, width=curve_width, l2=curve_l2, epochs=curve_epochs)
    curve = ui.run_button(t("overfitting.fit"), "fit", curve_job, remember="curve_run")
with curve_picture:
    curve_chart, curve_numbers = st.empty(), st.empty()


def draw_curve():
    shown = curve["job"] if curve else curve_job
    x, y, x_val, y_val = (shown.data[k] for k in ("x_train", "y_train", "x_test", "y_test"))
    epoch, probes = curve["run"].latest_probes() if curve else (0, {})
    grid = shown.probes["curve"]
    curve_chart.plotly_chart(plots.curve_fit_figure(x, y, x_val, y_val, grid, overfitting.true_curve(grid),
                                                    probes.get("curve"), ui.lang(), epoch=epoch),
                             config=ui.PLOT_CONFIG, key=f"curve{next(redraws)}")
    history = curve["run"].history() if curve else {}
    if curve and ui.show_run_notice(curve_numbers, curve["run"]):
        return
    if history.get("loss"):
        fresh = history.get("val_loss")  # measured every few epochs, so not yet after the first ones
        curve_numbers.markdown(t("overfitting.curve_numbers", epoch=len(history["loss"]),
                                 train=f"{history['loss'][-1]:.4f}", val=f"{fresh[-1]:.4f}" if fresh else "…"))
    else:
        curve_numbers.caption(t("overfitting.curve_hint"))


with st.expander(t("overfitting.curve_code")):
    st.code(snippets.curve_snippet(curve_job, ui.lang()), language="python")

ui.notice("overfitting")
if job is not None:
    ui.code_panel(snippets.training_snippet(job, ui.lang()))
ui.references(("common.ref_regularizers", "https://keras.io/api/layers/regularizers/"),
              ("common.ref_early_stopping", "https://keras.io/api/callbacks/early_stopping/"))
ui.follow([current and current["run"], curve and curve["run"]], lambda: (draw_digits(), draw_curve()))
