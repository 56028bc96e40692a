"""Overfitting: see a model learn the workbook by heart, then cure it."""
import streamlit as st

from lib import overfitting, plots, snippets, training, ui
from lib.overfitting import TEST_IMAGES, VALIDATION_IMAGES, WORKBOOK

t = ui.t
key = ui.keys("overfitting")
WIDTHS = (16, 32, 64, 128, 256, 512)
PENALTIES = (0.0001, 0.0003, 0.001, 0.003, 0.01)


def cures_ui():
    """The cures, each a switch (with its one setting when it is on): digits_job's arguments."""
    cures = {}
    more_data = t("overfitting.cure.more_data", n=f"{WORKBOOK:,}")
    if ui.bound(st.toggle, more_data, key=key("more_data")):
        cures["samples"] = WORKBOOK
    if ui.bound(st.toggle, t("overfitting.cure.smaller"), key=key("smaller")):
        cures.update(width=32, depth=1)
    if ui.bound(st.toggle, t("overfitting.cure.dropout"), key=key("dropout")):
        cures["dropout"] = ui.bound(st.slider, t("overfitting.dropout_rate"), 0.1, 0.7, 0.5, 0.1,
                                    key=key("rate"))
    if ui.bound(st.toggle, t("overfitting.cure.l2"), key=key("l2")):
        cures["l2"] = ui.bound(st.select_slider, t("overfitting.l2_strength"), PENALTIES, 0.001,
                               key=key("penalty"))
    if ui.bound(st.toggle, t("overfitting.cure.early"), key=key("early")):
        patience = ui.bound(st.slider, "patience", 2, 30, 10, key=key("patience"))
        restore = ui.bound(st.checkbox, "restore_best_weights", False, key=key("restore"))
        cures["early_stopping"] = {"patience": patience, "restore_best_weights": restore}
    if ui.bound(st.toggle, t("overfitting.cure.augment"), key=key("augment")):
        cures["augment"] = True
    return cures


def draw_digits(entry, epochs):
    if entry is None:
        press = t("training.press_train")
        return ui.plot(plots.curves_figure({}, ui.lang(), epochs=epochs, message=press))
    history = entry.run.history()
    best = overfitting.best_epoch(history)
    ui.plot(plots.curves_figure(history, ui.lang(), epochs=entry.job.fit.epochs, best_epoch=best))
    if history.get("val_accuracy"):  # what happened after the best epoch; then in inference mode
        st.markdown(overfitting.numbers_text(history, ui.lang(), entry.run))


def draw_curve(entry, job):
    """The points, the true curve and the network's curve: of the run, or of `job` before one."""
    shown = entry.job if entry else job
    epoch, probes = entry.run.latest_probes() if entry else (0, {})
    grid, d = shown.probes["curve"], shown.data
    ui.plot(plots.curve_fit_figure(d.x_train, d.y_train, d.x_val, d.y_val, grid,
                                   overfitting.true_curve(grid), probes.get("curve"), ui.lang(),
                                   epoch=epoch))
    history = entry.run.history() if entry else {}
    if history.get("loss"):
        # val_loss is measured every few epochs, so there is none yet after the first ones
        losses, fresh = history["loss"], history.get("val_loss")
        st.markdown(t("overfitting.curve_numbers", epoch=len(losses), train=f"{losses[-1]:.4f}",
                      val=f"{fresh[-1]:.4f}" if fresh else "…"))
    elif entry is None:
        st.caption(t("overfitting.curve_hint"))


def compare_runs(entries):
    """The runs on one axis (cross-entropy alone), side by side, and the one chosen on validation
    with its test score, said once."""
    labels = [overfitting.run_label(e.meta["settings"], ui.lang()) for e in entries]
    runs = [e.run for e in entries]
    ui.plot(plots.runs_loss_figure([(lb, r.history()) for lb, r in zip(labels, runs)], ui.lang()))
    ui.table(overfitting.runs_table(labels, runs), prefix="overfitting.col")
    st.caption(t("overfitting.compare_on"))
    chosen = overfitting.chosen(runs)
    if chosen is not None:
        st.markdown(overfitting.choice_text(labels[chosen], runs[chosen], ui.lang()))


def modes(entries, rate):
    """Training mode and inference mode, each with a number from real Keras: the Dropout demo,
    the L2 penalty of the latest L2 run, fit's running accuracy."""
    ui.section("overfitting", "modes")
    labels = [overfitting.run_label(e.meta["settings"], ui.lang()) for e in entries]
    st.markdown(overfitting.dropout_text(rate, ui.lang()))
    st.markdown(overfitting.l2_text(labels, [e.run for e in entries], ui.lang()))
    st.markdown(t("overfitting.running"))
    with st.expander(t("overfitting.modes_code")):
        ui.code_panel(snippets.dropout_snippet(rate, ui.lang()), part="dropout", heading=False)


ui.header("overfitting")
ui.section("overfitting", "happen", idea=False)
st.markdown(t("overfitting.split_idea", workbook=f"{WORKBOOK + VALIDATION_IMAGES:,}",
              validation=VALIDATION_IMAGES, rest=f"{WORKBOOK:,}", test=TEST_IMAGES))
controls, picture = ui.controls_and_picture()
live = ui.LiveRun(key("run"), keep=6)
with controls:
    samples = ui.bound(st.slider, t("overfitting.samples"), 50, WORKBOOK, 100, 10,
                       key=key("samples"))
    width = ui.bound(st.select_slider, t("overfitting.width"), WIDTHS, 256, key=key("width"))
    depth = ui.bound(st.slider, t("overfitting.depth"), 1, 4, 2, key=key("depth"))
    epochs = ui.bound(st.slider, "epochs", 10, 300, 60, 10, key=key("epochs"))
    st.markdown(f"**{t('overfitting.cures')}**")
    settings = {"samples": samples, "width": width, "depth": depth, **cures_ui()}
    try:
        job = overfitting.digits_job(**settings, epochs=epochs)
    except training.TrainingError as e:  # only reachable through a hand-edited link
        job = None
        ui.say(e)
    live.buttons(t("training.train"), job, stop=True, settings=settings)
with picture:
    live.show(lambda entry: draw_digits(entry, epochs))
rate = settings.get("dropout", 0.5)  # the Dropout demo's; the tasks read the run shown
facts = {"kept_value": round(float(overfitting.dropout_demo(rate)[0].max()), 4)}
ended = live.current.run if live.current and not live.current.run.active else None
history = ended.history() if job and ended and ended.job.key == job.key else {}
if len(history.get("val_loss", ())) > 1:  # epochs past the lowest val_loss while loss kept falling
    split = overfitting.after_best(history) == "split"
    rising = len(history["val_loss"]) - overfitting.best_epoch(history) if split else 0
    facts.update(rising=rising, kept_accuracy=overfitting.kept_accuracy(history))

ui.section("overfitting", "runs", idea=False)
done = [e for e in live.entries if e.run.epochs]
if done:
    compare_runs(done)
else:
    st.caption(t("overfitting.runs_empty"))
modes(done, rate)

ui.section("overfitting", "curve")
curve_controls, curve_picture = ui.controls_and_picture()
curve_live = ui.LiveRun(key("curve"))
with curve_controls:
    points = ui.bound(st.slider, t("overfitting.points"), 5, 40, 12, key=key("points"))
    noise = ui.bound(st.slider, t("overfitting.noise"), 0.0, 0.6, 0.25, 0.05, key=key("noise"))
    curve_width = ui.bound(st.select_slider, t("overfitting.width"), WIDTHS, 128,
                           key=key("curve_width"))
    curve_epochs = ui.bound(st.slider, "epochs", 50, training.MAX_EPOCHS, 200, 50,
                            key=key("curve_epochs"))
    curve_l2 = ui.bound(st.select_slider, t("overfitting.curve_l2"), (0.0, *PENALTIES), 0.0,
                        key=key("curve_l2"))
    curve_job = overfitting.curve_job(n=points, noise=noise, width=curve_width, l2=curve_l2,
                                      epochs=curve_epochs)
    curve_live.buttons(t("overfitting.fit"), curve_job)
with curve_picture:
    curve_live.show(lambda entry: draw_curve(entry, curve_job))
with st.expander(t("overfitting.curve_code")):  # with the epochs the run did, if its time ran out
    shown = curve_live.current.run if curve_live.current else None
    curve_code = snippets.curve_snippet(curve_job, noise, ui.lang(), shown)
    ui.code_panel(curve_code, part="curve", heading=False)

ui.notice("overfitting")
if job is not None:
    ui.code_panel(snippets.overfitting_snippet(job, ui.lang()))
ui.references(("common.ref_regularizers", "https://keras.io/api/layers/regularizers/"),
              ("common.ref_early_stopping", "https://keras.io/api/callbacks/early_stopping/"))

ui.tasks("overfitting", facts)
training.runner()  # start the workers once the page is drawn: Keras loads before any click
