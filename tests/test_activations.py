"""lib.activations against numpy formulas written here (values and derivatives), softmax,
Maxout against a numpy max-of-affine and through save/load, vanishing gradients, learning on a
toy set, and the Activations page with the code it shows."""
import math
import re

import keras
import numpy as np
import pytest
from scipy.special import erf

from lib import activations, i18n, snippets
from tests.helpers import exercise_widgets, figures, finish, open_page, plotly_array, run_snippet, settle, shown_code

X = np.linspace(-4, 4, 81, dtype="float64")
SIG = 1 / (1 + np.exp(-X))
REFERENCE = {  # name: (f(x), f'(x)) by the textbook formulas
    "relu": (np.maximum(X, 0), (X > 0).astype(float)),
    "sigmoid": (SIG, SIG * (1 - SIG)),
    "tanh": (np.tanh(X), 1 - np.tanh(X) ** 2),
    "leaky_relu": (np.where(X > 0, X, 0.2 * X), np.where(X > 0, 1.0, 0.2)),  # Keras's negative_slope=0.2
    "elu": (np.where(X > 0, X, np.exp(X) - 1), np.where(X > 0, 1.0, np.exp(X))),
    "gelu": (0.5 * X * (1 + erf(X / math.sqrt(2))),
             0.5 * (1 + erf(X / math.sqrt(2))) + X * np.exp(-X ** 2 / 2) / math.sqrt(2 * math.pi)),
    "swish": (X * SIG, SIG + X * SIG * (1 - SIG)),
    "softplus": (np.log1p(np.exp(X)), SIG),
    "linear": (X, np.ones_like(X)),
}


@pytest.mark.parametrize("name", list(REFERENCE))
def test_values_and_autodiff_slopes_match_the_formulas(name):
    y, dy = activations.evaluate(name, X)
    want_y, want_dy = REFERENCE[name]
    np.testing.assert_allclose(y, want_y, rtol=1e-4, atol=1e-5)
    kink = np.abs(X) < 1e-9  # ReLU-like functions have no slope at exactly 0
    np.testing.assert_allclose(dy[~kink], want_dy[~kink], rtol=1e-3, atol=1e-4)


def test_the_explorers_maxout_is_the_largest_of_its_pieces():
    y, dy = activations.evaluate("maxout", X)
    pieces = np.array([[w * x + b for w, b in activations.MAXOUT_PIECES] for x in X])
    np.testing.assert_allclose(y, pieces.max(axis=1), atol=1e-5)
    np.testing.assert_allclose(dy, np.array([w for w, _ in activations.MAXOUT_PIECES])[pieces.argmax(axis=1)], atol=1e-5)
    assert np.all(np.diff(dy) >= -1e-6)  # slopes only grow: the max of lines is convex


def test_curve_checks_its_range_and_is_cached():
    x, y, _ = activations.curve("relu", -2.0, 2.0, 5)
    assert x.tolist() == [-2, -1, 0, 1, 2] and y.tolist() == [0, 0, 0, 1, 2]
    assert activations.curve("relu", -2.0, 2.0, 5)[0] is x
    with pytest.raises(activations.ActivationError) as caught:
        activations.curve("relu", 1.0, 1.0)
    assert caught.value.code == "empty_range"
    with pytest.raises(activations.ActivationError) as caught:
        activations.evaluate("swoosh", X)
    assert caught.value.code == "unknown" and caught.value.details == {"name": "swoosh"}


@pytest.mark.parametrize("temperature", [0.1, 0.5, 1.0, 3.0])
def test_softmax_matches_numpy_and_keeps_the_argmax(temperature):
    logits = np.array([2.0, 1.0, 0.1, -0.5, 0.5])
    expected = np.exp(logits / temperature) / np.exp(logits / temperature).sum()
    p = activations.softmax(logits, temperature)
    np.testing.assert_allclose(p, expected, rtol=1e-5, atol=1e-7)
    assert p.sum() == pytest.approx(1.0, abs=1e-6) and p.argmax() == logits.argmax()
    clipped = max(expected[2], 1e-7)  # Keras clips probabilities at epsilon = 1e-7
    assert activations.cross_entropy(p, 2) == pytest.approx(-math.log(clipped), rel=1e-4)


@pytest.mark.parametrize("bad", [0.0, -1.0])
def test_a_temperature_of_zero_or_below_is_refused(bad):
    with pytest.raises(activations.ActivationError) as caught:
        activations.softmax([1, 2], bad)
    assert caught.value.code == "temperature"


def test_maxout_is_a_max_of_affine_pieces_and_survives_save_and_load(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 4)).astype("float32")
    layer = activations.Maxout(3, 5)
    out = np.asarray(layer(x))
    kernel, bias = layer.get_weights()
    z = (x @ kernel + bias).reshape(7, 3, 5)
    np.testing.assert_allclose(out, z.max(axis=-1), rtol=1e-5, atol=1e-6)
    model = keras.Sequential([keras.Input((4,)), activations.Maxout(3, 5, name="maxout"), keras.layers.Dense(1)])
    path = tmp_path / "maxout.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded.layers[0]).__name__ == "Maxout" and loaded.layers[0].pieces == 5
    np.testing.assert_allclose(loaded(x), model(x), atol=1e-6)
    with pytest.raises(ValueError, match=r"^units and pieces must be at least 1, got 0, 2$"):
        activations.Maxout(0, 2)


def test_gradients_vanish_through_sigmoids_and_not_through_relu():
    sigmoid = activations.gradient_norms("sigmoid", 10)
    relu = activations.gradient_norms("relu", 10)
    assert sigmoid.shape == (10,) and sigmoid[0] < sigmoid[-1] / 100  # first layer starved
    assert relu[0] > relu[-1] / 10  # ReLU passes gradient back nearly whole
    assert np.array_equal(activations.gradient_norms("tanh", 3), activations.gradient_norms("tanh", 3))
    with pytest.raises(activations.ActivationError) as caught:
        activations.gradient_norms("relu", activations.MAX_DEPTH + 1)
    assert caught.value.code == "depth"


def test_the_gradient_norms_are_the_tapes_own():
    """Check one stack by hand: the same model and batch, the gradient through Keras's fit path."""
    import tensorflow as tf

    from lib import data

    model = activations.deep_stack("sigmoid", 3)
    digits = data.load_dataset("digits")
    x, y = digits.x_train[:256].reshape(-1, 64), digits.y_train[:256]
    with tf.GradientTape() as tape:
        loss = keras.losses.SparseCategoricalCrossentropy()(y, model(x))
    grads = tape.gradient(loss, [layer.kernel for layer in model.layers[:-1]])
    np.testing.assert_allclose(activations.gradient_norms("sigmoid", 3), [float(tf.norm(g)) for g in grads], rtol=1e-5)


def test_a_linear_network_cannot_draw_a_circle_and_relu_can(runner):
    relu = finish(runner.submit(activations.toy_job(dataset="circle", activation="relu")))
    linear = finish(runner.submit(activations.toy_job(dataset="circle", activation="linear")))
    assert relu.test_scores()["accuracy"] > 0.85 and linear.test_scores()["accuracy"] < 0.7
    epoch, probes = relu.latest_probes()
    assert probes["grid"].shape == (activations.GRID_SIDE ** 2, 1)


def test_a_maxout_unit_learns_abs_as_two_pieces(runner):
    run = finish(runner.submit(activations.maxout_job(target="abs", pieces=2)))
    kernel, bias = run.result.weights[0]
    assert sorted(np.round(kernel[0], 1).tolist()) == [-1.0, 1.0] and np.allclose(bias, 0, atol=0.05)


# --- The page ---------------------------------------------------------------------------------

def test_the_page_reads_out_the_numbers_its_code_prints(tmp_path):
    at = open_page("lessons/activations.py", query={"activations.show": ["relu", "sigmoid", "maxout"], "activations.x": "1.5"})
    assert not at.exception and len(at.get("plotly_chart")) >= 6
    table = at.table[0].value
    out = run_snippet(shown_code(at), tmp_path)
    for _, row in table.iterrows():
        printed = re.search(rf"{row.iloc[0]}: f\(1.5\) = (-?[0-9.]+), f'\(1.5\) = (-?[0-9.]+)", out).groups()
        assert [float(v) for v in printed] == pytest.approx([row.iloc[1], row.iloc[2]], abs=1e-4)
    loss = re.search(r"−log p = \*\*([0-9.]+)\*\*", " ".join(m.value for m in at.markdown)).group(1)
    assert f"cross-entropy for true class 0: {float(loss)}" in out or f"{float(loss):.4f}" in out


def test_every_control_of_the_page_works_in_korean():
    at = open_page("lessons/activations.py", "ko", query={"activations.toy_epochs": "10"})
    assert exercise_widgets(at, skip=("activations.toy_run.start", "activations.maxout_run.start")) >= 12


def test_temperature_zero_and_an_empty_range_are_explained_and_the_page_works():
    at = open_page("lessons/activations.py", "ko", query={"activations.temperature": "0.0", "activations.range": ["1.0", "1.0"]})
    assert not at.exception
    assert any("0" in w.value and "원-핫" in w.value for w in at.warning)
    assert any("1.0 … 1.0" in e.value for e in at.error)
    assert len(at.get("plotly_chart")) >= 4  # the other sections still draw


def test_a_depth_beyond_the_cap_in_a_link_is_ignored():
    at = open_page("lessons/activations.py", query={"activations.depth": "50"})
    assert at.slider(key="activations.depth").value == 10 and not at.exception


def boundary_maps(at):
    """The decision-boundary heatmaps on the page: (z values, axis) of each."""
    return [(plotly_array(t["z"]), t["x"]) for f in figures(at) for t in f["data"]
            if t.get("type") == "heatmap" and len(t.get("x") or []) == activations.GRID_SIDE]


def test_training_on_the_page_draws_the_boundary(tmp_path):
    at = open_page("lessons/activations.py", "en", query={"activations.toy_epochs": "30"})
    assert all(np.isnan(z).all() or z.size == 0 for z, _ in boundary_maps(at))  # nothing learned to draw yet
    at.button(key="activations.toy_run.start").click().run()
    settle(at)
    assert any("on the 100 test points" in c.value for c in at.caption)
    (z, axis), = boundary_maps(at)
    run = at.session_state["activations.toy_run.runs"][-1].run
    assert z.shape == (activations.GRID_SIDE, activations.GRID_SIDE) and axis[0] == pytest.approx(activations.BOUNDS[0])
    np.testing.assert_allclose(z.ravel(), run.latest_probes()[1]["grid"].ravel(), atol=1e-3)  # the model's answers
    assert 0.05 < (z > 0.5).mean() < 0.95  # a circle inside a ring: both classes drawn
    at.button(key="activations.maxout_run.start").click().run()
    settle(at)
    assert any("mean squared error" in c.value for c in at.caption)


def test_every_message_exists_in_both_languages():
    for lang in i18n.LANGUAGES:
        for code, details in (("empty_range", {"low": 1, "high": 1}), ("temperature", {"value": 0}),
                              ("depth", {"value": 50, "limit": 20}), ("unknown", {"name": "x"})):
            assert "{" not in i18n.translate(f"activations.error.{code}", lang, **details)
    assert snippets.activations_snippet(["relu"], 1.0, [1.0, 2.0, 3.0], 1.0, 0, "ko").count("keras.activations") >= 2


def test_without_activations_a_stack_of_dense_layers_is_one_dense_layer():
    """The stack's outputs against x·(W1·W2·W3) + (b1·W2·W3 + b2·W3 + b3), written out in numpy here."""
    gap, stack_params, one_params = activations.collapse_gap("linear")
    assert gap < 1e-5 and stack_params == (2 * 8 + 8) + (8 * 8 + 8) + (8 + 1) and one_params == 3
    assert activations.collapse_gap("relu")[0] > 0.1 and activations.collapse_gap("tanh")[0] > 0.1
    from lib import models

    stack = models.build_sequential([{"type": "Dense", "units": 3}, {"type": "Dense", "units": 1}], (2,), seed=4)
    (w1, b1), (w2, b2) = (layer.get_weights() for layer in stack.layers)
    x = np.array([[0.5, -1.0], [2.0, 0.25]], "float32")
    np.testing.assert_allclose(np.asarray(stack(x)), x @ (w1 @ w2) + (b1 @ w2 + b2), atol=1e-6)


@pytest.mark.parametrize("lang", list(i18n.LANGUAGES))
def test_the_softmax_sentence_says_right_or_wrong_as_the_case_is(lang):
    def sentence(verdict, true):
        p = activations.softmax([2.0, 1.0, 0.1, -0.5, 0.5], 1.0)  # the page's first five scores
        return i18n.translate(f"activations.softmax_numbers.{verdict}", lang, total=f"{p.sum():.3f}", best=0,
                              true=true, p=f"{p[true]:.4f}", loss=f"{activations.cross_entropy(p, true):.4f}")

    at = open_page("lessons/activations.py", lang)  # class 0 has the highest score, and is the true class
    assert sentence("right", 0) in [m.value for m in at.markdown]
    at.selectbox(key="activations.truth").set_value(3).run()
    assert sentence("wrong", 3) in [m.value for m in at.markdown]
    assert activations.verdict([0.7, 0.1, 0.2], 0) == "right" and activations.verdict([0.7, 0.1, 0.2], 2) == "wrong"
