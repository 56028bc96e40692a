"""Activations: what each function does to a number, its slope, and its effect on learning."""
import functools

import numpy as np
import streamlit as st

from lib import activations, data, plots, snippets, training, ui

t = ui.t
key = ui.keys("activations")
DEFAULT_LOGITS = (2.0, 1.0, 0.1, -0.5, 0.5, -1.0, 1.5, 0.0, -2.0, 0.8)
REFERENCES = (("common.ref_activations", "https://keras.io/api/layers/activations/"),
              ("common.ref_keras_guide", "https://keras.io/guides/sequential_model/"))


def draw_maxout(hand_made, entry):
    """The `hand_made` pieces before a run; then the target, the fit and the pieces learned."""
    if entry is None:
        return ui.plot(plots.maxout_figure(hand_made, activations.MAXOUT_GRID, ui.lang()))
    epoch, probes = entry.run.latest_probes()
    pieces = ()
    if entry.run.result:  # the pieces it learned: one weight and one bias per piece
        kernel, bias = entry.run.result.weights[0]
        pieces = tuple(zip(kernel[0].tolist(), bias.tolist()))
    target = activations.TARGETS[entry.meta["target"]](activations.MAXOUT_GRID)
    ui.plot(plots.maxout_figure(pieces, activations.MAXOUT_GRID, ui.lang(), target=target,
                                fitted=probes.get("fit"), epoch=epoch or None))
    losses = entry.run.history().get("loss")
    if losses:
        st.caption(t("activations.maxout_numbers", epoch=len(losses), loss=f"{losses[-1]:.4f}"))


def draw_toy(chosen_job, entry):
    """The network's answer over the plane and its accuracy curve, live while it trains."""
    job = entry.job if entry else chosen_job
    epoch, probes = entry.run.latest_probes() if entry else (0, {})
    history = entry.run.history() if entry else {}
    boundary, curves = st.columns(2)
    with boundary:
        ui.plot(plots.boundary_figure(activations.grid()[0], probes.get("grid"), job.data.x_train,
                                      job.data.y_train, ui.lang(), epoch=epoch or None))
    with curves:
        ui.plot(plots.curves_figure(history, ui.lang(), epochs=job.fit.epochs, panels=("accuracy",),
                                    message=None if entry else t("training.press_train")))
    if entry and entry.run.test_scores():
        accuracy = f"{entry.run.test_scores()['accuracy']:.3f}"
        st.caption(t("activations.toy_numbers", activation=job.model.kwargs["activation"],
                     epochs=len(history["loss"]), accuracy=accuracy, test=len(job.data.x_test)))


@ui.part("activations", "explorer")
def explorer():
    """The chosen functions over a range, and each one's value and slope at x0, by Keras."""
    in_code = ui.redraws("activations", "explorer", "end")  # the page's code prints these values
    controls, picture = ui.controls_and_picture()
    with controls:
        shown = ui.choice(st.multiselect, t("activations.functions"), activations.ACTIVATIONS,
                          key=key("show"), default=["relu", "sigmoid", "tanh"], on_change=in_code)
        low, high = ui.bound(st.slider, t("activations.range"), -10.0, 10.0, (-4.0, 4.0), 0.5,
                             key=key("range"))
        x0 = ui.bound(st.slider, t("activations.at"), -10.0, 10.0, 1.0, 0.1, key=key("x"),
                      on_change=in_code)
    with picture:
        if not shown:
            st.info(t("activations.choose_one"))
        elif not low < high:
            st.error(t("activations.error.empty_range", low=low, high=high), icon=":material/block:")
        else:
            curves = {name: activations.curve(name, low, high) for name in shown}
            ui.plot(plots.functions_figure(curves, x0, ui.lang()))
    facts = {}  # what the page's tasks are checked against (lib/tasks/catalogue/activations.toml)
    if shown:  # each function's value and slope at x0, by Keras, rounded for reading
        at_x0 = [[round(float(v[0]), 4) for v in activations.evaluate(name, [x0])] for name in shown]
        facts["tanh_slope"] = dict(zip(shown, at_x0)).get("tanh", (None, None))[1]
        ui.live_table({"function": list(shown), "f(x)": [y for y, _ in at_x0],
                       "f'(x)": [d for _, d in at_x0]}, prefix="activations.col")
        st.caption(t("activations.readout", x=f"{x0:g}"))
    return dict(shown=shown, x0=x0, facts=facts)


@ui.part("activations", "softmax")
def softmax():
    """Scores in, probabilities out: softmax at a temperature, and the loss of the true class."""
    in_code = ui.redraws("activations", "softmax", "end")
    classes = ui.bound(st.slider, t("activations.classes"), 3, 10, 5, key=key("classes"),
                       on_change=in_code)
    score_columns = st.columns(5)
    logits = [ui.bound(score_columns[k % 5].slider, f"z{k}", -5.0, 5.0, DEFAULT_LOGITS[k], 0.1,
                       key=key(f"z{k}"), on_change=in_code) for k in range(classes)]
    temperature_col, truth_col = st.columns(2)
    temperature = ui.bound(temperature_col.slider, t("activations.temperature"), 0.0, 5.0, 1.0, 0.1,
                           key=key("temperature"), on_change=in_code)
    true_class = ui.choice(truth_col.selectbox, t("activations.true_class"), range(classes),
                           key=key("truth"), on_change=in_code)
    facts = {}
    try:
        probabilities = activations.softmax(logits, temperature)
        ui.plot(plots.softmax_figure(logits, probabilities, true_class, ui.lang()))
        verdict = activations.verdict(probabilities, true_class)  # right or wrong
        loss = activations.cross_entropy(probabilities, true_class)
        facts.update(p_true=float(probabilities[true_class]), softmax_loss=loss)
        st.markdown(t(f"activations.softmax_numbers.{verdict}", total=f"{probabilities.sum():.3f}",
                      best=int(np.argmax(probabilities)), true=true_class,
                      p=f"{probabilities[true_class]:.4f}", loss=f"{loss:.4f}"))
        if probabilities[true_class] < activations.EPSILON:
            st.caption(t("activations.clipped"))
    except activations.ActivationError as e:
        ui.say(e, kind="warning", icon=":material/thermostat:")
    code_temperature = temperature if temperature > 0 else 1.0  # the code never divides by 0
    return dict(code=dict(logits=logits, temperature=code_temperature, true_class=true_class), facts=facts)


@ui.part("activations", "vanishing")
def vanishing():
    """The gradient's size at each layer of a deep stack, for sigmoid, ReLU and one more."""
    depth_col, third_col = st.columns(2)
    depth = ui.bound(depth_col.slider, t("activations.depth"), 2, activations.MAX_DEPTH, 10,
                     key=key("depth"))
    third = ui.choice(third_col.selectbox, t("activations.third"), activations.ACTIVATIONS,
                      key=key("third"), default="tanh")
    compared = {name: activations.gradient_norms(name, depth) for name in ("sigmoid", "relu", third)}
    ui.plot(plots.gradients_figure(compared, ui.lang()))
    ratio = compared["sigmoid"][-1] / max(compared["sigmoid"][0], 1e-30)  # output end over input end
    st.markdown(t("activations.vanishing_numbers", depth=depth, ratio=f"{ratio:.0e}"))
    return dict(facts={"first_gradient": compared[third][0]})


@ui.part("activations", "end")
def page_end():
    """What to notice, and the code that prints the explorer's and the softmax's numbers."""
    explored, scored = ui.part_result("activations", "explorer"), ui.part_result("activations", "softmax")
    code = snippets.activations_snippet(explored["shown"] or ["relu"], explored["x0"], **scored["code"],
                                        lang=ui.lang())
    ui.page_end("activations", code, *REFERENCES)


ui.header("activations")
ui.section("activations", "explorer", idea=False)
explored = explorer()
linear_gap, stack_params, one_params = activations.collapse_gap("linear")
st.markdown(t("activations.collapse", linear=f"{linear_gap:.1e}", stack=stack_params,
              one=one_params, relu=f"{activations.collapse_gap('relu')[0]:.2f}"))

ui.section("activations", "relu", idea=False)
edges, after = activations.relu_on_photo()
titles = [t("activations.fig.before_relu"), t("activations.fig.after_relu")]
ui.plot(plots.image_grid([edges, after], titles, cols=2, height_per_row=300))
st.markdown(t("activations.relu_idea", zeroed=f"{100 * float(np.mean(edges < 0)):.0f}"))

ui.section("activations", "softmax")
scored = softmax()

ui.section("activations", "maxout")
pieces_col, fit_col = ui.controls_and_picture()
maxout_live = ui.LiveRun(key("maxout_run"))
with pieces_col:
    shown_pieces = ui.bound(st.slider, t("activations.pieces"), 1, len(activations.MAXOUT_PIECES),
                            3, key=key("pieces"))
    target = ui.choice(st.selectbox, t("activations.target"), tuple(activations.TARGETS),
                       key=key("target"), default="abs", labels=ui.labels("activations.targets"))
    train_pieces = ui.bound(st.slider, t("activations.train_pieces"), 1, 5, 2,
                            key=key("train_pieces"))
    maxout_job = activations.maxout_job(target=target, pieces=train_pieces)
    maxout_live.buttons(t("activations.teach"), maxout_job, target=target)
with fit_col:
    maxout_live.show(functools.partial(draw_maxout, activations.MAXOUT_PIECES[:shown_pieces]))

ui.section("activations", "vanishing")
vanished = vanishing()

ui.section("activations", "learning")
toy_controls, toy_picture = ui.controls_and_picture()
toy_live = ui.LiveRun(key("toy_run"))
with toy_controls:
    toy_set = ui.choice(st.selectbox, t("activations.toy_set"), data.TOY_SETS, key=key("toy"),
                        default="circle", labels=ui.labels("activations.toys"))
    hidden = ui.choice(st.selectbox, t("activations.hidden"), activations.ACTIVATIONS,
                       key=key("hidden"), default="relu")
    toy_epochs = ui.bound(st.slider, "epochs", 10, 300, 100, 10, key=key("toy_epochs"))
    toy_job = activations.toy_job(dataset=toy_set, activation=hidden, epochs=toy_epochs)
    toy_live.buttons(t("training.train"), toy_job, stop=True)
with toy_picture:
    toy_live.show(functools.partial(draw_toy, toy_job))

page_end()
ui.tasks("activations", {**explored["facts"], **scored["facts"], **vanished["facts"]})
training.runner()  # start the workers once the page is drawn: Keras loads before the first click
