"""Activations: what each function does to a number, its slope, and its effect on learning."""
import itertools

import numpy as np
import pandas as pd
import streamlit as st

from lib import activations, data, plots, snippets, training, ui

t = ui.t
DEFAULT_LOGITS = (2.0, 1.0, 0.1, -0.5, 0.5, -1.0, 1.5, 0.0, -2.0, 0.8)
TOY_SETS = data.TOY_SETS
training.runner()  # start the workers now: Keras is imported before the first click
redraws = itertools.count()  # each redraw in one page run needs its own element key


@st.cache_data(show_spinner=False, max_entries=8)
def relu_on_a_feature_map():
    """The China photo's Laplacian (edges, signed) before and after ReLU, by Keras."""
    return activations.relu_on_edges(data.sample_image("china", max_side=128))


@st.cache_data(show_spinner=False, max_entries=128)
def norms(name, depth):
    return activations.gradient_norms(name, depth)


ui.header("activations")

# --- 1. The explorer ---------------------------------------------------------------------------
st.subheader(t("activations.explorer_title"))
controls, picture = st.columns([1, 2.4], gap="large")
with controls:
    shown = ui.choice(st.multiselect, t("activations.functions"), activations.ACTIVATIONS, key="activations.show",
                      default=["relu", "sigmoid", "tanh"])
    low, high = st.slider(t("activations.range"), -10.0, 10.0, (-4.0, 4.0), 0.5, key="range", bind="query-params")
    x0 = st.slider(t("activations.at"), -10.0, 10.0, 1.0, 0.1, key="x", bind="query-params")
with picture:
    if not shown:
        st.info(t("activations.choose_one"))
    elif not low < high:
        st.error(t("activations.error.empty_range", low=low, high=high), icon=":material/block:")
    else:
        curves = {name: activations.curve(name, low, high) for name in shown}
        ui.plot(plots.functions_figure(curves, x0, ui.lang()))
if shown:
    readout = {name: activations.evaluate(name, [x0]) for name in shown}
    st.dataframe(pd.DataFrame({t("activations.col.function"): list(readout),
                               "f(x)": [round(float(y[0]), 4) for y, _ in readout.values()],
                               "f'(x)": [round(float(d[0]), 4) for _, d in readout.values()]}),
                 hide_index=True)
    st.caption(t("activations.readout", x=f"{x0:g}"))

# --- 2. ReLU on a real feature map ----------------------------------------------------------------
st.subheader(t("activations.relu_title"))
edges, after = relu_on_a_feature_map()
ui.plot(plots.image_grid([edges, after], [t("activations.fig.before_relu"), t("activations.fig.after_relu")],
                         cols=2, height_per_row=300))
st.markdown(t("activations.relu_idea", zeroed=f"{100 * float(np.mean(edges < 0)):.0f}"))

# --- 3. Softmax -------------------------------------------------------------------------------------
st.subheader(t("activations.softmax_title"))
st.markdown(t("activations.softmax_idea"))
classes = st.slider(t("activations.classes"), 3, 10, 5, key="classes", bind="query-params")
columns = st.columns(5)
logits = [columns[k % 5].slider(f"z{k}", -5.0, 5.0, DEFAULT_LOGITS[k], 0.1, key=f"z{k}", bind="query-params")
          for k in range(classes)]
temperature_col, truth_col = st.columns(2)
temperature = temperature_col.slider(t("activations.temperature"), 0.0, 5.0, 1.0, 0.1, key="temperature",
                                     bind="query-params")
true_class = ui.choice(truth_col.selectbox, t("activations.true_class"), range(classes), key="activations.truth")
try:
    probabilities = activations.softmax(logits, temperature)
    ui.plot(plots.softmax_figure(logits, probabilities, true_class, ui.lang()))
    st.markdown(t("activations.softmax_numbers", total=f"{probabilities.sum():.3f}", best=int(np.argmax(probabilities)),
                  true=true_class, p=f"{probabilities[true_class]:.4f}",
                  loss=f"{activations.cross_entropy(probabilities, true_class):.4f}"))
    if probabilities[true_class] < activations.EPSILON:
        st.caption(t("activations.clipped"))
except activations.ActivationError as e:
    probabilities = None
    st.warning(t(f"activations.error.{e.code}", **e.details), icon=":material/thermostat:")

# --- 4. Maxout ----------------------------------------------------------------------------------
st.subheader(t("activations.maxout_title"))
st.markdown(t("activations.maxout_idea"))
pieces_col, fit_col = st.columns([1, 2.4], gap="large")
with pieces_col:
    shown_pieces = st.slider(t("activations.pieces"), 1, len(activations.MAXOUT_PIECES), 3, key="pieces",
                             bind="query-params")
    target = ui.choice(st.selectbox, t("activations.target"), tuple(activations.TARGETS), key="activations.target",
                       default="abs", labels=ui.labels("activations.targets"))
    train_pieces = st.slider(t("activations.train_pieces"), 1, 5, 2, key="train_pieces", bind="query-params")
    maxout_job = activations.maxout_job(target=target, pieces=train_pieces)
    maxout_run = ui.run_button(t("activations.teach"), "teach", maxout_job, remember="maxout_run", target=target)
with fit_col:
    maxout_chart, maxout_numbers = st.empty(), st.empty()


def draw_maxout():
    grid = activations.MAXOUT_GRID
    if maxout_run is None:
        figure = plots.maxout_figure(activations.MAXOUT_PIECES[:shown_pieces], grid, ui.lang())
    else:
        run = maxout_run["run"]
        epoch, probes = run.latest_probes()
        pieces = activations.MAXOUT_PIECES[:0]
        if run.result:  # the pieces it learned: one weight and one bias per piece
            kernel, bias = run.result["weights"][0]
            pieces = tuple(zip(kernel[0].tolist(), bias.tolist()))
        target_values = activations.TARGETS[maxout_run["target"]](grid)
        figure = plots.maxout_figure(pieces, grid, ui.lang(), target=target_values, fitted=probes.get("fit"),
                                     epoch=epoch or None)
        history = run.history()
        if not ui.show_run_notice(maxout_numbers, run) and history.get("loss"):
            maxout_numbers.caption(t("activations.maxout_numbers", epoch=len(history["loss"]),
                                     loss=f"{history['loss'][-1]:.4f}"))
    maxout_chart.plotly_chart(figure, config=ui.PLOT_CONFIG, key=f"maxout{next(redraws)}")


# --- 5. Vanishing gradients -----------------------------------------------------------------------
st.subheader(t("activations.vanishing_title"))
st.markdown(t("activations.vanishing_idea"))
depth_col, third_col = st.columns(2)
depth = depth_col.slider(t("activations.depth"), 2, activations.MAX_DEPTH, 10, key="depth", bind="query-params")
third = ui.choice(third_col.selectbox, t("activations.third"), activations.ACTIVATIONS, key="activations.third",
                  default="tanh")
compared = {name: norms(name, depth) for name in dict.fromkeys(("sigmoid", "relu", third))}
ui.plot(plots.gradients_figure(compared, ui.lang()))
sigmoid = compared["sigmoid"]
st.markdown(t("activations.vanishing_numbers", depth=depth, ratio=f"{sigmoid[-1] / max(sigmoid[0], 1e-30):.0e}"))

# --- 6. Effect on learning --------------------------------------------------------------------------
st.subheader(t("activations.learning_title"))
st.markdown(t("activations.learning_idea"))
toy_controls, toy_picture = st.columns([1, 2.4], gap="large")
with toy_controls:
    toy_set = ui.choice(st.selectbox, t("activations.toy_set"), TOY_SETS, key="activations.toy",
                        default="circle", labels=ui.labels("activations.toys"))
    hidden = ui.choice(st.selectbox, t("activations.hidden"), activations.ACTIVATIONS, key="activations.hidden",
                       default="relu")
    toy_epochs = st.slider("epochs", 10, 300, 100, 10, key="toy_epochs", bind="query-params")
    toy_job = activations.toy_job(dataset=toy_set, activation=hidden, epochs=toy_epochs)
    toy_run = ui.run_button(t("training.train"), "train", toy_job, remember="toy_run")
with toy_picture:
    boundary_chart, loss_chart = st.columns(2)
    boundary_slot, loss_slot = boundary_chart.empty(), loss_chart.empty()
    toy_status = st.empty()


def draw_toy():
    axis, _ = activations.grid()
    job = toy_run["job"] if toy_run else toy_job
    epoch, probes = toy_run["run"].latest_probes() if toy_run else (0, {})
    boundary_slot.plotly_chart(plots.boundary_figure(axis, probes.get("grid"), job.data["x_train"], job.data["y_train"],
                                                     ui.lang(), epoch=epoch or None),
                               config=ui.PLOT_CONFIG, key=f"boundary{next(redraws)}")
    history = toy_run["run"].history() if toy_run else {}
    loss_slot.plotly_chart(plots.curves_figure(history, ui.lang(), epochs=job.fit["epochs"], panels=("accuracy",),
                                               message=None if toy_run else t("training.press_train")),
                           config=ui.PLOT_CONFIG, key=f"toyloss{next(redraws)}")
    if toy_run and not ui.show_run_notice(toy_status, toy_run["run"]) and toy_run["run"].result:
        test = toy_run["run"].result["test"][0]
        toy_status.caption(t("activations.toy_numbers", activation=job.model["kwargs"]["activation"],
                             accuracy=f"{test['accuracy']:.3f}", epochs=len(history.get("loss", []))))


ui.notice("activations")
ui.code_panel(snippets.activations_snippet(shown or ["relu"], x0, logits, temperature if temperature > 0 else 1.0,
                                           true_class, ui.lang()))
ui.references(("common.ref_activations", "https://keras.io/api/layers/activations/"),
              ("common.ref_keras_guide", "https://keras.io/guides/sequential_model/"))
ui.follow([maxout_run and maxout_run["run"], toy_run and toy_run["run"]], lambda: (draw_maxout(), draw_toy()))
