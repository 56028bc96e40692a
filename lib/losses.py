"""Losses and metrics: how a model's mistakes are measured.

A loss (cost) function measures the gap between the true values and the predictions, and it is
what training makes smaller. A metric judges the model the same way but only reports: it does
not steer. Every number here comes from `keras.losses` / `keras.metrics`.
"""
import numpy as np

REGRESSION_LOSSES = ("mse", "mae", "huber")
LINE_GRID = np.linspace(-1.2, 1.2, 50, dtype="float32")[:, None]
OUTLIER = (0.8, -2.5)


class LossError(ValueError):
    """A request the page cannot draw; `code` says why (pages translate)."""

    def __init__(self, code, summary, **details):
        super().__init__(summary)
        self.code, self.details = code, details


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

def line_model():
    """y = w·x + b: one Dense unit (uncompiled), named explicitly."""
    from lib import models

    return models.build_sequential([{"type": "Dense", "units": 1}], (1,), name="line")


def moons_model():
    """A small classifier for the moons: Dense(8, relu) -> Dense(1, sigmoid)."""
    from lib import models

    return models.build_sequential([{"type": "Dense", "units": 8, "activation": "relu"},
                                    {"type": "Dense", "units": 1, "activation": "sigmoid"}], (2,), name="moons")


EXPERIMENTS = {
    # name: (losses raced, metrics reported by both, epochs)
    "line": (("mse", "mae"), ("mae", "mse"), 60),
    "moons": (("binary_crossentropy", "mse"), ("mae", "mse", "accuracy"), 40),
}


def race_job(experiment, *, outlier=True, epochs=None, seed=0):
    """Train the same model twice from the same start, once per loss, with the same metrics:
    the metrics are reported for both, but only the loss decides what the weights become."""
    from lib import data
    from lib.training import Job

    if experiment not in EXPERIMENTS:
        raise LossError("unknown", f"unknown experiment {experiment!r}", name=str(experiment))
    losses, metrics, default_epochs = EXPERIMENTS[experiment]
    epochs = epochs or default_epochs
    if experiment == "line":
        x, y = points(outlier)
        spec = dict(model={"builder": "lib.losses:line_model"},
                    data={"x_train": x, "y_train": y, "x_test": x, "y_test": y},
                    compile={"optimizer": "Adam", "learning_rate": 0.1, "metrics": list(metrics)},
                    fit={"epochs": epochs, "batch_size": len(x)}, probes={"line": LINE_GRID})
    else:
        x, y = data.toy_2d("moons", n=300, noise=0.15, seed=seed)
        spec = dict(model={"builder": "lib.losses:moons_model"},
                    data={"x_train": x[:200], "y_train": y[:200, None].astype("float32"), "x_test": x[200:],
                          "y_test": y[200:, None].astype("float32")},
                    compile={"optimizer": "Adam", "learning_rate": 0.05, "metrics": list(metrics)},
                    fit={"epochs": epochs, "batch_size": 50, "validation": "test"})
    return Job(**spec, variants=tuple({"loss": loss} for loss in losses), lockstep=False, seed=seed, budget_s=30.0,
               probe_every=max(1, epochs // 30), batch_losses=False).checked()
