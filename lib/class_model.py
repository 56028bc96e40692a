"""The class model: a small CNN every session shares, trained once per server process on a data
set's recipe (seeded, in a fixed order, so every server trains the same model), never changed.
The Convolution filters page shows its learned kernels, Evaluate grades it, Save & load saves it."""
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
CLASS_RECIPES = {  # data set: (layers preset or list, input shape, training images, epochs, learning rate)
    "digits": ("digits_cnn", (8, 8, 1), None, 15, 0.01),
    "mnist": ([{"type": "Conv2D", "filters": 8, "kernel_size": 3, "activation": "relu"},
               {"type": "MaxPooling2D", "pool_size": 2}, {"type": "Flatten"},
               {"type": "Dense", "units": 32, "activation": "relu"},
               {"type": "Dense", "units": 10, "activation": "softmax"}], (28, 28, 1), 12_000, 3, 0.003),
}
_training = threading.Lock()


def class_model(dataset="digits"):
    """The class model of a data set: a small CNN trained once per server process (the first
    caller trains it, the others wait for the same one), shared by every session, never changed.
    "digits" is always there; "mnist" needs MNIST in the Keras cache (`lib.data.is_cached`)."""
    with _training:
        return _train_class_model(dataset)


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
    model.fit(d.x_train[order][..., None], d.y_train[order], epochs=epochs, batch_size=CLASS_BATCH_SIZE, shuffle=False, verbose=0)
    _, accuracy = model.evaluate(d.x_test[..., None], d.y_test, verbose=0)
    return ClassModel(model, dataset, tuple(dict(layer) for layer in layers), shape, len(order), epochs, rate,
                      float(accuracy))
