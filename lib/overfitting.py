"""Overfitting: a model that learns the workbook by heart instead of the subject — and the cures.

Two views. A 1-D one: a few noisy points from a known curve and a wide network that, given
enough epochs, bends through every point. And the digits: a small training set, a big model,
many epochs — training and validation loss split apart. The cures are switches on the same job:
more data, a smaller model, Dropout, L2, EarlyStopping, small random shifts of the images.
"""
import numpy as np

from lib import data, i18n
from lib.training import Arrays, Builder, Compile, EarlyStop, Fit, Images, Job, Stack

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
    of it after every epoch; score the test set once, at the end."""
    return Job(model=Stack(digits_layers(width=width, depth=depth, dropout=dropout, l2=l2, augment=augment), (8, 8, 1)),
               data=Images("digits", train_samples=samples, validation=VALIDATION_IMAGES, reshape=(8, 8, 1)),
               compile=Compile("Adam", 0.003),
               fit=Fit(epochs=epochs, batch_size=min(batch_size, samples),
                       early_stopping=early_stopping and EarlyStop(**early_stopping)),
               seed=seed, budget_s=budget_s).checked()


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


def numbers_text(history, lang):
    """The digits run in words, in `lang`: accuracies, gap, best epoch, and what the losses did
    after it — each claim read from `history`, the losses shown so the student can check."""
    best, loss, val_loss = best_epoch(history), history["loss"], history["val_loss"]
    text = i18n.translate("overfitting.numbers", lang, epochs=len(loss), train=f"{history['accuracy'][-1]:.3f}",
                          val=f"{history['val_accuracy'][-1]:.3f}", gap=f"{gap(history):.3f}", best=best)
    kind = after_best(history)
    if kind is None:
        return text
    after = i18n.translate(f"overfitting.after_best.{kind}", lang, low=f"{val_loss[best - 1]:.3g}",
                           last=f"{val_loss[-1]:.3g}", prev=f"{val_loss[best - 2]:.3g}",
                           train_then=f"{loss[best - 1]:.3g}", train_last=f"{loss[-1]:.3g}")
    return f"{text} {after}"
