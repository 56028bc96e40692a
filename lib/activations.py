"""Activation functions: what each does to a number, its slope, and its effect on learning.

`evaluate` applies a Keras activation and takes its derivative by automatic differentiation
(`tf.GradientTape`), never by a hand-written formula. `softmax` turns scores into probabilities
(with a temperature). `Maxout` is a real, registered Keras layer: the largest of k linear pieces.
`gradient_norms` measures, at initialisation, how much gradient reaches each layer of a deep
stack — the vanishing gradient of sigmoids, made visible.
"""
import functools

import keras
import numpy as np

from lib.errors import Refusal

ACTIVATIONS = ("relu", "sigmoid", "tanh", "leaky_relu", "elu", "gelu", "swish", "softplus", "linear", "maxout")
MAX_DEPTH = 19  # hidden layers; with the output layer, the builder's cap of 20
# The Maxout the explorer draws: three pieces, one unit, on one input. Its max is convex.
MAXOUT_PIECES = ((-1.0, -0.5), (0.4, 0.0), (1.5, -1.0))  # (weight, bias) of each piece


class ActivationError(Refusal):
    """A request the page cannot draw; `code` says why, `details` the numbers (pages translate)."""

    catalog = "activations.error"


@keras.saving.register_keras_serializable(package="keras_classroom")
class Maxout(keras.layers.Layer):
    """`units` outputs, each the largest of `pieces` linear functions of the inputs:
    y_j = max_k (x · W[:, j, k] + b[j, k]). With enough pieces it takes any convex shape —
    ReLU is max(0, x), |x| is max(-x, x). Registered, so a model using it saves and loads."""

    def __init__(self, units, pieces, **kwargs):
        super().__init__(**kwargs)
        if int(units) < 1 or int(pieces) < 1:
            raise ValueError(f"units and pieces must be at least 1, got {units}, {pieces}")
        self.units, self.pieces = int(units), int(pieces)

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units * self.pieces),
                                      initializer="glorot_uniform", name="kernel")
        self.bias = self.add_weight(shape=(self.units * self.pieces,), initializer="zeros", name="bias")

    def call(self, inputs):
        ops = keras.ops
        z = ops.add(ops.matmul(inputs, self.kernel), self.bias)
        return ops.max(ops.reshape(z, (-1, self.units, self.pieces)), axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "pieces": self.pieces}


def maxout_example():
    """The explorer's Maxout: one unit, the pieces of MAXOUT_PIECES, on a one-number input."""
    layer = Maxout(units=1, pieces=len(MAXOUT_PIECES), name="maxout_example")
    layer.build((None, 1))
    layer.set_weights([np.array([[w for w, _ in MAXOUT_PIECES]], dtype="float32"),
                       np.array([b for _, b in MAXOUT_PIECES], dtype="float32")])
    return layer


def evaluate(name, x):
    """(f(x), f'(x)) for activation `name` on the numbers x; the derivative by GradientTape."""
    import tensorflow as tf

    if name not in ACTIVATIONS:
        raise ActivationError("unknown", f"unknown activation {name!r}", name=str(name))
    x = tf.constant(np.asarray(x, dtype="float32"))
    function = (lambda v: maxout_example()(tf.reshape(v, (-1, 1)))[:, 0]) if name == "maxout" \
        else keras.activations.get(name)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = function(x)
        total = tf.reduce_sum(y)  # each y_i depends on x_i alone: d(sum)/dx_i is the derivative at x_i
    return np.asarray(y), np.asarray(tape.gradient(total, x))


@functools.lru_cache(maxsize=256)
def curve(name, low, high, n=401):
    """(x, f(x), f'(x)) on n points of [low, high] (cached: the explorer redraws these often)."""
    if not low < high:
        raise ActivationError("empty_range", f"the range needs min < max, got {low} .. {high}", low=low, high=high)
    x = np.linspace(low, high, n, dtype="float32")
    y, dy = evaluate(name, x)
    for array in (x, y, dy):
        array.flags.writeable = False
    return x, y, dy


@functools.lru_cache(maxsize=2)
def relu_on_photo(name="china", max_side=128):
    """`relu_on_edges` of a bundled photo (cached: the page shows it to everyone)."""
    from lib import data

    edges, after = relu_on_edges(data.sample_image(name, max_side=max_side))
    edges.flags.writeable = after.flags.writeable = False
    return edges, after


def relu_on_edges(image):
    """An edge map of `image` (the Laplacian, signed) and the same map after keras.activations.relu:
    the study note's "negative values become 0", on a real feature map."""
    from lib import filters

    edges = filters.convolve(image, filters.KERNELS["laplacian"])
    return edges, np.asarray(keras.activations.relu(edges))


def softmax(logits, temperature=1.0):
    """Probabilities from scores: keras.activations.softmax(logits / temperature). They sum to 1,
    the largest score keeps the largest probability, and the temperature only sharpens (below 1)
    or flattens (above 1) them."""
    if not temperature > 0:
        raise ActivationError("temperature", f"temperature must be above 0, got {temperature}", value=temperature)
    logits = np.asarray(logits, dtype="float32")
    return np.asarray(keras.activations.softmax(logits[None] / np.float32(temperature)))[0]


EPSILON = keras.config.epsilon()  # Keras clips probabilities at this before taking the log


def cross_entropy(probabilities, true_class):
    """The loss of this prediction: -log p(true class), as sparse_categorical_crossentropy computes
    it — with p clipped at EPSILON (1e-7), so the loss never exceeds about 16.1."""
    loss = keras.losses.sparse_categorical_crossentropy(np.array([true_class]), np.asarray(probabilities)[None])
    return float(np.asarray(loss)[0])


def verdict(probabilities, true_class):
    """"right" when the true class has the highest probability, else "wrong": what the
    cross-entropy of this prediction is telling (small for a confident right answer, large for a
    confident wrong one)."""
    return "right" if int(np.argmax(probabilities)) == int(true_class) else "wrong"


# --- Why activations: without one, a stack of Dense layers is one Dense layer -------------------

COLLAPSE_LAYERS = (8, 8, 1)  # a small stack on 2 inputs


@functools.lru_cache(maxsize=16)
def collapse_gap(activation, *, seed=0, points=200):
    """How far a stack of Dense layers (COLLAPSE_LAYERS, with `activation` between them) is from
    the single Dense layer its weights multiply out to: y = x·(W1·W2·W3) + (b1·W2·W3 + b2·W3 + b3).
    ("linear": ~1e-7, the stack *is* that one layer; "relu": far from it.) Returns (largest
    difference on `points` random inputs, the stack's parameter count, the one layer's)."""
    from lib import models

    layers = [{"type": "Dense", "units": n, "activation": activation} for n in COLLAPSE_LAYERS[:-1]]
    stack = models.build_sequential(layers + [{"type": "Dense", "units": COLLAPSE_LAYERS[-1]}], (2,), seed=seed,
                                    name="collapse")
    for layer in stack.layers:  # random biases too, so the sum of shifted biases is part of the test
        kernel, bias = layer.get_weights()
        layer.set_weights([kernel, np.random.default_rng(seed).normal(0, 0.5, bias.shape).astype("float32")])
    kernel, bias = np.eye(2, dtype="float64"), np.zeros(2)
    for layer in stack.layers:
        w, b = (v.astype("float64") for v in layer.get_weights())
        kernel, bias = kernel @ w, bias @ w + b
    x = np.random.default_rng(seed + 1).uniform(-2, 2, (points, 2)).astype("float32")
    gap = np.abs(np.asarray(stack(x, training=False), dtype="float64") - (x @ kernel + bias)).max()
    return float(gap), stack.count_params(), kernel.size + bias.size


# --- Vanishing gradients ------------------------------------------------------------------------

def deep_stack(activation, depth, *, width=32, seed=0):
    """depth hidden layers of `width` with one activation (Maxout: Maxout layers of 2 pieces), then
    a softmax over the 10 digits; weights seeded per layer."""
    from lib import models

    if not 1 <= depth <= MAX_DEPTH:
        raise ActivationError("depth", f"depth must be 1..{MAX_DEPTH}, got {depth}", value=depth, limit=MAX_DEPTH)
    if activation != "maxout":
        hidden = [{"type": "Dense", "units": width, "activation": activation} for _ in range(depth)]
        return models.build_sequential(hidden + [{"type": "Dense", "units": 10, "activation": "softmax"}], (64,),
                                       seed=seed, name="deep_stack")
    stack = keras.Sequential([keras.Input((64,), name="input")], name="deep_stack")
    for k in range(depth):
        stack.add(Maxout(width, 2, name=f"maxout_{k + 1}"))
    stack.add(keras.layers.Dense(10, activation="softmax", name="output",
                                 kernel_initializer=keras.initializers.GlorotUniform(seed=seed + depth + 1)))
    for k, layer in enumerate(stack.layers[:-1]):
        fan_in = layer.kernel.shape[0]
        limit = np.sqrt(6 / (fan_in + layer.kernel.shape[1]))
        layer.kernel.assign(np.random.default_rng(seed + k + 1).uniform(-limit, limit, layer.kernel.shape))
    return stack


@functools.lru_cache(maxsize=128)
def gradient_norms(activation, depth, *, width=32, batch=256, seed=0):
    """The size (L2 norm) of the loss gradient for each hidden layer's kernel, first to last, at
    initialisation, on a batch of digits — by real autodiff through the real stack."""
    import tensorflow as tf

    from lib import data

    model = deep_stack(activation, depth, width=width, seed=seed)
    digits = data.load_dataset("digits")
    x, y = digits.x_train[:batch].reshape(-1, 64), digits.y_train[:batch]
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, model(x, training=False)))
    kernels = [layer.kernel for layer in model.layers[:-1]]
    norms = np.array([float(tf.norm(g)) for g in tape.gradient(loss, kernels)])
    norms.flags.writeable = False  # cached and shared: nobody edits it
    return norms


# --- Effect on learning: a toy 2-D set, a small network, a decision boundary --------------------

GRID_SIDE = 41
TOY_POINTS = 400  # 200 to train on, 100 to validate, 100 to test
BOUNDS = (-1.6, 1.6)


def grid():
    """The points where the decision boundary is drawn: GRID_SIDE x GRID_SIDE over BOUNDS^2."""
    axis = np.linspace(*BOUNDS, GRID_SIDE, dtype="float32")
    xx, yy = np.meshgrid(axis, axis)
    return axis, np.column_stack([xx.ravel(), yy.ravel()])


def toy_layers(activation, width=8, depth=2):
    """Hidden layers with the chosen activation (Maxout: Dense pieces then a max), sigmoid output."""
    return ([{"type": "Dense", "units": width, "activation": activation} for _ in range(depth)]
            + [{"type": "Dense", "units": 1, "activation": "sigmoid"}])


def toy_model(activation, width=8, depth=2, pieces=3):
    """The small network as a Keras model; with Maxout, each hidden layer is a Maxout layer."""
    from lib import models

    if activation != "maxout":
        return models.build_sequential(toy_layers(activation, width, depth), (2,), name="toy")
    return keras.Sequential([keras.Input((2,), name="input"),
                             *[Maxout(width, pieces, name=f"maxout_{k + 1}") for k in range(depth)],
                             keras.layers.Dense(1, activation="sigmoid", name="output")], name="toy")


def toy_job(*, dataset, activation, width=8, depth=2, epochs=100, learning_rate=0.03, noise=0.1, seed=0,
            budget_s=15.0):
    """Train the small network on a toy set — 200 training points, 100 validation points watched
    every few epochs, 100 test points scored once at the end — with Adam, in batches of 20,
    drawing the decision boundary as it goes."""
    from lib import data
    from lib.training import Arrays, Builder, Compile, Fit, Job

    if activation not in ACTIVATIONS:
        raise ActivationError("unknown", f"unknown activation {activation!r}", name=str(activation))
    x, y = data.toy_2d(dataset, n=TOY_POINTS, noise=noise, seed=seed)
    every = max(1, epochs // 25)  # redraw (and check the validation points) 25 times per run
    return Job(model=Builder("lib.activations:toy_model", {"activation": activation, "width": width, "depth": depth}),
               data=Arrays(x[:200], y[:200], x[200:300], y[200:300], x[300:], y[300:]),
               compile=Compile("Adam", learning_rate, loss="binary_crossentropy"),
               fit=Fit(epochs=epochs, batch_size=20, validation_freq=every),
               probes={"grid": grid()[1]}, probe_every=every, seed=seed, budget_s=budget_s).checked()


# --- Maxout imitating ReLU or |x| -----------------------------------------------------------------

TARGETS = {"relu": lambda x: np.maximum(x, 0.0), "abs": np.abs, "square": np.square}
MAXOUT_GRID = np.linspace(-2, 2, 161, dtype="float32")[:, None]


def maxout_regressor(pieces=2):
    """One Maxout unit with `pieces` pieces on one input: a convex piecewise-linear function."""
    return keras.Sequential([keras.Input((1,), name="input"), Maxout(1, pieces, name="maxout")],
                            name="maxout_fit")


def maxout_job(*, target="abs", pieces=2, epochs=120, seed=0, budget_s=15.0):
    """Teach one Maxout unit to imitate `target` on [-2, 2]: MSE, Adam, full batch."""
    from lib.training import Arrays, Builder, Compile, Fit, Job

    if target not in TARGETS:
        raise ActivationError("unknown", f"unknown target {target!r}", name=str(target))
    x = np.linspace(-2, 2, 41, dtype="float32")[:, None]
    y = TARGETS[target](x).astype("float32")
    return Job(model=Builder("lib.activations:maxout_regressor", {"pieces": pieces}),
               data=Arrays(x, y, x_test=x, y_test=y),
               compile=Compile("Adam", 0.05, loss="mse", metrics=()),
               fit=Fit(epochs=epochs, batch_size=len(x)), probes={"fit": MAXOUT_GRID},
               probe_every=max(1, epochs // 30), seed=seed, budget_s=budget_s).checked()
