"""What a `.keras` file holds beside the layers' weights — the optimizer's state — and what that
state changes when training goes on.

A model that was compiled and trained saves its optimizer into `model.weights.h5` next to the
layers (Keras's `Model.save`: "the state of the optimizer"). Adam keeps two numbers for every
trainable weight — m, a running mean of its gradient, and v, a running mean of the gradient
squared — plus its step counter and its learning rate: about twice the weights again.

`weights_file(model)` measures every part from the file the server writes for `model`
(`lib.saving.model_files`): the server's own file, never a stranger's — an upload's HDF5 is read
only in a loader process (lib.saving.inside). `keep_training` is `keras.saving.load_model` + `fit`,
either with the optimizer the file saved or with a fresh one; `restarts` runs it both ways for the
class model, and `weights_parts` is the count the shown code prints too.
"""
import dataclasses
import io
import os
import tempfile
import threading
import zipfile

import h5py
import numpy as np

from lib.i18n import translate

COUNTERS = ("iteration", "learning_rate")  # the optimizer's scalars; its other variables are per weight


# --- What model.weights.h5 holds ---------------------------------------------------------------

def weights_parts(weights, model):
    """{part: (values, bytes)} of an open model.weights.h5 (h5py) saved from `model`: each layer's
    weights under the layer's name, and the optimizer's state as "optimizer/<slot>" — Adam's
    "momentum" (m), "velocity" (v), its "iteration" counter and "learning_rate" — named after the
    optimizer's own variables, which Keras saves in their order. Bytes: what the file stores for
    the numbers."""
    parts = {}

    def count(path, item):
        if not isinstance(item, h5py.Dataset):
            return
        if path.startswith("optimizer/"):
            name = model.optimizer.variables[int(path.rsplit("/", 1)[1])].path.rsplit("/", 1)[1]
            part = "optimizer/" + (name if name in ("iteration", "learning_rate") else name.rsplit("_", 1)[1])
        else:
            part = item.parent.attrs["name"]
        values, stored = parts.get(part, (0, 0))
        parts[part] = (values + item.size, stored + item.id.get_storage_size())

    weights.visititems(count)
    return parts


@dataclasses.dataclass(frozen=True)
class Part:
    """One part of model.weights.h5: a layer's weights (by the layer's name) or an optimizer slot."""
    name: str
    values: int
    bytes: int


@dataclasses.dataclass(frozen=True)
class WeightsFile:
    """model.weights.h5 of a model's `.keras` file, measured part by part."""
    size: int  # the member, in bytes
    layers: tuple  # Part per layer of the model, in its order (0 for a layer without weights)
    slots: tuple  # Part per optimizer slot ("momentum", "velocity", "iteration", "learning_rate"); ()
    optimizer: str  # the optimizer's class ("Adam"), "" for a model never compiled
    step: int  # the optimizer's step counter as saved (0 without one)
    learning_rate: float  # as saved (None without an optimizer)

    @property
    def layer_values(self):
        return sum(p.values for p in self.layers)

    @property
    def layer_bytes(self):
        return sum(p.bytes for p in self.layers)

    @property
    def optimizer_values(self):
        return sum(p.values for p in self.slots)

    @property
    def optimizer_bytes(self):
        return sum(p.bytes for p in self.slots)

    @property
    def bookkeeping(self):
        """Bytes of HDF5's own: group and attribute names, shapes, indexes."""
        return self.size - self.layer_bytes - self.optimizer_bytes

    def numbers(self):
        """The numbers the page says about the file, written for reading."""
        return {"size": f"{self.size:,}", "layer_bytes": f"{self.layer_bytes:,}",
                "layer_values": f"{self.layer_values:,}", "optimizer_bytes": f"{self.optimizer_bytes:,}",
                "optimizer_values": f"{self.optimizer_values:,}", "optimizer": self.optimizer,
                "step": f"{self.step:,}", "bookkeeping": f"{self.bookkeeping:,}",
                "rate": "" if self.learning_rate is None else f"{self.learning_rate:g}"}


def weights_file(model):
    """WeightsFile of the `.keras` file the server writes for `model` (its own file: see the
    module's docstring), measured once per file (~10 ms: not on every rerun of the page)."""
    from lib.saving import file_digest, model_files

    digest = file_digest(model_files(model)[0])
    if digest not in _MEASURED:
        if len(_MEASURED) >= 32:  # the class model, students' runs and stacks: a few files
            _MEASURED.pop(next(iter(_MEASURED)))
        _MEASURED[digest] = _measure(model)
    return _MEASURED[digest]


_MEASURED = {}  # a .keras file's sha256 -> its WeightsFile (a file's bytes decide every number)


def _measure(model):
    """The HDF5 is walked first as the loader walks an upload's (no link, no external data, no odd
    type), then counted with `weights_parts`."""
    from lib.saving import model_files
    from lib.saving.archive import read_member
    from lib.saving.inside import _h5_datasets

    with zipfile.ZipFile(io.BytesIO(model_files(model)[0])) as archive:
        member = read_member(archive, archive.getinfo("model.weights.h5"))
    optimizer = getattr(model, "optimizer", None)
    with h5py.File(io.BytesIO(member), "r") as weights:
        _h5_datasets(weights)
        parts = weights_parts(weights, model)
        saved = {name: weights[f"optimizer/vars/{k}"][()] for k, name in enumerate(_variable_names(optimizer))
                 if name in COUNTERS and "optimizer" in weights}
    layers = tuple(Part(layer.name, *parts.get(layer.name, (0, 0))) for layer in model.layers)
    slots = tuple(Part(name.split("/", 1)[1], *counts) for name, counts in parts.items()
                  if name.startswith("optimizer/"))
    order = {slot: k for k, slot in enumerate(("momentum", "velocity", *COUNTERS))}
    return WeightsFile(len(member), layers, tuple(sorted(slots, key=lambda p: order.get(p.name, len(order)))),
                       type(optimizer).__name__ if slots else "", int(saved.get("iteration", 0)),
                       float(saved["learning_rate"]) if "learning_rate" in saved else None)


def _variable_names(optimizer):
    return [v.path.rsplit("/", 1)[1] for v in optimizer.variables] if optimizer is not None else []


def weight_shapes(model):
    """{layer name: its weights' names and shapes} as the parts table says them ("kernel (3, 3, 1, 8) · bias (8,)")."""
    from lib.saving import describe_weights

    return {w.name: " · ".join(f"{v.name} {v.shape}" for v in w.weights) or "–" for w in describe_weights(model)}


def rows_of(shapes, file, lang):
    """The table of model.weights.h5, part by part: each layer (its weights' shapes, from
    `weight_shapes`), each slot of the optimizer (what it is), HDF5's bookkeeping, the total —
    values and bytes."""
    rows = [(p.name, shapes.get(p.name, "–"), p.values, p.bytes) for p in file.layers]
    rows += [(f"optimizer/{p.name}", slot_text(p.name, lang), p.values, p.bytes) for p in file.slots]
    rows.append((translate("save_load.part.bookkeeping", lang), translate("save_load.part.bookkeeping_what", lang),
                 None, file.bookkeeping))
    rows.append(("model.weights.h5", "", file.layer_values + file.optimizer_values, file.size))
    return {name: [row[k] for row in rows] for k, name in enumerate(("part", "holds", "values", "bytes"))}


def slot_text(slot, lang):
    """What an optimizer slot is, in words ("m: a running mean of each weight's gradient")."""
    return translate(f"save_load.slot.{slot}", lang) if slot in ("momentum", "velocity", *COUNTERS) else slot


# --- Training on from a file: the saved optimizer, or a fresh one --------------------------------

def keep_training(path, optimizer, x, y, *, epochs, batch_size):
    """The `.keras` file at `path` loaded and trained `epochs` more on (x, y), in order. With
    `optimizer=None` its own optimizer goes on from the state the file saved (what `load_model`
    followed by `fit` does); otherwise it is loaded uncompiled and compiled with `optimizer`, new.
    Returns (the optimizer's step at the start, the loss on (x, y) before, fit's loss of each
    epoch, the loss on (x, y) after)."""
    import keras  # here, not above: the Save & load page's title need not wait for it

    model = keras.saving.load_model(path, compile=optimizer is None)
    if optimizer is not None:
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    step = int(model.optimizer.iterations)
    before = model.evaluate(x, y, batch_size=batch_size, verbose=0)[0]
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=False, verbose=0)
    return step, before, history.history["loss"], model.evaluate(x, y, batch_size=batch_size, verbose=0)[0]


@dataclasses.dataclass(frozen=True)
class Restart:
    """`keep_training` once: how the optimizer started ("restored" from the file, "fresh" with the
    same class and rate, "button": as the page's button starts it) and the losses it gave."""
    how: str
    optimizer: str
    learning_rate: float
    step: int
    before: float
    losses: tuple
    after: float


def class_training_data(shared):
    """The class model's training images and labels, in the order it trained on them
    (lib.class_model: a seeded permutation of the train split, the first `train_samples`)."""
    from lib import data
    from lib.class_model import CLASS_SEED

    d = data.load_dataset(shared.dataset, seed=CLASS_SEED)
    order = np.random.default_rng(CLASS_SEED).permutation(len(d.x_train))[:shared.train_samples]
    return d.x_train[order][..., None], d.y_train[order]


def same_optimizer(optimizer):
    """(class name, learning rate as float32 keeps it) of a Keras optimizer or of such a pair: two
    optimizers are alike when these are equal (0.01 and the 0.0099999998 Keras saved are)."""
    if isinstance(optimizer, tuple):
        return str(optimizer[0]), float(np.float32(optimizer[1]))
    return type(optimizer).__name__, float(np.float32(optimizer.learning_rate))


_RUNNING = threading.Lock()  # a class opening the page together trains these once, not thirty times


def fresh_start(job):
    """What the page's Keep training button starts a loaded model with (a lib.saving.continue_job):
    its epochs, and its fresh optimizer's class and learning rate."""
    return {"epochs": job.fit.epochs, "optimizer": job.compile.optimizer, "rate": f"{job.compile.learning_rate:g}"}


def button_start(shared):
    """((optimizer class, learning rate), epochs) of the Keep training button for the class model
    `shared`: lib.saving.continue_job's, so the comparison follows the button."""
    from lib.saving import continue_job

    job = continue_job(shared.model, shared.dataset)
    return same_optimizer((job.compile.optimizer, job.compile.learning_rate)), job.fit.epochs


def restarts(dataset):
    """The class model of `dataset` trained on from its own `.keras` file, as many epochs as the
    page's button trains, on its own training data in the same order: with the optimizer the file
    restores, with a fresh one of the same class and learning rate, and with the button's fresh one
    when that differs. A tuple of Restart, made once per server process (on a student's click:
    nine epochs of training are not drawn on a page visit)."""
    with _RUNNING:
        if dataset not in _MADE:
            _MADE[dataset] = _restarts(dataset)
        return _MADE[dataset]


def made_restarts(dataset):
    """The restarts of `dataset` if this server has made them already, else None."""
    return _MADE.get(dataset)


_MADE = {}  # dataset -> its restarts (a handful of numbers; at most one per data set)


def _restarts(dataset):
    import keras

    from lib.class_model import CLASS_BATCH_SIZE, class_model
    from lib.saving import model_files

    shared = class_model(dataset)
    button, epochs = button_start(shared)
    same = same_optimizer(shared.model.optimizer)
    starts = [("restored", same), ("fresh", same)] + ([("button", button)] if button != same else [])
    x, y = class_training_data(shared)
    out = []
    with tempfile.TemporaryDirectory(prefix="keras-classroom-") as directory:
        path = os.path.join(directory, "model.keras")
        with open(path, "wb") as f:
            f.write(model_files(shared.model)[0])
        for how, (name, rate) in starts:
            optimizer = None if how == "restored" else getattr(keras.optimizers, name)(learning_rate=rate)
            step, before, losses, after = keep_training(path, optimizer, x, y, epochs=epochs,
                                                        batch_size=CLASS_BATCH_SIZE)
            out.append(Restart(how, name, rate, step, float(before), tuple(float(v) for v in losses), float(after)))
    return tuple(out)


def restart_setup(runs):
    """How the restarts were trained, for the page's sentence: epochs each, batch size."""
    from lib.class_model import CLASS_BATCH_SIZE

    return {"epochs": len(runs[0].losses), "batch": CLASS_BATCH_SIZE}


def restart_numbers(runs):
    """What the page says under the comparison: the restored run's step and first loss, the fresh
    run's first loss (same optimizer, same rate), the loss before either."""
    restored, fresh = runs[:2]
    return {"optimizer": restored.optimizer, "step": f"{restored.step:,}", "restored": f"{restored.losses[0]:.4f}",
            "fresh": f"{fresh.losses[0]:.4f}", "before": f"{restored.before:.4f}"}


def restart_rows(runs, lang):
    """The comparison as a table: how each run started, its optimizer, its step, fit's loss of
    each epoch, the loss after."""
    columns = {"start": [translate(f"save_load.restart.{r.how}", lang) for r in runs],
               "optimizer": [f"{r.optimizer}(learning_rate={r.learning_rate:g})" for r in runs],
               "step": [r.step for r in runs]}
    for k in range(len(runs[0].losses)):
        columns[translate("save_load.restart.epoch", lang, epoch=k + 1)] = [round(r.losses[k], 4) for r in runs]
    columns["after"] = [round(r.after, 4) for r in runs]
    return columns
