"""The worker process: imports Keras once, then trains one job at a time and reports back.

It seeds itself with `keras.utils.set_random_seed` exactly like the code a page shows, so that
code, run in a fresh Python, prints the same numbers — without touching any other student's
randomness (this process trains nobody else's job at the same time).
"""
import math
import os
import tempfile
import time
from multiprocessing.connection import Client

import keras
import numpy as np

from lib import limits
from lib.passes import layer_shapes
from lib.training.job import TrainingError, inference_batch
from lib.training.run import DIVERGED_FACTOR, Epoch, Failure, Result


class StopWhenDiverged(keras.callbacks.Callback):
    """Stops training once the loss is no longer a number or has grown DIVERGED_FACTOR times past
    the loss of the first batch (before the weights had learned anything). With a softmax the
    loss stays finite (Keras clips the probabilities), so "NaN" alone would miss most blow-ups."""

    def __init__(self):
        super().__init__()
        self.first_loss, self.diverged = None, False

    def on_train_batch_end(self, batch, logs=None):
        loss = float((logs or {}).get("loss", math.nan))
        if self.first_loss is None and math.isfinite(loss):
            self.first_loss = loss

    def on_epoch_end(self, epoch, logs=None):
        loss = float((logs or {}).get("loss", math.nan))
        if not math.isfinite(loss) or (self.first_loss and loss > DIVERGED_FACTOR * self.first_loss):
            self.diverged = True
            self.model.stop_training = True


def main():
    """Where a worker process starts: connect back to the server, then serve jobs until told to quit."""
    address, key, threads, memory = os.environ["KERAS_CLASSROOM_WORKER"].split("|")
    try:
        connection = Client(address, authkey=bytes.fromhex(key))
    except OSError:  # the server stopped before this worker was ready: nothing to serve
        return
    serve(connection, int(threads), int(memory))


def serve(connection, threads, memory_bytes=0):
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(max(1, threads // 2))
    tf.get_logger().setLevel("ERROR")  # retracing notes are for developers, not for a class's server log
    # A run whose estimate was wrong fails alone (an allocation refused, or this process gone), and
    # when a container runs out of memory all the same, the kernel takes this process first.
    limits.first_to_go()
    if memory_bytes:
        limits.limit_memory(memory_bytes)
    try:
        connection.send(("ready", None))
    except OSError:  # the server went away while this worker was starting
        return
    while True:
        try:
            job = connection.recv()
        except (EOFError, OSError):  # the server has gone: so does its worker
            return
        if job == "stop":  # meant for a run that has just ended
            continue
        if job is None:
            return
        try:
            train(connection, job)
        except (EOFError, BrokenPipeError, ConnectionError):  # the server went away mid-run
            return
        except TrainingError as e:
            connection.send(("failed", Failure(e.code, str(e), e.details)))
        except MemoryError:  # over this worker's RLIMIT_DATA: the run stops, the worker lives on
            connection.send(("failed", Failure.out_of_memory()))
        except Exception as e:  # the run fails, the worker lives on; the page shows the message
            if type(e).__name__ == "ResourceExhaustedError":  # TensorFlow's allocator hit the limit
                connection.send(("failed", Failure.out_of_memory()))
            else:
                connection.send(("failed", Failure("error", f"{type(e).__name__}: {e}")))
        finally:
            keras.backend.clear_session(free_memory=True)


class Control:
    """What may end a run early: the student's Stop (a message from the server: the whole run) or
    the time budget. Every racer's callback asks it after each batch. Racers that train one after
    another each get their share of the budget (`next_racer`), so a slow first racer cannot leave
    the others untrained: the race still shows every racer, each as far as its time allowed."""

    def __init__(self, connection, budget_s):
        self.connection, self.budget_s, self.start, self.stopped = connection, budget_s, time.time(), None
        self.over_budget = False  # did any racer run out of its time

    def next_racer(self, share_s):
        """The next racer starts, with `share_s` seconds; a budget stop does not carry over."""
        self.start, self.budget_s = time.time(), share_s
        if self.stopped == "budget":
            self.stopped = None

    def check(self):
        if self.connection.poll() and self.connection.recv() == "stop":
            self.stopped = "stopped"
        elif time.time() - self.start > self.budget_s and self.stopped is None:
            self.stopped, self.over_budget = "budget", True
        return self.stopped


def train(connection, job):
    """Train every racer of `job`, sending an Epoch report after each epoch and a Result at the end."""
    keras.utils.set_random_seed(job.seed)  # this process runs one job at a time: the seed is the job's own
    x_train, y_train, x_val, y_val, x_test, y_test = job.data.arrays()
    if job.fit.batch_size > len(x_train):
        raise TrainingError("batch_too_big", f"batch_size {job.fit.batch_size} > {len(x_train)} examples",
                            value=job.fit.batch_size, n=len(x_train))
    control, started = Control(connection, job.budget_s), time.time()
    fit_args = dict(batch_size=job.fit.batch_size, verbose=0, shuffle=job.fit.shuffle,
                    validation_freq=job.fit.validation_freq)
    if x_val is not None:
        fit_args["validation_data"] = (x_val, y_val)
    elif job.fit.validation_split:
        fit_args["validation_split"] = job.fit.validation_split
    seen = _split(x_train, y_train, x_val, y_val, job.fit.validation_split)  # (trained on, validated on)
    folder = tempfile.TemporaryDirectory(prefix="checkpoint-") if job.fit.checkpoint else None
    best = os.path.join(folder.name, "best.weights.h5") if folder else None

    data_bytes = sum(a.nbytes for a in (x_train, y_train, x_val, y_val, x_test, y_test) if a is not None)

    def fresh_model(spec):
        """Each racer from the same seed: the same initial weights, the same batches — a fair race.
        Priced before it trains: a run over the memory a run may hold is refused here."""
        keras.utils.set_random_seed(job.seed)
        model = job.model.build()
        shapes = layer_shapes(model)
        job.check_memory(shapes, model.count_params(), data_bytes)
        # Validation in big batches (up to 1,024 examples, fewer when one is large): the same numbers,
        # but Keras's evaluation costs about half an epoch of a small job in fixed overhead per
        # batch (82 -> 56 ms an epoch on the digits).
        fit_args["validation_batch_size"] = inference_batch(shapes)
        if job.start is not None:
            model.set_weights(job.start)
        model.compile(optimizer=spec.make_optimizer(), loss=spec.loss, metrics=list(spec.metrics))
        return model

    def callbacks(watch):
        early = job.fit.early_stopping
        if len(job.compiles) > 1:
            return [watch]
        more = [] if early is None else [keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=early.patience, restore_best_weights=early.restore_best_weights)]
        if best:  # the page's code does the same, into a .keras file
            more.append(keras.callbacks.ModelCheckpoint(best, monitor="val_loss", save_best_only=True,
                                                        save_weights_only=True))
        return [watch, *more]

    watches = [_watch(connection, job, control, k, len(seen[0][0])) for k in range(len(job.compiles))]
    epochs, models = job.fit.epochs, []
    if len(watches) == 1 or not job.lockstep:  # one fit per racer, one after the other
        for k, (watch, spec) in enumerate(zip(watches, job.compiles)):
            if control.stopped == "stopped":
                break
            control.next_racer((job.budget_s - (time.time() - started)) / (len(job.compiles) - k))
            models.append(fresh_model(spec))
            models[-1].fit(x_train, y_train, epochs=epochs, callbacks=callbacks(watch), **fit_args)
    else:  # every model one epoch at a time, so their curves grow together (dearer: a fit per epoch)
        models = [fresh_model(spec) for spec in job.compiles]
        for epoch in range(epochs):
            for watch, model in zip(watches, models):
                if watch.diverged or control.stopped:
                    continue  # a racer that blew up stops alone; the others go on
                keras.utils.set_random_seed(job.seed + epoch)  # the same batches for every racer
                model.fit(x_train, y_train, epochs=epoch + 1, initial_epoch=epoch, callbacks=[watch], **fit_args)
            if control.stopped or all(w.diverged for w in watches):
                break
    weights, final, test = [], [], []
    for model in models:
        weights.append(model.get_weights())  # what fit left, before a checkpoint is loaded back
        if job.final_scores:
            final.append(_final_scores(model, seen, fit_args["validation_batch_size"]))
        if best and os.path.exists(best):
            model.load_weights(best)  # the epoch of lowest val_loss: the test scores it, once
        scores = model.evaluate(x_test, y_test, verbose=0, return_dict=True) if x_test is not None and len(x_test) else {}
        test.append({k: float(v) for k, v in scores.items()})
    if folder:
        folder.cleanup()
    outcomes = tuple("diverged" if w.diverged else "done" for w in watches[:len(models)])
    # The budget stopped the run only if it cut a racer short: a clock that passed it during the last
    # epoch's last batch stopped nothing (a loaded machine made such runs "budget at epoch 200 of 200").
    cut = any(getattr(w, "epochs_done", 0) < epochs and not w.diverged for w in watches[:len(models)])
    stopped = "stopped" if control.stopped == "stopped" else "budget" if control.over_budget and cut else None
    connection.send(("done", Result(tuple(weights), tuple(test), outcomes, stopped, tuple(final))))


def _split(x_train, y_train, x_val, y_val, validation_split):
    """((x, y) fit trains on, (x, y) it validates on or None), the split as Keras makes it."""
    if x_val is not None:
        return (x_train, y_train), (x_val, y_val)
    if not validation_split:
        return (x_train, y_train), None
    cut = math.floor(len(x_train) * (1.0 - validation_split))  # Keras's own split
    return (x_train[:cut], y_train[:cut]), (x_train[cut:], y_train[cut:])


def penalty(model):
    """The regularizers' term Keras adds to the loss: the sum of `model.losses` (λ·Σw² per L2
    kernel), computed from the weights as they are now; 0 without regularizers."""
    return float(sum(float(loss) for loss in model.losses))


def _final_scores(model, seen, batch_size):
    """The final model in inference mode (evaluate: Dropout off, the weights fixed) on the data
    it trained on and on its validation data, and its penalty."""
    (x, y), check = seen
    scores = {"train": model.evaluate(x, y, batch_size=batch_size, verbose=0, return_dict=True)}
    if check is not None:
        scores["validation"] = model.evaluate(*check, batch_size=batch_size, verbose=0, return_dict=True)
    return {**{part: {k: float(v) for k, v in values.items()} for part, values in scores.items()},
            "penalty": penalty(model)}


def _watch(connection, job, control, racer, examples):
    """A Keras callback for one racer: reports each epoch, collects batch losses, predicts the
    probes, notices its own divergence, and stops the fit when the run is stopped or out of time.
    With `job.data_loss` it also takes the penalty before every step (what that step's loss
    included), so the epoch's loss without it is exact: Keras's loss is the mean over the epoch's
    examples of cross-entropy + penalty, so the data loss is that minus the examples' mean penalty."""
    batch_size = job.fit.batch_size

    class Watch(StopWhenDiverged):
        def __init__(self):
            super().__init__()
            self.batch_loss, self.epoch_start = [], time.time()
            self.penalties = []  # (examples in the step, penalty before it), this epoch

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_start, self.batch_loss, self.penalties = time.time(), [], []

        def on_train_batch_begin(self, batch, logs=None):
            if job.data_loss:
                self.penalties.append((min(batch_size, examples - batch * batch_size), penalty(self.model)))

        def on_train_batch_end(self, batch, logs=None):
            super().on_train_batch_end(batch, logs)
            if job.batch_losses:
                self.batch_loss.append(float((logs or {}).get("loss", math.nan)))
            if control.check():
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            super().on_epoch_end(epoch, logs)
            self.epochs_done = epoch + 1
            logs = {k: float(v) for k, v in (logs or {}).items()}
            if job.data_loss:
                logs.update(_without_penalty(logs, self.penalties, penalty(self.model)))
            probes = None
            if job.probes and ((epoch + 1) % job.probe_every == 0 or self.diverged or control.stopped):
                probes = {name: np.asarray(self.model(np.asarray(x), training=False)).astype("float32")
                          for name, x in job.probes.items()}
            connection.send(("epoch", Epoch(racer, epoch + 1, logs, time.time() - self.epoch_start,
                                            tuple(self.batch_loss), probes, self.diverged)))
            if control.check():
                self.model.stop_training = True

    return Watch()


def _without_penalty(logs, penalties, now):
    """The epoch's losses without the regularizers' penalty: the training loss less the mean
    penalty its steps included (weighted by their examples, as Keras weights its mean), the
    validation loss less the penalty of the weights it was measured with (the epoch's last)."""
    examples = sum(n for n, _ in penalties)
    out = {"penalty": now}
    if examples and "loss" in logs:
        out["data_loss"] = logs["loss"] - sum(n * p for n, p in penalties) / examples
    if "val_loss" in logs:
        out["val_data_loss"] = logs["val_loss"] - now
    return out
