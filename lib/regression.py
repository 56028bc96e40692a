"""Regression: the study note's evaluate line on the problem it was written for.

    loss, mae, mse = model.evaluate(normed_test_data, test_labels)

is the Auto MPG regression: miles per gallon from seven facts about a car (392 cars, shipped
with mlxtend, so nothing is downloaded). The cars are split three ways with a fixed seed — a
test part (the mock exam, scored once at the end), a validation slice (where runs are compared)
and the training part — and a `keras.layers.Normalization` adapted on the training part only
scales all three (the note's `normed_…`; computed as Keras computes it, in NumPy: `normalize`).
A small Dense network learns MPG with loss MSE and metrics MAE and MSE, as the note compiles it.
"""
import dataclasses
import functools

import numpy as np
import pandas as pd

from lib.errors import Refusal
from lib.training import Arrays, Compile, Fit, Job, Stack, best_on_validation

COLUMNS = ("cylinders", "displacement", "horsepower", "weight", "acceleration", "model_year", "origin")
ORIGINS = {1: "USA", 2: "Europe", 3: "Japan"}
LABEL = "MPG"
SPLIT_SEED = 0  # pandas' random_state for both draws: every student gets the same three parts

# The note's model and compile (TensorFlow's "Basic regression" tutorial, where its line comes from).
HIDDEN = (64, 64)
WIDTHS = (8, 16, 32, 64, 128)
MAX_HIDDEN = 4
OPTIMIZER, LEARNING_RATE = "RMSprop", 0.001
LOSS, METRICS = "mse", ("mae", "mse")  # evaluate returns [loss, *metrics] in this order
BATCH_SIZE = 32
EPOCHS = 100
BUDGET_S = 45.0  # 300 epochs take ~20 s on an idle core; a busy server stops sooner, and says so


class RegressionError(Refusal):
    """A choice the regression cannot train on; the page says it in its language."""

    catalog = "regression.error"


def car_table(inputs):
    """The cars as a table: the chosen inputs (origin as three 0/1 columns, one per region: a
    region is a name, not an amount) and MPG, the answer to learn."""
    from mlxtend.data import autompg_data

    x, mpg = autompg_data()  # 392 cars, shipped with mlxtend: no download
    table = pd.DataFrame(x[:, :len(COLUMNS)], columns=COLUMNS)[list(inputs)]  # column 8 (names) is empty
    if "origin" in table:
        origin = table.pop("origin").map(ORIGINS)
        table = table.join(pd.get_dummies(origin, dtype="float64"))
    table["MPG"] = mpg
    return table


def split_cars(table, seed=0):
    """(training, validation, test): the test part is a fifth of the cars, drawn with `seed`;
    the validation slice a fifth of the rest; the training part what is left."""
    train = table.sample(frac=0.8, random_state=seed)
    test = table.drop(train.index)
    validation = train.sample(frac=0.2, random_state=seed)
    return train.drop(validation.index), validation, test


@functools.lru_cache(maxsize=1)
def split_sizes(seed=SPLIT_SEED):
    """(training, validation, test) car counts, with pandas alone: a page can say them before
    Keras has loaded (on a fresh server its import holds the interpreter for seconds)."""
    return tuple(len(part) for part in split_cars(car_table(COLUMNS), seed))


def checked_inputs(inputs):
    """The chosen inputs in the data's own column order (the same choice, the same model), or
    RegressionError: none chosen, or a name that is not a column."""
    inputs = tuple(inputs or ())
    unknown = [name for name in inputs if name not in COLUMNS]
    if unknown:
        raise RegressionError("unknown_input", f"not an input: {unknown[0]!r}", name=str(unknown[0])[:40],
                              inputs=", ".join(COLUMNS))
    if not inputs:
        raise RegressionError("no_inputs", "choose at least one input")
    return tuple(name for name in COLUMNS if name in inputs)


@dataclasses.dataclass(frozen=True, eq=False)
class Cars:
    """The cars of one choice of inputs, split and normalised: what a run trains on. `columns`
    are the model's inputs in order; `mean` and `variance` what the Normalization layer learned
    from the training part (and applies to all three parts)."""
    inputs: tuple
    columns: tuple
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    mean: np.ndarray
    variance: np.ndarray

    @property
    def sizes(self):
        """(training, validation, test) car counts."""
        return len(self.x_train), len(self.x_val), len(self.x_test)


def cars(inputs=COLUMNS, seed=SPLIT_SEED):
    """The normalised parts for `inputs` (see Cars; RegressionError for a choice it refuses)."""
    return _cars(checked_inputs(inputs), int(seed))


@functools.lru_cache(maxsize=2 ** len(COLUMNS))  # every choice of inputs fits
def _cars(inputs, seed):
    parts = split_cars(car_table(inputs), seed)
    labels = [part.pop(LABEL).to_numpy("float32") for part in parts]
    features = [part.to_numpy("float32") for part in parts]
    mean, variance = np.mean(features[0], axis=0), np.var(features[0], axis=0)  # the training part only
    normed = [normalize(f, mean, variance) for f in features]
    for array in normed + labels + [mean, variance]:
        array.flags.writeable = False  # shared by every session
    return Cars(inputs, tuple(parts[0].columns), normed[0], labels[0], normed[1], labels[1], normed[2], labels[2],
                mean, variance)


NORMALIZATION_EPSILON = 1e-7  # keras.backend.epsilon(): the smallest spread Normalization divides by


def normalize(features, mean, variance):
    """`keras.layers.Normalization(axis=-1)` adapted to (mean, variance) on float32 features, in
    NumPy, to the bit: `adapt` on a NumPy array is `np.mean` and `np.var` over the rows, and the
    layer computes (x − mean) / max(√variance, ε) in float32, each step correctly rounded as here
    (tests/test_regression.py compares it with Keras's for every choice of inputs). So the page
    draws its cars and builds its jobs without importing TensorFlow (4 s on a fresh server)."""
    return (features - mean) / np.maximum(np.sqrt(variance), np.float32(NORMALIZATION_EPSILON))


def layers(hidden=HIDDEN):
    """The note's model: Dense(units, relu) per hidden layer, then Dense(1) for the MPG."""
    hidden = tuple(hidden)
    if len(hidden) > MAX_HIDDEN or any(not isinstance(u, int) or u < 1 for u in hidden):
        raise RegressionError("bad_hidden", f"hidden layers {hidden!r}", limit=MAX_HIDDEN)
    relu = [{"type": "Dense", "units": units, "activation": "relu"} for units in hidden]
    return relu + [{"type": "Dense", "units": 1}]


def regression_job(*, inputs=COLUMNS, hidden=HIDDEN, epochs=EPOCHS, seed=0, budget_s=BUDGET_S):
    """A Job for the runner: the note's compile (RMSprop, loss MSE, metrics MAE and MSE), fit
    on the training part, the validation slice watched after every epoch, the test part scored
    once at the end. `seed` draws the split and the initial weights."""
    data = cars(inputs, seed)
    return Job(model=Stack(layers(hidden), (len(data.columns),)),
               data=Arrays(data.x_train, data.y_train, data.x_val, data.y_val, data.x_test, data.y_test),
               compile=Compile(OPTIMIZER, LEARNING_RATE, loss=LOSS, metrics=METRICS),
               fit=Fit(epochs=epochs, batch_size=BATCH_SIZE), seed=seed, budget_s=budget_s).checked()


def parameter_count(job):
    """How many weights and biases the job's model learns: 4,865 for the note's 64-64 on 9 columns."""
    from lib import models

    return sum(info.params for info in models.describe(list(job.model.layers), job.model.input_shape))


def hidden_of(job):
    """The hidden layers' units of a regression job: (64, 64)."""
    return tuple(layer["units"] for layer in job.model.layers[:-1])


@dataclasses.dataclass(frozen=True, eq=False)
class Evaluation:
    """The note's two lines on the test part: `model.evaluate`'s three numbers, in compile's
    order, and `model.predict(normed_test_data).flatten()` beside the true MPG."""
    loss: float
    mae: float
    mse: float
    predictions: np.ndarray
    truth: np.ndarray

    @property
    def errors(self):
        """prediction − truth, in MPG, one per test car."""
        return self.predictions.astype("float64") - self.truth.astype("float64")

    @property
    def by_hand(self):
        """(mean |error|, mean error²) from the predictions, in float64: what MAE and MSE are."""
        return float(np.mean(np.abs(self.errors))), float(np.mean(self.errors ** 2))


def evaluate(model, data):
    """The note's lines, run: loss, mae, mse = model.evaluate(normed_test_data, test_labels);
    model.predict(normed_test_data).flatten(). A model rebuilt from a run's weights is compiled
    first, as the note compiles it (evaluate needs the loss and the metrics)."""
    if not model.compiled:
        model.compile(optimizer=Compile(OPTIMIZER, LEARNING_RATE).make_optimizer(), loss=LOSS, metrics=list(METRICS))
    loss, mae, mse = model.evaluate(data.x_test, data.y_test, verbose=0)
    predictions = model.predict(data.x_test, verbose=0).flatten()
    return Evaluation(float(loss), float(mae), float(mse), predictions, np.asarray(data.y_test))


def final(history, name):
    """The last value of a metric in a history (None before the first epoch)."""
    values = history.get(name) or [None]
    return values[-1]


def chosen(histories):
    """The index of the run to test: the lowest validation MAE at its end, by the app's one rule
    (lib.training.best_on_validation: runs are compared on validation; the test part chooses
    nothing). None when no run has one."""
    maes = [final(history, "val_mae") for history in histories]
    return best_on_validation([None if mae is None else -mae for mae in maes])
