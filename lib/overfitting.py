"""Overfitting: a model that learns the workbook by heart instead of the subject — and the cures.

Two views. A 1-D one: a few noisy points from a known curve and a wide network that, given
enough epochs, bends through every point. And the digits: a small training set, a big model,
many epochs — training and validation loss split apart. The cures are switches on the same job:
more data, a smaller model, Dropout, L2, EarlyStopping, small random shifts of the images. Runs
are compared on validation accuracy (Keras's val_loss carries an L2 run's penalty), the chosen one
is tested once; and what training mode hides — Dropout's scaling, the L2 term, fit's running
accuracy — is shown with real Keras numbers.
"""
import functools

import numpy as np

from lib import data, i18n
from lib.training import Arrays, Builder, Compile, EarlyStop, Fit, Images, Job, Stack, best_on_validation

CURVE_RANGE = (-1.0, 1.0)
GRID = np.linspace(*CURVE_RANGE, 200, dtype="float32")[:, None]  # where the fitted curve is drawn


def true_curve(x):
    """The subject to learn: what the points would be without noise."""
    return np.sin(np.pi * np.asarray(x, dtype="float32"))


def noisy_points(n=12, noise=0.25, seed=0):
    """n points (x, y), x sorted in [-1, 1], y the true curve plus Gaussian noise; float32 (n, 1)."""
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(*CURVE_RANGE, n)).astype("float32")
    y = true_curve(x) + rng.normal(0, noise, n).astype("float32")
    return x[:, None], y[:, None].astype("float32")


def curve_layers(width=128, depth=3, l2=0.0, dropout=0.0):
    """The 1-D model's layers: depth x Dense(width, tanh) [+ Dropout], then one output."""
    layers = []
    for _ in range(depth):
        layers.append({"type": "Dense", "units": width, "activation": "tanh", "l2": l2})
        if dropout:
            layers.append({"type": "Dropout", "rate": dropout})
    return layers + [{"type": "Dense", "units": 1}]


def regressor(width=128, depth=3, l2=0.0, dropout=0.0):
    """The wide network from x to y (uncompiled), layers named explicitly."""
    from lib import models

    return models.build_sequential(curve_layers(width, depth, l2, dropout), (1,), name="curve_fit")


CURVE_LEARNING_RATE = 0.02
VALIDATION_POINTS = 100


def curve_job(*, n=12, noise=0.25, width=128, depth=3, l2=0.0, dropout=0.0, epochs=200, seed=0, budget_s=20.0):
    """Fit the noisy points with full-batch Adam; the fitted curve is predicted on GRID, and the
    loss on 100 fresh validation points from the same curve measured, every few epochs, to
    watch it bend."""
    x, y = noisy_points(n, noise, seed)
    x_val, y_val = noisy_points(VALIDATION_POINTS, noise, seed + 1000)
    every = max(1, epochs // 40)
    return Job(model=Builder("lib.overfitting:regressor", {"width": width, "depth": depth, "l2": l2, "dropout": dropout}),
               data=Arrays(x, y, x_val, y_val),
               compile=Compile("Adam", CURVE_LEARNING_RATE, loss="mse", metrics=()),
               fit=Fit(epochs=epochs, batch_size=n, validation_freq=every),
               probes={"curve": GRID}, probe_every=every, seed=seed, budget_s=budget_s).checked()


def digits_layers(*, width=256, depth=2, dropout=0.0, l2=0.0, augment=False):
    """The digits model: [random shifts] -> Flatten -> depth x Dense(width) [+ Dropout] -> softmax."""
    layers = [{"type": "RandomTranslation", "factor": 0.125}] if augment else []  # up to ±1 pixel of 8, interpolated
    layers.append({"type": "Flatten"})
    for _ in range(depth):
        layers.append({"type": "Dense", "units": width, "activation": "relu", "l2": l2})
        if dropout:
            layers.append({"type": "Dropout", "rate": dropout})
    layers.append({"type": "Dense", "units": 10, "activation": "softmax"})
    return layers


# The workbook (train split) of the digits, 1,437 images, minus a validation slice held out of it:
# training runs are compared on the validation slice; the test set (the mock exam) is scored once.
VALIDATION_IMAGES = 287  # the last fifth of the workbook
WORKBOOK = len(data.load_dataset("digits").x_train) - VALIDATION_IMAGES  # what is left to train on: 1,150
TEST_IMAGES = len(data.load_dataset("digits").x_test)  # the mock exam: 360


def digits_job(*, samples=100, width=256, depth=2, dropout=0.0, l2=0.0, augment=False, early_stopping=None,
               epochs=60, batch_size=Fit.batch_size, seed=0, budget_s=Job.budget_s):
    """Train on the first `samples` images of the workbook; watch the validation slice held out
    of it after every epoch (the loss also without the L2 penalty); keep the epoch of lowest
    val_loss (ModelCheckpoint); at the end score the final model in inference mode, and the
    kept one on the test set, once."""
    return Job(model=Stack(digits_layers(width=width, depth=depth, dropout=dropout, l2=l2, augment=augment), (8, 8, 1)),
               data=Images("digits", train_samples=samples, validation=VALIDATION_IMAGES, reshape=(8, 8, 1)),
               compile=Compile("Adam", 0.003),
               fit=Fit(epochs=epochs, batch_size=min(batch_size, samples),
                       early_stopping=early_stopping and EarlyStop(**early_stopping), checkpoint=True),
               seed=seed, budget_s=budget_s, data_loss=True, final_scores=True).checked()


def run_label(settings, lang):
    """A digits run in a few words: its images and size, then each cure it had on."""
    parts = [i18n.translate("overfitting.label.base", lang, **settings)]  # samples, width, depth
    if settings.get("dropout"):
        parts.append(f"Dropout {settings['dropout']:g}")
    if settings.get("l2"):
        parts.append(f"L2 {settings['l2']:g}")
    if settings.get("early_stopping"):
        parts.append(i18n.translate("overfitting.label.early", lang, patience=settings["early_stopping"]["patience"]))
    if settings.get("augment"):
        parts.append(i18n.translate("overfitting.label.augment", lang))
    return " · ".join(parts)


def kept_accuracy(history):
    """The validation accuracy of the epoch ModelCheckpoint keeps (the lowest val_loss): what
    runs are compared on; None before a validation."""
    best = best_epoch(history)
    return history["val_accuracy"][best - 1] if best else None


def runs_table(labels, runs):
    """The runs side by side, rounded for reading: fit's training accuracy (a running average over
    the last epoch, Dropout on); the final model in inference mode on the training and validation
    images, with Keras's val_loss (L2 penalty included) and the cross-entropy alone; the kept epoch
    and its validation accuracy, which runs are compared on."""
    def final(run, part, metric, digits=3):
        scores = run.final_scores()
        if part not in scores:
            return None  # still training
        if metric == "data_loss":  # Keras's loss less the penalty it added
            return round(scores[part]["loss"] - scores["penalty"], digits)
        return round(scores[part][metric], digits)

    histories = [run.history() for run in runs]
    return {"settings": list(labels), "epochs": [run.epochs_done() for run in runs],
            "train": [round(h["accuracy"][-1], 3) for h in histories],
            "train_eval": [final(run, "train", "accuracy") for run in runs],
            "validation": [final(run, "validation", "accuracy") for run in runs],
            "val_loss": [final(run, "validation", "loss", 4) for run in runs],
            "val_data_loss": [final(run, "validation", "data_loss", 4) for run in runs],
            "best": [best_epoch(h) for h in histories],
            "kept": [round(kept_accuracy(h), 3) if h.get("val_accuracy") else None for h in histories]}


def best_epoch(history):
    """The epoch (1-based) with the lowest validation loss: where training should have stopped."""
    losses = history.get("val_loss", [])
    return int(np.argmin(losses)) + 1 if losses else None


def gap(history):
    """Generalisation gap at the end: train accuracy minus validation accuracy (0 = no overfitting)."""
    if not history.get("accuracy") or not history.get("val_accuracy"):
        return None
    return history["accuracy"][-1] - history["val_accuracy"][-1]


def after_best(history):
    """What the losses did after the best epoch (validation after every epoch, as in digits_job):
    "split" — validation loss rose while training loss fell, the overfitting split; "rose" — it
    rose, but training loss did not fall either; "last" — the best epoch is the latest one, so
    validation loss was still falling. None before two epochs with a validation loss."""
    best, losses = best_epoch(history), history.get("val_loss", [])
    if len(losses) < 2:
        return None
    if best == len(losses):
        return "last"
    return "split" if history["loss"][-1] < history["loss"][best - 1] else "rose"


def numbers_text(history, lang, run=None):
    """The digits run in words, in `lang`: accuracies, gap, best epoch, and what the losses did
    after it — each claim read from `history`, the losses shown so the student can check; with
    the `run` once it has ended, the gap again in inference mode (Run.final_scores)."""
    best, loss, val_loss = best_epoch(history), history["loss"], history["val_loss"]
    text = i18n.translate("overfitting.numbers", lang, epochs=len(loss), train=f"{history['accuracy'][-1]:.3f}",
                          val=f"{history['val_accuracy'][-1]:.3f}", gap=f"{gap(history):.3f}", best=best)
    kind = after_best(history)
    if kind is not None:
        text += " " + i18n.translate(f"overfitting.after_best.{kind}", lang, low=f"{val_loss[best - 1]:.3g}",
                                     last=f"{val_loss[-1]:.3g}", prev=f"{val_loss[best - 2]:.3g}",
                                     train_then=f"{loss[best - 1]:.3g}", train_last=f"{loss[-1]:.3g}")
    final = run.final_scores() if run is not None else {}
    if "validation" in final:
        train, val = final["train"]["accuracy"], final["validation"]["accuracy"]
        dropout = any(layer["type"] == "Dropout" for layer in run.job.model.layers)
        key = "overfitting.inference" if dropout else "overfitting.inference_plain"
        text += "\n\n" + i18n.translate(key, lang, train=f"{history['accuracy'][-1]:.3f}",
                                         train_eval=f"{train:.3f}", val_eval=f"{val:.3f}",
                                         gap_eval=f"{train - val:.3f}", gap=f"{gap(history):.3f}")
    return text


def chosen(runs):
    """The index of the run chosen on validation — the highest validation accuracy at the epoch
    each keeps — among the runs that have ended; None when none has."""
    return best_on_validation([kept_accuracy(run.history()) if run.test_scores() else None for run in runs])


def choice_text(label, run, lang):
    """The chosen run and its test score, said once, with why."""
    history = run.history()
    return i18n.translate("overfitting.chosen", lang, label=label, kept=f"{kept_accuracy(history):.3f}",
                          epoch=best_epoch(history), test=TEST_IMAGES,
                          accuracy=f"{run.test_scores()['accuracy']:.3f}")


# --- Train mode and inference mode ---------------------------------------------------------------

DEMO_SIZE = 10  # the Dropout demo's vector of ones


@functools.lru_cache(maxsize=16)
def dropout_demo(rate, size=DEMO_SIZE, seed=0):
    """A real keras.layers.Dropout(rate) on a vector of ones, (training=True, training=False):
    in training a random share `rate` is 0 and the kept values are scaled by 1/(1 − rate), so the
    sum stays about the same; in inference mode (evaluate, predict) nothing changes."""
    import keras

    layer = keras.layers.Dropout(rate, seed=seed, name="dropout")
    x = np.ones((1, size), "float32")
    return np.asarray(layer(x, training=True))[0], np.asarray(layer(x, training=False))[0]


def l2_check(model):
    """The L2 penalty of `model` two ways: by numpy from its weights, λ·Σw² per regularized
    kernel (no ½), and as Keras adds it to the loss, the sum of `model.losses`.
    {"terms": [(λ, Σw²), ...], "numpy": ..., "keras": ...}."""
    terms = [(float(layer.kernel_regularizer.l2), float(np.sum(np.square(layer.kernel.numpy().astype("float64")))))
             for layer in model.layers if getattr(layer, "kernel_regularizer", None) is not None]
    return {"terms": terms, "numpy": sum(lam * squares for lam, squares in terms),
            "keras": float(sum(float(loss) for loss in model.losses))}


@functools.lru_cache(maxsize=16)
def run_l2_check(run):
    """`l2_check` of a finished run's final model (rebuilt from its weights once)."""
    return l2_check(run.model())


def dropout_text(rate, lang):
    """The Dropout demo in words, in `lang`, its numbers from `dropout_demo`."""
    trained, inferred = dropout_demo(rate)
    return i18n.translate("overfitting.dropout_demo", lang, rate=f"{rate:g}", size=DEMO_SIZE, trained=_shown(trained),
                          inferred=_shown(inferred), dropped=int(np.sum(trained == 0)),
                          scale=f"{1 / (1 - rate):.4g}", total=f"{float(np.sum(trained)):.4g}")


def _shown(vector):
    """A vector as the shown code prints it: a list of floats rounded to 3 decimals."""
    return str([round(float(v), 3) for v in vector])


def l2_text(labels, runs, lang):
    """The L2 penalty in words, in `lang`, from the latest finished run with L2 among `runs`
    (named by `labels`): λ·Σw² by numpy from its final weights beside Keras's model.losses, and
    its last val_loss split into cross-entropy and penalty; without such a run, what to do."""
    with_l2 = [k for k, run in enumerate(runs)
               if run.result and run.result.weights and any(layer.get("l2") for layer in run.job.model.layers)]
    if not with_l2:
        return i18n.translate("overfitting.l2_none", lang)
    label, run = labels[with_l2[-1]], runs[with_l2[-1]]
    check, history = run_l2_check(run), run.history()
    terms = " + ".join(f"{lam:g} × {squares:.4g}" for lam, squares in check["terms"])
    return i18n.translate("overfitting.l2_demo", lang, label=label, terms=terms, numpy=f"{check['numpy']:.4f}",
                          keras=f"{check['keras']:.4f}", val_loss=f"{history['val_loss'][-1]:.4f}",
                          val_ce=f"{history['val_data_loss'][-1]:.4f}", penalty=f"{history['penalty'][-1]:.4f}")
