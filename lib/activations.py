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

ACTIVATIONS = ("relu", "sigmoid", "tanh", "leaky_relu", "elu", "gelu", "swish", "softplus", "linear", "maxout")
MAX_DEPTH = 19  # hidden layers; with the output layer, the builder's cap of 20
# The Maxout the explorer draws: three pieces, one unit, on one input. Its max is convex.
MAXOUT_PIECES = ((-1.0, -0.5), (0.4, 0.0), (1.5, -1.0))  # (weight, bias) of each piece


class ActivationError(ValueError):
    """A request the page cannot draw; `code` says why, `details` the numbers (pages translate)."""

    def __init__(self, code, message, **details):
        super().__init__(message)
        self.code, self.details = code, details


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
    return np.array([float(tf.norm(g)) for g in tape.gradient(loss, kernels)])


# --- Effect on learning: a toy 2-D set, a small network, a decision boundary --------------------

GRID_SIDE = 41
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
    """Train the small network on a toy set (200 train / 200 test points), Adam, batches of 20,
    drawing the decision boundary every few epochs."""
    from lib import data
    from lib.training import Job

    if activation not in ACTIVATIONS:
        raise ActivationError("unknown", f"unknown activation {activation!r}", name=str(activation))
    x, y = data.toy_2d(dataset, n=400, noise=noise, seed=seed)
    every = max(1, epochs // 25)  # redraw (and check the held-out points) 25 times per run
    return Job(model={"builder": "lib.activations:toy_model",
                      "kwargs": {"activation": activation, "width": width, "depth": depth}},
               data={"x_train": x[:200], "y_train": y[:200], "x_test": x[200:], "y_test": y[200:]},
               compile={"optimizer": "Adam", "learning_rate": learning_rate, "loss": "binary_crossentropy",
                        "metrics": ["accuracy"]},
               fit={"epochs": epochs, "batch_size": 20, "validation": "test", "validation_freq": every},
               probes={"grid": grid()[1]}, probe_every=every, seed=seed, budget_s=budget_s,
               batch_losses=False).checked()


# --- Maxout imitating ReLU or |x| -----------------------------------------------------------------

TARGETS = {"relu": lambda x: np.maximum(x, 0.0), "abs": np.abs, "square": np.square}
MAXOUT_GRID = np.linspace(-2, 2, 161, dtype="float32")[:, None]


def maxout_regressor(pieces=2):
    """One Maxout unit with `pieces` pieces on one input: a convex piecewise-linear function."""
    return keras.Sequential([keras.Input((1,), name="input"), Maxout(1, pieces, name="maxout")],
                            name="maxout_fit")


def maxout_job(*, target="abs", pieces=2, epochs=120, seed=0, budget_s=15.0):
    """Teach one Maxout unit to imitate `target` on [-2, 2]: MSE, Adam, full batch."""
    from lib.training import Job

    if target not in TARGETS:
        raise ActivationError("unknown", f"unknown target {target!r}", name=str(target))
    x = np.linspace(-2, 2, 41, dtype="float32")[:, None]
    y = TARGETS[target](x).astype("float32")
    return Job(model={"builder": "lib.activations:maxout_regressor", "kwargs": {"pieces": pieces}},
               data={"x_train": x, "y_train": y, "x_test": x, "y_test": y},
               compile={"optimizer": "Adam", "learning_rate": 0.05, "loss": "mse", "metrics": []},
               fit={"epochs": epochs, "batch_size": len(x)}, probes={"fit": MAXOUT_GRID},
               probe_every=max(1, epochs // 30), seed=seed, budget_s=budget_s, batch_losses=False).checked()
