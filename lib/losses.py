"""Losses and metrics: how a model's mistakes are measured.

A loss (cost) function measures the gap between the true values and the predictions, and it is
what training makes smaller. A metric judges the model the same way but only reports: it does
not steer. Every number here comes from `keras.losses` / `keras.metrics`.
"""
import dataclasses
import functools

import numpy as np

from lib.errors import Refusal

REGRESSION_LOSSES = ("mse", "mae", "huber")
LINE_GRID = np.linspace(-1.2, 1.2, 50, dtype="float32")[:, None]
OUTLIER = (0.8, -2.5)
MOONS_POINTS = 400  # 200 to train on, 100 to validate, 100 to test


class LossError(Refusal):
    """A request the page cannot draw; `code` says why (pages translate)."""

    catalog = "losses.error"


def points(outlier=False, seed=0):
    """Ten points near the line y = 2x + 1 (x in [-1, 1]), and with `outlier` one far below it."""
    rng = np.random.default_rng(seed)
    x = np.linspace(-1, 1, 10, dtype="float32")
    y = (2 * x + 1 + rng.normal(0, 0.25, 10)).astype("float32")
    if outlier:
        x, y = np.append(x, np.float32(OUTLIER[0])), np.append(y, np.float32(OUTLIER[1]))
    return x[:, None], y[:, None]


def per_point(y_true, y_pred, huber_delta=1.0):
    """Each point's share of each loss: squared error, absolute error, Huber — by keras.losses,
    one value per point (the loss of the whole set is their mean)."""
    import keras

    y_true, y_pred = np.asarray(y_true, "float32").reshape(-1, 1), np.asarray(y_pred, "float32").reshape(-1, 1)
    return {"mse": np.asarray(keras.losses.mean_squared_error(y_true, y_pred)),
            "mae": np.asarray(keras.losses.mean_absolute_error(y_true, y_pred)),
            "huber": np.asarray(keras.losses.huber(y_true, y_pred, delta=huber_delta))}


def line_losses(slope, intercept, x, y, huber_delta=1.0):
    """MSE, MAE and Huber of the line y = slope·x + intercept on the points (keras.losses objects)."""
    import keras

    prediction = (np.float32(slope) * np.asarray(x, "float32") + np.float32(intercept)).astype("float32")
    return {"mse": float(keras.losses.MeanSquaredError()(y, prediction)),
            "mae": float(keras.losses.MeanAbsoluteError()(y, prediction)),
            "huber": float(keras.losses.Huber(delta=huber_delta)(y, prediction))}


def confidence_curves(p):
    """The loss of one example as a function of the probability p the model gave its true class:
    cross-entropy (binary: label 1; categorical: one-hot over 3 classes, the rest shared) explodes
    as p -> 0; the squared and absolute errors of the probability stay small."""
    import keras

    p = np.clip(np.asarray(p, "float32"), 1e-6, 1 - 1e-6)
    rest = (1 - p) / 2
    categorical = np.stack([p, rest, rest], axis=1)
    one_hot = np.tile(np.array([[1.0, 0.0, 0.0]], "float32"), (len(p), 1))
    ones = np.ones((len(p), 1), "float32")
    return {"binary_crossentropy": np.asarray(keras.losses.binary_crossentropy(ones, p[:, None])),
            "categorical_crossentropy": np.asarray(keras.losses.categorical_crossentropy(one_hot, categorical)),
            "mse": np.asarray(keras.losses.mean_squared_error(ones, p[:, None])),
            "mae": np.asarray(keras.losses.mean_absolute_error(ones, p[:, None]))}


# --- Loss vs metric: the same model, two losses, the same metrics ---------------------------------

LINE_LAYERS = [{"type": "Dense", "units": 1}]  # y = w·x + b
MOONS_LAYERS = [{"type": "Dense", "units": 8, "activation": "relu"}, {"type": "Dense", "units": 1, "activation": "sigmoid"}]


def line_model():
    """y = w·x + b: one Dense unit (uncompiled), named explicitly."""
    from lib import models

    return models.build_sequential(LINE_LAYERS, (1,), name="line")


def moons_model():
    """A small classifier for the moons: Dense(8, relu) -> Dense(1, sigmoid)."""
    from lib import models

    return models.build_sequential(MOONS_LAYERS, (2,), name="moons")


EXPERIMENTS = {
    # name: (losses raced, metrics reported by both, epochs)
    "line": (("mse", "mae"), ("mae", "mse"), 60),
    "moons": (("binary_crossentropy", "mse"), ("mae", "mse", "accuracy"), 40),
    "seed": (("binary_crossentropy", "categorical_crossentropy"), ("accuracy",), 5),
}
SEED_VALIDATION = 287  # the seed race validates on the last fifth of the workbook, as the Overfitting page does


def race_job(experiment, *, outlier=True, epochs=None, seed=0):
    """Train the same model twice from the same start, once per loss, with the same metrics:
    the metrics are reported for both, but only the loss decides what the weights become."""
    from lib import data
    from lib.training import Arrays, Builder, Compile, Fit, Job

    if experiment not in EXPERIMENTS:
        raise LossError("unknown", f"unknown experiment {experiment!r}", name=str(experiment))
    losses, metrics, default_epochs = EXPERIMENTS[experiment]
    epochs = epochs or default_epochs
    if experiment == "line":  # a fit of these points: the model is scored on the points themselves
        x, y = points(outlier)
        spec = dict(model=Builder("lib.losses:line_model"), data=Arrays(x, y, x_test=x, y_test=y),
                    compile=Compile("Adam", 0.1, metrics=metrics), fit=Fit(epochs=epochs, batch_size=len(x)),
                    probes={"line": LINE_GRID})
    elif experiment == "seed":  # the study note's compile line: its model, RMSprop, one-hot answers
        x_train, y_train, x_test, y_test = one_hot_digits()
        v = len(x_train) - SEED_VALIDATION
        spec = dict(model=Builder("lib.losses:seed_model"),
                    data=Arrays(x_train[:v], y_train[:v], x_train[v:], y_train[v:], x_test, y_test),
                    compile=Compile("RMSprop", 0.001, metrics=metrics), fit=Fit(epochs=epochs, batch_size=32))
    else:  # 200 points to train on, 100 to validate every epoch, 100 to test once
        x, y = data.toy_2d("moons", n=MOONS_POINTS, noise=0.15, seed=seed)
        y = y[:, None].astype("float32")
        spec = dict(model=Builder("lib.losses:moons_model"),
                    data=Arrays(x[:200], y[:200], x[200:300], y[200:300], x[300:], y[300:]),
                    compile=Compile("Adam", 0.05, metrics=metrics), fit=Fit(epochs=epochs, batch_size=50))
    base = spec["compile"]
    return Job(**spec, racers=tuple(dataclasses.replace(base, loss=loss) for loss in losses), lockstep=False,
               seed=seed, budget_s=30.0, probe_every=max(1, epochs // 30)).checked()


# --- The study note's compile line on its own 10-class model ---------------------------------------

SEED_COMPILE = dict(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])  # the note's row 10
CROSS_ENTROPIES = ("sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy")


def seed_model():
    """The study note's model (Dense 32 -> relu -> Dense 10 -> softmax) on the 64 pixels of the digits."""
    from lib import models

    return models.build_sequential(models.PRESETS["seed"][1], (64,), name="seed_model")


def one_hot_digits():
    """The digits flattened to 64 numbers, with one-hot answers: (x_train, y_train, x_test, y_test)."""
    from lib import data

    d = data.load_dataset("digits")
    eye = np.eye(10, dtype="float32")
    return d.x_train.reshape(-1, 64), eye[d.y_train], d.x_test.reshape(-1, 64), eye[d.y_test]


@dataclasses.dataclass(frozen=True)
class SeedCheck:
    losses: dict  # cross-entropy name -> its value on the same predictions, with the labels it expects
    refusal: str  # what Keras says to binary_crossentropy with integer labels


@functools.lru_cache(maxsize=1)
def seed_compile_check(seed=0):
    """The note's model, untrained, on the 360 test digits: the three cross-entropies of Keras on
    the SAME predictions — sparse (integer labels), categorical (one-hot), binary (one-hot, as 10
    separate yes/no questions) — and Keras's refusal of the note's 'binary_crossentropy' with the
    integer labels `model.fit(data, labels)` would get from these digits."""
    import keras

    from lib import data, models

    model = models.build_sequential(models.PRESETS["seed"][1], (64,), seed=seed, name="seed_model")
    digits = data.load_dataset("digits")
    x, labels = digits.x_test.reshape(-1, 64), digits.y_test
    one_hot = np.eye(10, dtype="float32")[labels]
    p = np.asarray(model(x, training=False))
    losses = {"sparse_categorical_crossentropy": keras.losses.SparseCategoricalCrossentropy()(labels, p),
              "categorical_crossentropy": keras.losses.CategoricalCrossentropy()(one_hot, p),
              "binary_crossentropy": keras.losses.BinaryCrossentropy()(one_hot, p)}
    try:
        keras.losses.BinaryCrossentropy()(labels.astype("float32"), p)
        refusal = ""
    except ValueError as e:
        refusal = str(e).split(". Received")[0]
    return SeedCheck({k: float(v) for k, v in losses.items()}, refusal)
