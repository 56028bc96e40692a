"""What to train: a `Job` made of typed, frozen parts, each with its defaults in one place.

    Job(model=Stack(layers, input_shape),            # or Builder("lib.overfitting:regressor", {...})
        data=Images("digits", reshape=(64,)),          # or Arrays(x_train, y_train, ...)
        compile=Compile(optimizer="Adam", learning_rate=0.01),
        fit=Fit(epochs=10, batch_size=32, validation_split=0.2))

Everything in a job is plain data, so it travels to a worker process, and it describes the run
completely: training is seeded, so two equal jobs give the same numbers (`Job.key` names that
identity). `racers` trains one model per `Compile` from the same seed — the same initial weights
and the same batches — for the races of the optimizer and loss pages.
"""
import dataclasses
import hashlib
import importlib
import math

import numpy as np

from lib import cost, data
from lib.errors import Refusal

# Limits for a shared classroom server (a page may ask for less, never for more).
MAX_EPOCHS = 500
MAX_SECONDS = 60.0
MAX_TRAIN_SAMPLES = 20_000
INFERENCE_BATCH = 1024  # the worker validates in batches this big (and Keras tests in 32s)


class TrainingError(Refusal):
    """A job the runner refuses; `code` says why (the pages translate it), `details` the numbers."""

    catalog = "training.error"


# --- The model -----------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Stack:
    """A Sequential model from layer dicts, as `lib.models.build_sequential` takes them."""
    layers: tuple
    input_shape: tuple

    def __post_init__(self):
        object.__setattr__(self, "layers", tuple(dict(layer) for layer in self.layers))
        object.__setattr__(self, "input_shape", tuple(self.input_shape))

    def build(self):
        from lib import models

        return models.build_sequential([dict(layer) for layer in self.layers], self.input_shape)


@dataclasses.dataclass(frozen=True)
class Builder:
    """A model made by a function of `lib` ("module:function") with keyword arguments."""
    function: str
    kwargs: dict = dataclasses.field(default_factory=dict)

    def build(self):
        module, name = self.function.split(":")
        return getattr(importlib.import_module(module), name)(**self.kwargs)


# --- The data ------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Images:
    """An image data set of `lib.data` by name, reshaped to what the model takes: the last
    `validation` images of its train split held out as a validation set, the first
    `train_samples` of the rest to train on (at most MAX_TRAIN_SAMPLES), and its test split."""
    name: str
    test_size: float = data.TEST_SIZE  # digits only: the online sets keep their official split
    train_samples: int = None
    validation: int = 0
    reshape: tuple = None

    def arrays(self):
        """(x_train, y_train, x_val, y_val, x_test, y_test); with `validation` 0 there are no
        validation arrays (a fit may still take `Fit.validation_split` of the train arrays)."""
        from lib import data

        d = data.load_dataset(self.name, test_size=self.test_size)
        x_rest, y_rest = d.x_train[:len(d.x_train) - self.validation], d.y_train[:len(d.y_train) - self.validation]
        n = min(self.train_samples or len(x_rest), len(x_rest), MAX_TRAIN_SAMPLES)
        x = [x_rest[:n], d.x_train[len(x_rest):] if self.validation else None, d.x_test]
        if self.reshape:
            x = [None if a is None else a.reshape((len(a), *self.reshape)) for a in x]
        y_val = d.y_train[len(y_rest):] if self.validation else None
        return x[0], y_rest[:n], x[1], y_val, x[2], d.y_test


@dataclasses.dataclass(frozen=True, eq=False)
class Arrays:
    """Data made by a page (toy points, a curve): train arrays, optional validation arrays
    (watched after every `Fit.validation_freq` epochs) and optional test arrays (scored once,
    at the end)."""
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray = None
    y_val: np.ndarray = None
    x_test: np.ndarray = None
    y_test: np.ndarray = None

    def arrays(self):
        return tuple(None if a is None else np.asarray(a) for a in
                     (self.x_train, self.y_train, self.x_val, self.y_val, self.x_test, self.y_test))


# --- Compile and fit -----------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Compile:
    """model.compile: a Keras optimizer by its class name, with its learning rate and any other
    constructor options (momentum, nesterov, rho, beta_1, ...); the loss; the metrics."""
    optimizer: str = "Adam"
    learning_rate: float = 0.001
    options: dict = dataclasses.field(default_factory=dict)
    loss: str = "sparse_categorical_crossentropy"
    metrics: tuple = ("accuracy",)

    def __post_init__(self):
        object.__setattr__(self, "metrics", tuple(self.metrics))

    def make_optimizer(self):
        import keras

        return getattr(keras.optimizers, self.optimizer)(learning_rate=self.learning_rate, **self.options)


@dataclasses.dataclass(frozen=True)
class EarlyStop:
    """keras.callbacks.EarlyStopping on the validation loss. Keras's own default does not keep
    the best weights (restore_best_weights=False): the model ends where training stopped."""
    patience: int = 5
    restore_best_weights: bool = False


@dataclasses.dataclass(frozen=True)
class Fit:
    """model.fit: epochs, batch size, how to validate, EarlyStopping (or None), and whether a
    keras.callbacks.ModelCheckpoint(save_best_only=True) keeps the epoch of lowest val_loss: the
    test then scores that epoch's weights, loaded back after fit (the run's weights stay fit's)."""
    epochs: int = 10
    batch_size: int = 32
    validation_split: float = 0.0  # the last fraction of the train arrays, as Keras takes it
    validation_freq: int = 1
    early_stopping: EarlyStop = None
    shuffle: bool = True
    checkpoint: bool = False


# --- The job -------------------------------------------------------------------------------------

def inference_batch(layers):
    """The batch a run validates in: INFERENCE_BATCH, or fewer when one example is large (lib.cost)."""
    return min(INFERENCE_BATCH, cost.PassCost.of(layers).batch_size())


@dataclasses.dataclass(frozen=True, eq=False)
class Job:
    """What to train (see the module's docstring). `probes` are inputs predicted after every
    `probe_every` epochs (a decision boundary, a fitted curve); `batch_losses` reports the loss
    of every batch, not only of every epoch. What training mode hides, on request: `data_loss`
    adds to every epoch's logs the regularizers' penalty (Keras adds it to `loss` and `val_loss`)
    and the losses without it (`data_loss`, `val_data_loss`); `final_scores` evaluates the final
    model in inference mode (Dropout off) on the data it trained on and on its validation data."""
    model: object  # Stack or Builder
    data: object  # Images or Arrays
    compile: Compile = Compile()
    fit: Fit = Fit()
    racers: tuple = ()  # Compile per racer; empty: one model with `compile`
    lockstep: bool = True  # racers train epoch by epoch side by side, or (False) one after another
    seed: int = 0
    budget_s: float = 20.0
    probes: dict = dataclasses.field(default_factory=dict)
    probe_every: int = 1
    batch_losses: bool = False
    start: tuple = None  # weights to start from (a loaded model trained further); None: a fresh start
    data_loss: bool = False
    final_scores: bool = False

    @property
    def compiles(self):
        """One Compile per model this job trains."""
        return tuple(self.racers) or (self.compile,)

    def checked(self):
        """This job with its limits checked (TrainingError names the first one broken)."""
        epochs, batch = self.fit.epochs, self.fit.batch_size
        if not isinstance(epochs, int) or epochs < 1:
            raise TrainingError("no_epochs", f"epochs must be at least 1, got {epochs!r}", value=epochs)
        if epochs > MAX_EPOCHS:
            raise TrainingError("too_many_epochs", f"at most {MAX_EPOCHS} epochs", value=epochs, limit=MAX_EPOCHS)
        if not isinstance(batch, int) or batch < 1:
            raise TrainingError("bad_batch", f"batch_size must be at least 1, got {batch!r}", value=batch)
        for rate in (c.learning_rate for c in self.compiles):
            if not (isinstance(rate, (int, float)) and math.isfinite(rate) and rate > 0):
                raise TrainingError("bad_learning_rate", f"learning rate must be above 0, got {rate!r}", value=rate)
        if not 0 < self.budget_s <= MAX_SECONDS:
            raise TrainingError("bad_budget", f"budget must be in (0, {MAX_SECONDS}] s", value=self.budget_s)
        if isinstance(self.model, Stack):  # a stack is priced here; any other model where it is built
            from lib import models

            infos = models.describe(list(self.model.layers), self.model.input_shape)
            self.check_memory(infos, sum(info.params for info in infos))
        return self

    def check_memory(self, layers, params, data_bytes=0):
        """TrainingError("too_much_memory") unless training this job's model — `layers` its chain
        (lib.cost.LayerShape or alike), `params` its parameter count — fits the memory one run may
        hold (lib.cost.training_bytes, RUN_MEMORY_BYTES)."""
        models = len(self.compiles) if self.lockstep else 1
        needed = cost.training_bytes(layers, params, batch_size=self.fit.batch_size, models=models,
                                     inference_batch=inference_batch(layers), data_bytes=data_bytes)
        if needed > cost.RUN_MEMORY_BYTES:
            raise TrainingError("too_much_memory", f"the run needs about {needed:,} bytes",
                                needs=cost.megabytes(needed), budget=cost.megabytes(cost.RUN_MEMORY_BYTES),
                                batch=self.fit.batch_size)
        return needed

    @property
    def key(self):
        """A name for what this job computes: equal jobs (same model, data, settings and seed)
        have equal keys, so a run already made for one serves the other. The time budget is not
        part of it: it limits a run, it does not change what the run computes."""
        digest = hashlib.sha256()
        _feed(digest, dataclasses.replace(self, budget_s=0.0))
        return digest.hexdigest()


def _feed(digest, value):
    """Everything that makes a job what it is, in a stable order, into a hash."""
    if dataclasses.is_dataclass(value):
        digest.update(type(value).__name__.encode())
        for field in dataclasses.fields(value):
            digest.update(field.name.encode())
            _feed(digest, getattr(value, field.name))
    elif isinstance(value, np.ndarray):
        digest.update(f"array{value.dtype}{value.shape}".encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, dict):
        digest.update(b"{")
        for key in sorted(value, key=str):
            _feed(digest, key)
            _feed(digest, value[key])
        digest.update(b"}")
    elif isinstance(value, (list, tuple)):
        digest.update(b"(")
        for item in value:
            _feed(digest, item)
        digest.update(b")")
    else:
        digest.update(f"{type(value).__name__}:{value!r};".encode())
