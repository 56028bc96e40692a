"""The one training runner every page that trains uses.

A `Job` says what to train: a model (a layer stack, or a builder function), its data, how to
compile and fit it, a time budget. `runner().submit(job)` returns a `Run`: the session keeps it
and watches it fill in, epoch by epoch, until it is done, stopped, over budget or failed.

Every run executes in a worker process of its own (a small pool, sized to the machine), which
seeds itself with `keras.utils.set_random_seed` exactly like the code a page shows — so that
code, run in a fresh Python, prints the same numbers — without touching any other student's
randomness. The pool is the server-wide limit on simultaneous runs; further runs wait in line,
and know their place. A run that overstays its budget is stopped cleanly (the weights learned
so far are kept); a worker that stops answering is killed and replaced.
"""
import dataclasses
import importlib
import itertools
import math
import os
import subprocess
import sys
import threading
import time
from collections import deque
from multiprocessing.connection import Client, Listener

import numpy as np

# Limits for a shared classroom server (a page may ask for less, never for more).
MAX_EPOCHS = 500
MAX_SECONDS = 60.0
MAX_TRAIN_SAMPLES = 20_000
GRACE_SECONDS = 30.0  # beyond the budget, a worker that has not finished is killed
VALIDATION_BATCH = 1024
SLOTS = max(1, int(os.environ.get("KERAS_CLASSROOM_TRAINERS", 0)) or (os.cpu_count() or 2) // 2)
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class TrainingError(ValueError):
    """A job the runner refuses; `code` says why (the pages translate it), `details` the numbers."""

    def __init__(self, code, message, **details):
        super().__init__(message)
        self.code, self.details = code, details


@dataclasses.dataclass(frozen=True)
class Job:
    """What to train. Everything in it is plain data, so it can travel to a worker process.

    model: {"layers": [...], "input_shape": (...)} for lib.models.build_sequential, or
           {"builder": "module:function", "kwargs": {...}} returning an uncompiled Keras model.
    data: {"dataset": name, "test_size": 0.2, "train_samples": n, "flatten": bool, "channels": bool}
          for lib.data.load_dataset, or {"x_train", "y_train", "x_test", "y_test"} arrays.
    compile: {"optimizer": Keras class name, "learning_rate": lr, "options": {...},
              "loss": name, "metrics": [...]}; `variants` (a list of such dicts, each overriding
              `compile`) trains one model per variant from the same seed — the same initial weights
              and batches — in `lockstep` (epoch by epoch side by side) or one after another.
    fit: {"epochs": n, "batch_size": n, "validation_split": f (or "validation": "test" to validate on
          the test arrays), "early_stopping": {"patience": n, "restore_best_weights": bool} or None}
    probes: {name: inputs} predicted after every `probe_every` epochs (decision boundaries, fits).
    """
    model: dict
    data: dict
    compile: dict = dataclasses.field(default_factory=dict)
    fit: dict = dataclasses.field(default_factory=dict)
    seed: int = 0
    budget_s: float = 20.0
    probes: dict = dataclasses.field(default_factory=dict)
    probe_every: int = 1
    batch_losses: bool = False
    variants: tuple = ()
    lockstep: bool = True  # a race trains its variants epoch by epoch together, or (False) one after another

    def checked(self):
        """This job with its limits checked (TrainingError names the first one broken)."""
        epochs, batch = self.fit.get("epochs", 10), self.fit.get("batch_size", 32)
        if not isinstance(epochs, int) or epochs < 1:
            raise TrainingError("no_epochs", f"epochs must be at least 1, got {epochs!r}", value=epochs)
        if epochs > MAX_EPOCHS:
            raise TrainingError("too_many_epochs", f"at most {MAX_EPOCHS} epochs", value=epochs, limit=MAX_EPOCHS)
        if not isinstance(batch, int) or batch < 1:
            raise TrainingError("bad_batch", f"batch_size must be at least 1, got {batch!r}", value=batch)
        lrs = [c.get("learning_rate", 0.001) for c in (self.variants or (self.compile,))]
        for lr in lrs:
            if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
                raise TrainingError("bad_learning_rate", f"learning rate must be above 0, got {lr!r}", value=lr)
        if not 0 < self.budget_s <= MAX_SECONDS:
            raise TrainingError("bad_budget", f"budget must be in (0, {MAX_SECONDS}] s", value=self.budget_s)
        return self


# --- The worker process ----------------------------------------------------------------------

def _worker_main(connection, threads):
    """A worker: import Keras once, then run jobs one at a time until told to quit."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(max(1, threads // 2))
    import keras

    try:
        connection.send(("ready", None))
    except OSError:  # the server went away while this worker was starting
        return
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):  # the server has gone: so does its worker
            return
        if message == "stop":  # meant for a run that has just ended
            continue
        if message is None:
            return
        job = message
        try:
            _run_job(connection, job)
        except (EOFError, BrokenPipeError, ConnectionError):  # the server went away mid-run
            return
        except TrainingError as e:
            connection.send(("failed", {"code": e.code, "message": str(e), "details": e.details}))
        except Exception as e:  # the run fails, the worker lives on; the page shows the message
            connection.send(("failed", {"code": "error", "message": f"{type(e).__name__}: {e}", "details": {}}))
        finally:
            keras.backend.clear_session(free_memory=True)


def load_arrays(data):
    """(x_train, y_train, x_test, y_test) for a job's data spec (see `Job`)."""
    if "dataset" not in data:
        return tuple(np.asarray(data[k]) for k in ("x_train", "y_train", "x_test", "y_test"))
    from lib import data as datasets

    d = datasets.load_dataset(data["dataset"], seed=data.get("split_seed", 0), test_size=data.get("test_size", 0.2))
    x_train, y_train, x_test, y_test = d.x_train, d.y_train, d.x_test, d.y_test
    n = min(data.get("train_samples") or len(x_train), len(x_train), MAX_TRAIN_SAMPLES)
    x_train, y_train = x_train[:n], y_train[:n]
    if data.get("test_samples"):
        x_test, y_test = x_test[:data["test_samples"]], y_test[:data["test_samples"]]
    shape = data.get("reshape")
    if shape:
        x_train, x_test = (x.reshape((len(x), *shape)) for x in (x_train, x_test))
    return x_train, y_train, x_test, y_test


def build_model(spec):
    """The uncompiled Keras model of a job's model spec (see `Job`)."""
    if "layers" in spec:
        from lib import models

        return models.build_sequential(spec["layers"], spec["input_shape"])
    module, function = spec["builder"].split(":")
    return getattr(importlib.import_module(module), function)(**spec.get("kwargs", {}))


def make_optimizer(compile_spec):
    import keras

    cls = getattr(keras.optimizers, compile_spec.get("optimizer", "Adam"))
    return cls(learning_rate=compile_spec.get("learning_rate", 0.001), **compile_spec.get("options", {}))


def _compile(model, spec):
    model.compile(optimizer=make_optimizer(spec), loss=spec.get("loss", "sparse_categorical_crossentropy"),
                  metrics=list(spec.get("metrics", ["accuracy"])))


def _run_job(connection, job):
    import keras

    keras.utils.set_random_seed(job.seed)  # this process runs one job at a time: the seed is the job's own
    x_train, y_train, x_test, y_test = load_arrays(job.data)
    batch_size = job.fit.get("batch_size", 32)
    if batch_size > len(x_train):
        raise TrainingError("batch_too_big", f"batch_size {batch_size} > {len(x_train)} examples",
                            value=batch_size, n=len(x_train))
    variants = list(job.variants) or [job.compile]
    watch = _watch(connection, job, len(variants))
    callbacks = [watch]
    early = job.fit.get("early_stopping")
    if early and len(variants) == 1:
        callbacks.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=early.get("patience", 5),
                                                       restore_best_weights=early.get("restore_best_weights", True)))
    # Validation in one big batch: the same numbers, but Keras's evaluation costs about half an
    # epoch of a small job in fixed overhead per batch (82 -> 56 ms an epoch on the digits).
    fit_args = dict(batch_size=batch_size, verbose=0, shuffle=job.fit.get("shuffle", True),
                    validation_batch_size=VALIDATION_BATCH, validation_freq=job.fit.get("validation_freq", 1))
    if job.fit.get("validation") == "test":  # watch the held-out set itself after every epoch
        fit_args["validation_data"] = (x_test, y_test)
    elif job.fit.get("validation_split"):
        fit_args["validation_split"] = job.fit["validation_split"]
    epochs = job.fit.get("epochs", 10)

    def fresh_model(spec):
        """Each variant from the same seed: the same initial weights, the same batches — a fair race."""
        keras.utils.set_random_seed(job.seed)
        model = build_model(job.model)
        _compile(model, {**job.compile, **spec})
        return model

    models = []
    if len(variants) == 1 or not job.lockstep:  # one fit per variant, one after the other
        for k, spec in enumerate(variants):
            models.append(fresh_model(spec))
            watch.variant = k
            models[-1].fit(x_train, y_train, epochs=epochs, callbacks=callbacks, **fit_args)
            if watch.stopped:
                break
    else:  # every model one epoch at a time, so their curves grow together (dearer: a fit per epoch)
        models = [fresh_model(spec) for spec in variants]
        for epoch in range(epochs):
            for k, model in enumerate(models):
                watch.variant = k
                keras.utils.set_random_seed(job.seed + epoch)  # the same batches for every racer
                model.fit(x_train, y_train, epochs=epoch + 1, initial_epoch=epoch, callbacks=callbacks, **fit_args)
            if watch.stopped:
                break
    test = []
    for model in models:
        scores = model.evaluate(x_test, y_test, verbose=0, return_dict=True) if len(x_test) else {}
        test.append({k: float(v) for k, v in scores.items()})
    connection.send(("done", {"weights": [m.get_weights() for m in models], "test": test,
                              "stopped": watch.stopped, "epochs_run": watch.epochs_run}))


DIVERGED_FACTOR = 100


def diverged(loss, first_loss):
    """The loss is no longer a number, or has grown far beyond where it started: with a softmax
    the loss stays finite (Keras clips probabilities), so "NaN" alone would miss most blow-ups."""
    if not math.isfinite(loss):
        return True
    return first_loss is not None and first_loss > 0 and loss > DIVERGED_FACTOR * first_loss


def stuck_at_chance(history, classes=10):
    """A classifier that ended no better than guessing: its loss is still about ln(classes), the
    loss of answering 1/classes for everything, and its accuracy near 1/classes. The usual sign of
    a learning rate so large that the first steps wrecked the weights (every ReLU died)."""
    loss, accuracy = history.get("loss", [None])[-1], history.get("val_accuracy", history.get("accuracy", [None]))[-1]
    return loss is not None and accuracy is not None and loss >= 0.9 * math.log(classes) and accuracy < 2 / classes


def _watch(connection, job, n_models):
    """A Keras callback that reports each epoch, collects batch losses, predicts the probes, and
    stops the fit on request, on budget or when the loss stops being a number. One instance
    serves every model of a race (`variant` says which one is training)."""
    import keras

    class Watch(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.start, self.variant, self.stopped, self.first_loss = time.time(), 0, None, None
            self.epochs_run, self.batch_loss, self.epoch_start = [0] * n_models, [], time.time()

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_start, self.batch_loss = time.time(), []

        def on_train_batch_end(self, batch, logs=None):
            loss = float((logs or {}).get("loss", math.nan))
            if self.first_loss is None and math.isfinite(loss):
                self.first_loss = loss  # before any step: the yardstick for "diverged"
            if job.batch_losses:
                self.batch_loss.append(loss)
            self.check_stop()

        def check_stop(self):
            if connection.poll() and connection.recv() == "stop":
                self.stopped = "stopped"
            elif time.time() - self.start > job.budget_s:
                self.stopped = self.stopped or "budget"
            if self.stopped:
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            logs = {k: float(v) for k, v in (logs or {}).items()}
            self.epochs_run[self.variant] = epoch + 1
            if diverged(logs.get("loss", math.nan), self.first_loss):
                self.stopped = "diverged"
                self.model.stop_training = True
            report = {"variant": self.variant, "epoch": epoch + 1, "logs": logs, "elapsed": time.time() - self.start,
                      "seconds": time.time() - self.epoch_start, "batch_loss": self.batch_loss}
            if job.probes and ((epoch + 1) % job.probe_every == 0 or self.stopped):
                report["probes"] = {name: np.asarray(self.model(np.asarray(x), training=False)).astype("float32")
                                    for name, x in job.probes.items()}
            connection.send(("epoch", report))
            self.check_stop()

    return Watch()


# --- The server side -------------------------------------------------------------------------

@dataclasses.dataclass
class Run:
    """One training run as its session sees it. Filled in by the runner's threads; read by pages."""
    job: Job
    id: int
    status: str = "queued"  # queued -> running -> done | stopped | budget | diverged | failed
    queue_position: int = 0
    epochs: list = dataclasses.field(default_factory=list)  # one report per epoch (and variant)
    result: dict = None
    error: dict = None
    submitted: float = dataclasses.field(default_factory=time.time)
    started: float = None
    finished: float = None
    _stop: threading.Event = dataclasses.field(default_factory=threading.Event, repr=False)
    _cancel: object = dataclasses.field(default=None, repr=False)

    @property
    def active(self):
        return self.status in ("queued", "running")

    def stop(self):
        """Stop the run: a waiting one leaves the line; a running one stops after the current
        batch, keeping what it has learned so far."""
        self._stop.set()
        if self._cancel is not None:
            self._cancel(self)

    def history(self, variant=0):
        """{metric: [value per epoch]} of one variant, as Keras's History would give it."""
        out = {}
        for report in self.epochs:
            if report["variant"] == variant:
                for key, value in report["logs"].items():
                    out.setdefault(key, []).append(value)
        return out

    def latest_probes(self, variant=0):
        for report in reversed(self.epochs):
            if report["variant"] == variant and "probes" in report:
                return report["epoch"], report["probes"]
        return 0, {}

    def model(self, variant=0):
        """The trained Keras model, rebuilt in this process from the run's final weights."""
        if not self.result:
            return None
        model = build_model(self.job.model)
        model.set_weights(self.result["weights"][variant])
        return model


class Runner:
    """A fixed pool of worker processes and a queue in front of it (one per server process)."""

    def __init__(self, slots=SLOTS):
        self.slots = slots
        self._queue = deque()
        self._lock = threading.Condition()
        self._ids = itertools.count(1)
        self._threads = [threading.Thread(target=self._serve, name=f"trainer-{k}", daemon=True)
                         for k in range(slots)]
        for thread in self._threads:
            thread.start()

    def submit(self, job):
        """Queue a job (checked first: TrainingError) and return its Run."""
        run = Run(job.checked(), next(self._ids), _cancel=self._cancel)
        with self._lock:
            self._queue.append(run)
            self._renumber()
            self._lock.notify()
        return run

    def waiting(self):
        with self._lock:
            return len(self._queue)

    def _cancel(self, run):
        with self._lock:
            if run in self._queue:
                self._queue.remove(run)
                run.status, run.finished, run.queue_position = "stopped", time.time(), 0
                self._renumber()

    def _renumber(self):
        for position, run in enumerate(self._queue, start=1):
            run.queue_position = position

    def _next(self):
        with self._lock:
            while True:
                if self._queue:
                    run = self._queue.popleft()
                    self._renumber()
                    return run
                self._lock.wait()

    def _serve(self):
        """One slot: start a worker at once (Keras imported before the first click), keep it
        alive, and feed it runs from the queue, one at a time."""
        worker = _Worker.start_quietly()
        while True:
            run = self._next()
            try:
                if worker is None or not worker.alive():
                    worker = _Worker()
                run.status, run.started, run.queue_position = "running", time.time(), 0
                worker.execute(run)
            except Exception as e:  # the worker died or hung: replace it, fail this run only
                run.status, run.error = "failed", {"code": "worker", "message": str(e), "details": {}}
                if worker is not None:
                    worker.kill()
                worker = None
            finally:
                run.finished = run.finished or time.time()


class _Worker:
    """One worker process and its connection.

    A plain subprocess (`python -c "...lib.training._worker_entry()"`) that connects back over a
    local socket: multiprocessing's "spawn" would re-run the parent's main module in the child,
    which breaks under some launchers and would mean a second Streamlit CLI in every worker.
    """

    def __init__(self):
        key = os.urandom(16)
        with Listener(authkey=key) as listener:
            threads = max(1, (os.cpu_count() or 2) // SLOTS)
            env = dict(os.environ, PYTHONPATH=os.pathsep.join([_ROOT, os.environ.get("PYTHONPATH", "")]),
                       KERAS_CLASSROOM_WORKER=f"{listener.address}|{key.hex()}|{threads}", TF_CPP_MIN_LOG_LEVEL="3")
            self.process = subprocess.Popen([sys.executable, "-c", "from lib.training import _worker_entry; _worker_entry()"],
                                            cwd=_ROOT, env=env, stdin=subprocess.DEVNULL)
            self.connection = self._accept(listener, timeout=120)
        if not self.connection.poll(120) or self.connection.recv()[0] != "ready":
            self.kill()
            raise RuntimeError("the training worker did not start")

    def _accept(self, listener, timeout):
        """listener.accept(), but given up when the worker dies first or takes too long."""
        box = {}
        waiter = threading.Thread(target=lambda: box.setdefault("connection", listener.accept()), daemon=True)
        waiter.start()
        deadline = time.time() + timeout
        while waiter.is_alive() and self.alive() and time.time() < deadline:
            waiter.join(0.1)
        if "connection" not in box:
            self.kill()  # leaving the `with` closes the listener, which ends the waiting accept()
            raise RuntimeError("the training worker did not connect")
        return box["connection"]

    @classmethod
    def start_quietly(cls):
        """A worker, or None if it could not start now (the next run tries again, and says why)."""
        try:
            return cls()
        except Exception:
            return None

    def alive(self):
        return self.process.poll() is None

    def kill(self):
        self.process.kill()
        self.process.wait(5)

    def execute(self, run):
        """Send the job, then relay the worker's reports into the Run until it ends."""
        self.connection.send(run.job)
        deadline = time.time() + run.job.budget_s + GRACE_SECONDS
        told_to_stop = False
        while True:
            if run._stop.is_set() and not told_to_stop:
                self.connection.send("stop")
                told_to_stop = True
            if not self.connection.poll(0.05):
                if time.time() > deadline or not self.alive():
                    raise RuntimeError("the training worker stopped answering")
                continue
            kind, payload = self.connection.recv()
            if kind == "epoch":
                run.epochs.append(payload)
            elif kind == "done":
                run.result = payload
                run.status = {"stopped": "stopped", "budget": "budget", "diverged": "diverged"}.get(
                    payload["stopped"], "done")
                return
            elif kind == "failed":
                run.status, run.error = "failed", payload
                return


def _worker_entry():
    """Where a worker process starts: connect back to the server, then serve jobs."""
    address, key, threads = os.environ["KERAS_CLASSROOM_WORKER"].split("|")
    _worker_main(Client(address, authkey=bytes.fromhex(key)), int(threads))


_runner = None
_runner_lock = threading.Lock()


def runner():
    """The server's runner, started on first use (its workers then import Keras in the background)."""
    global _runner
    with _runner_lock:
        if _runner is None:
            _runner = Runner()
        return _runner


# --- Jobs the pages build -----------------------------------------------------------------------

ONLINE_TRAIN_SAMPLES = 6_000  # MNIST-sized sets: a slice, so a run takes seconds on a shared server


def check_fits(layers, input_shape, image_shape):
    """TrainingError unless the stack takes these images and answers with 10 probabilities
    (ModelSpecError, from lib.models, if it cannot be built at all)."""
    from lib import models

    if math.prod(input_shape) != math.prod(image_shape):
        raise TrainingError("input_mismatch", f"the model takes {tuple(input_shape)}, the images are {image_shape}",
                            model=models.shape_text(input_shape), images="×".join(map(str, image_shape)),
                            numbers=math.prod(image_shape))
    infos = models.describe(layers, input_shape)
    if not infos or infos[-1].output_shape != (10,):
        out = models.shape_text(infos[-1].output_shape) if infos else models.shape_text(input_shape)
        raise TrainingError("not_ten_outputs", f"the model outputs {out}, not 10 classes", output=out)
    last = next(i for i in reversed(infos) if i.type != "Dropout")
    if last.args.get("activation") != "softmax":
        raise TrainingError("no_softmax", "the last layer must be a softmax, so the outputs are probabilities")


def classifier_job(*, dataset, layers, input_shape, optimizer="Adam", learning_rate=0.001, epochs=10,
                   batch_size=32, test_size=0.2, validation_split=0.2, train_samples=None, seed=0,
                   budget_s=20.0, early_stopping=None, batch_losses=True):
    """A Job that trains an image classifier on a data set with sparse categorical cross-entropy.
    `batch_size=None` is the full batch; a batch larger than the training examples is refused."""
    from lib import data as datasets

    info = datasets.DATASETS[dataset]
    check_fits(layers, input_shape, info.image_shape)
    if info.online and not train_samples:
        train_samples = ONLINE_TRAIN_SAMPLES
    job = Job(model={"layers": [dict(x) for x in layers], "input_shape": tuple(input_shape)},
              data={"dataset": dataset, "test_size": test_size, "train_samples": train_samples,
                    "reshape": tuple(input_shape)},
              compile={"optimizer": optimizer, "learning_rate": learning_rate,
                       "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
              fit={"epochs": epochs, "batch_size": batch_size or 1, "validation_split": validation_split,
                   "early_stopping": early_stopping},
              seed=seed, budget_s=budget_s, batch_losses=batch_losses)
    examples = training_examples(job)
    if batch_size is not None and batch_size > examples:
        raise TrainingError("batch_too_big", f"batch_size {batch_size} > {examples} training examples",
                            value=batch_size, n=examples)
    return dataclasses.replace(job, fit={**job.fit, "batch_size": batch_size or examples}).checked()


def training_examples(job):
    """How many examples `fit` trains on (the rest of the train split is validation)."""
    n = len(load_arrays(job.data)[0])
    return int(math.floor(n * (1.0 - job.fit.get("validation_split", 0.0))))  # Keras's own split


def steps_per_epoch(examples, batch_size):
    """ceil(examples / batch size): the last step takes what is left."""
    return -(-examples // batch_size)
