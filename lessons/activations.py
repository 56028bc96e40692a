"""Activations: what each function does to a number, its slope, and its effect on learning."""
import numpy as np
import pandas as pd
import streamlit as st

from lib import activations, data, plots, snippets, training, ui

t = ui.t
key = ui.keys("activations")
DEFAULT_LOGITS = (2.0, 1.0, 0.1, -0.5, 0.5, -1.0, 1.5, 0.0, -2.0, 0.8)


def draw_maxout(entry):
    grid = activations.MAXOUT_GRID
    if entry is None:
        return ui.plot(plots.maxout_figure(activations.MAXOUT_PIECES[:shown_pieces], grid, ui.lang()))
    epoch, probes = entry.run.latest_probes()
    pieces = ()
    if entry.run.result:  # the pieces it learned: one weight and one bias per piece
        kernel, bias = entry.run.result.weights[0]
        pieces = tuple(zip(kernel[0].tolist(), bias.tolist()))
    ui.plot(plots.maxout_figure(pieces, grid, ui.lang(), target=activations.TARGETS[entry.meta["target"]](grid),
                                fitted=probes.get("fit"), epoch=epoch or None))
    losses = entry.run.history().get("loss")
    if losses:
        st.caption(t("activations.maxout_numbers", epoch=len(losses), loss=f"{losses[-1]:.4f}"))


def draw_toy(entry):
    job = entry.job if entry else toy_job
    epoch, probes = entry.run.latest_probes() if entry else (0, {})
    history = entry.run.history() if entry else {}
    boundary, curves = st.columns(2)
    with boundary:
        ui.plot(plots.boundary_figure(activations.grid()[0], probes.get("grid"), job.data.x_train, job.data.y_train,
                                      ui.lang(), epoch=epoch or None))
    with curves:
        ui.plot(plots.curves_figure(history, ui.lang(), epochs=job.fit.epochs, panels=("accuracy",),
                                    message=None if entry else t("training.press_train")))
    if entry and entry.run.test_scores():
        st.caption(t("activations.toy_numbers", activation=job.model.kwargs["activation"], epochs=len(history["loss"]),
                     accuracy=f"{entry.run.test_scores()['accuracy']:.3f}", test=len(job.data.x_test)))


ui.header("activations")

# --- 1. The explorer ---------------------------------------------------------------------------
st.subheader(t("activations.explorer_title"))
controls, picture = st.columns([1, 2.4], gap="large")
with controls:
    shown = ui.choice(st.multiselect, t("activations.functions"), activations.ACTIVATIONS, key=key("show"),
                      default=["relu", "sigmoid", "tanh"])
    low, high = ui.bound(st.slider, t("activations.range"), -10.0, 10.0, (-4.0, 4.0), 0.5, key=key("range"))
    x0 = ui.bound(st.slider, t("activations.at"), -10.0, 10.0, 1.0, 0.1, key=key("x"))
with picture:
    if not shown:
        st.info(t("activations.choose_one"))
    elif not low < high:
        st.error(t("activations.error.empty_range", low=low, high=high), icon=":material/block:")
    else:
        ui.plot(plots.functions_figure({name: activations.curve(name, low, high) for name in shown}, x0, ui.lang()))
if shown:
    readout = {name: activations.evaluate(name, [x0]) for name in shown}
    st.dataframe(pd.DataFrame({t("activations.col.function"): list(readout),
                               "f(x)": [round(float(y[0]), 4) for y, _ in readout.values()],
                               "f'(x)": [round(float(d[0]), 4) for _, d in readout.values()]}), hide_index=True)
    st.caption(t("activations.readout", x=f"{x0:g}"))
linear_gap, stack_params, one_params = activations.collapse_gap("linear")
st.markdown(t("activations.collapse", linear=f"{linear_gap:.1e}", relu=f"{activations.collapse_gap('relu')[0]:.2f}",
              stack=stack_params, one=one_params))

# --- 2. ReLU on a real feature map ----------------------------------------------------------------
st.subheader(t("activations.relu_title"))
edges, after = activations.relu_on_photo()
ui.plot(plots.image_grid([edges, after], [t("activations.fig.before_relu"), t("activations.fig.after_relu")],
                         cols=2, height_per_row=300))
st.markdown(t("activations.relu_idea", zeroed=f"{100 * float(np.mean(edges < 0)):.0f}"))

# --- 3. Softmax -------------------------------------------------------------------------------------
st.subheader(t("activations.softmax_title"))
st.markdown(t("activations.softmax_idea"))
classes = ui.bound(st.slider, t("activations.classes"), 3, 10, 5, key=key("classes"))
columns = st.columns(5)
logits = [ui.bound(columns[k % 5].slider, f"z{k}", -5.0, 5.0, DEFAULT_LOGITS[k], 0.1, key=key(f"z{k}"))
          for k in range(classes)]
temperature_col, truth_col = st.columns(2)
temperature = ui.bound(temperature_col.slider, t("activations.temperature"), 0.0, 5.0, 1.0, 0.1, key=key("temperature"))
true_class = ui.choice(truth_col.selectbox, t("activations.true_class"), range(classes), key=key("truth"))
try:
    probabilities = activations.softmax(logits, temperature)
    ui.plot(plots.softmax_figure(logits, probabilities, true_class, ui.lang()))
    st.markdown(t(f"activations.softmax_numbers.{activations.verdict(probabilities, true_class)}",
                  total=f"{probabilities.sum():.3f}", best=int(np.argmax(probabilities)), true=true_class,
                  p=f"{probabilities[true_class]:.4f}", loss=f"{activations.cross_entropy(probabilities, true_class):.4f}"))
    if probabilities[true_class] < activations.EPSILON:
        st.caption(t("activations.clipped"))
except activations.ActivationError as e:
    st.warning(t(f"activations.error.{e.code}", **e.details), icon=":material/thermostat:")

# --- 4. Maxout ----------------------------------------------------------------------------------
st.subheader(t("activations.maxout_title"))
st.markdown(t("activations.maxout_idea"))
pieces_col, fit_col = st.columns([1, 2.4], gap="large")
maxout_live = ui.LiveRun(key("maxout_run"))
with pieces_col:
    shown_pieces = ui.bound(st.slider, t("activations.pieces"), 1, len(activations.MAXOUT_PIECES), 3, key=key("pieces"))
    target = ui.choice(st.selectbox, t("activations.target"), tuple(activations.TARGETS), key=key("target"),
                       default="abs", labels=ui.labels("activations.targets"))
    train_pieces = ui.bound(st.slider, t("activations.train_pieces"), 1, 5, 2, key=key("train_pieces"))
    maxout_live.buttons(t("activations.teach"), activations.maxout_job(target=target, pieces=train_pieces), target=target)
with fit_col:
    maxout_live.show(draw_maxout)

# --- 5. Vanishing gradients -----------------------------------------------------------------------
st.subheader(t("activations.vanishing_title"))
st.markdown(t("activations.vanishing_idea"))
depth_col, third_col = st.columns(2)
depth = ui.bound(depth_col.slider, t("activations.depth"), 2, activations.MAX_DEPTH, 10, key=key("depth"))
third = ui.choice(third_col.selectbox, t("activations.third"), activations.ACTIVATIONS, key=key("third"), default="tanh")
compared = {name: activations.gradient_norms(name, depth) for name in dict.fromkeys(("sigmoid", "relu", third))}
ui.plot(plots.gradients_figure(compared, ui.lang()))
sigmoid = compared["sigmoid"]
st.markdown(t("activations.vanishing_numbers", depth=depth, ratio=f"{sigmoid[-1] / max(sigmoid[0], 1e-30):.0e}"))

# --- 6. Effect on learning --------------------------------------------------------------------------
st.subheader(t("activations.learning_title"))
st.markdown(t("activations.learning_idea"))
toy_controls, toy_picture = st.columns([1, 2.4], gap="large")
toy_live = ui.LiveRun(key("toy_run"))
with toy_controls:
    toy_set = ui.choice(st.selectbox, t("activations.toy_set"), data.TOY_SETS, key=key("toy"),
                        default="circle", labels=ui.labels("activations.toys"))
    hidden = ui.choice(st.selectbox, t("activations.hidden"), activations.ACTIVATIONS, key=key("hidden"), default="relu")
    toy_epochs = ui.bound(st.slider, "epochs", 10, 300, 100, 10, key=key("toy_epochs"))
    toy_job = activations.toy_job(dataset=toy_set, activation=hidden, epochs=toy_epochs)
    toy_live.buttons(t("training.train"), toy_job, stop=True)
with toy_picture:
    toy_live.show(draw_toy)

ui.notice("activations")
ui.code_panel(snippets.activations_snippet(shown or ["relu"], x0, logits, temperature if temperature > 0 else 1.0,
                                           true_class, ui.lang()))
ui.references(("common.ref_activations", "https://keras.io/api/layers/activations/"),
              ("common.ref_keras_guide", "https://keras.io/guides/sequential_model/"))

training.runner()  # start the workers once the page is drawn: Keras is imported before the first click
