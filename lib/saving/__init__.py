"""Save & load: a model as a `.keras` file, its weights alone, its architecture alone — and the
safe way back in, for a file a stranger uploaded.

The three levels Keras offers:
- the whole model: `to_bytes(model)` is the `.keras` file (a zip of `metadata.json`,
  `config.json` and `model.weights.h5`); `load_upload(data)` brings one back;
- the weights alone: `weights_to_bytes(model)` is a `.weights.h5` file; `load_weights_upload(data,
  model)` puts uploaded weights into a copy of an architecture the app already has;
- the architecture alone: `architecture_json(model)` is `model.to_json()`;
  `model_from_architecture(text)` is `keras.models.model_from_json`, checked first.

An upload is hostile until inspected. `inspect_archive(data)` reads a `.keras` file without
loading anything: the zip must hold exactly the members Keras writes, within size limits, and
its config may name only the layers, initializers, regularizers and modules this app uses; the
parameter count is worked out from the config and capped before a single weight is read. Only
then does `load_upload` hand the file to a separate loader process (memory- and time-limited,
used once and replaced) that checks the weight shapes and calls
`keras.saving.load_model(..., safe_mode=True, compile=False)`. The loader sends back plain data
(the config it re-serialised and the weights as raw numbers — never a pickle), and this process
rebuilds the model from that, after checking the config once more.

The server's own files (of a model it built: `open_own_file`) are loaded back in this process,
after the same inspection. A loaded upload is never run in this process: `open_upload` gives a
`Loaded` whose passes (the mock exam, one input through every layer) run in the loader's *host*
process for that file, priced first from the file's outline (lib.cost); the model rebuilt here is
for drawing and counting only.

Refusals raise `BadArchive` (not a model file) or `UnsafeModel` (a model this app will not load,
or whose pass hit its process's limits). Both carry a `code` and `details`; the page shows
`t(f"save_load.error.{code}", **details)` (ui.say).

Inside: `refusals` (the errors, the Keras version), `archive` (the zip), `config` (the allow-list and
the outline), `process` (one locked-down process, seen from here), `inside` (what runs in it),
`loader` (loads and hosts), `stranger` (a loaded model and its passes), `rebuild` (a model from
checked plain data), `class_files` (what the page shows of a model's files, the class model's kept).
Their public names are all here.
"""
import dataclasses
import hashlib
import json
import math
import os
import tempfile

from lib.saving.class_files import FileView, class_file_view, file_view
from lib.saving.archive import (ALLOWED_MEMBERS, HDF5_SIGNATURE, MAX_CONFIG_BYTES, MAX_UPLOAD_BYTES, ArchiveInfo,
                                Member, as_bytes, check_upload_size, inspect_archive)
from lib.saving.config import ALLOWED_LAYERS, MAX_PARAMS, LayerOutline, ModelOutline, check_config
from lib.saving.loader import LOAD_MEMORY_BYTES, Loader, get_loader
from lib.saving.stranger import Loaded, Sandboxed
from lib.saving.recent import Recent
from lib.saving.rebuild import assign_weights, deserialize, model_from_architecture
from lib.saving.refusals import ERROR_CODES, BadArchive, SavingError, UnsafeModel, check_keras_version

__all__ = ["ALLOWED_LAYERS", "ALLOWED_MEMBERS", "ERROR_CODES", "HDF5_SIGNATURE", "LOAD_MEMORY_BYTES", "FileView",
           "class_file_view", "file_view",
           "MAX_CONFIG_BYTES", "MAX_PARAMS", "MAX_UPLOAD_BYTES", "ArchiveInfo", "BadArchive", "LayerOutline",
           "LayerWeights", "Loaded", "Loader", "Member", "ModelOutline", "Sandboxed", "SavingError", "UnsafeModel", "WeightInfo",
           "architecture_json", "check_config", "check_keras_version", "continue_job", "describe_weights",
           "get_loader", "inspect_archive", "layer_rows", "load_upload", "load_weights_upload", "open_own_file", "open_upload",
           "open_weights_upload", "file_digest", "forget_files",
           "model_files", "model_from_architecture", "probe_inputs", "to_bytes", "weights_to_bytes"]

def _nbytes(value):
    """Bytes held by a cached answer: file contents, weight arrays, texts."""
    if isinstance(value, (bytes, str)):
        return len(value)
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v) for v in value)
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values()) + len(json.dumps(value, default=str))
    return int(getattr(value, "nbytes", 64))


# Bounded and keyed by content (see recent.py): a model's files, the loader's answer to an upload.
_FILES = Recent(entries=16, max_bytes=64 * 2 ** 20, size=_nbytes)
_ANSWERS = Recent(entries=16, max_bytes=64 * 2 ** 20, size=_nbytes)


def _digest(*parts):
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


# --- Saving ------------------------------------------------------------------------------------

def to_bytes(model):
    """The `.keras` file of `model`, as bytes (what `model.save("model.keras")` writes)."""
    import keras

    with tempfile.TemporaryDirectory(prefix="keras-classroom-") as directory:
        path = os.path.join(directory, "model.keras")
        keras.saving.save_model(model, path)
        with open(path, "rb") as f:
            return f.read()


def weights_to_bytes(model):
    """The weights alone, as a `.weights.h5` file (Keras insists on that ending)."""
    with tempfile.TemporaryDirectory(prefix="keras-classroom-") as directory:
        path = os.path.join(directory, "model.weights.h5")
        model.save_weights(path)
        with open(path, "rb") as f:
            return f.read()


def model_files(model):
    """(.keras file, .weights.h5 file, architecture JSON) of `model`, made once per content: a
    model with the same architecture and weights (the class model, a student's model on every
    rerun) gets the same bytes back, so loading them back is answered from `load_upload`'s cache."""
    architecture = architecture_json(model)
    import numpy as np

    key = _digest(architecture, *(np.ascontiguousarray(w).tobytes() for w in model.get_weights()))
    return _FILES.get(key, lambda: (to_bytes(model), weights_to_bytes(model), architecture))


def architecture_json(model):
    """The architecture alone: `model.to_json()`, layers and settings, no weights."""
    return model.to_json()


@dataclasses.dataclass(frozen=True)
class WeightInfo:
    """One weight tensor of a layer: its name ('kernel', 'bias'), shape and number count."""
    name: str
    shape: tuple
    count: int
    dtype: str
    trainable: bool


@dataclasses.dataclass(frozen=True)
class LayerWeights:
    """A layer's weights; `params` is what `model.summary()` prints in its "Param #" column."""
    name: str
    class_name: str
    weights: tuple
    params: int

    @property
    def bytes(self):
        return sum(w.count * _ITEMSIZE.get(w.dtype, 4) for w in self.weights)


_ITEMSIZE = {"float16": 2, "bfloat16": 2, "float32": 4, "float64": 8, "int32": 4, "int64": 8}


def describe_weights(model):
    """Every layer's weights (name, shape, count), in `model.layers` order: what the file's
    model.weights.h5 holds, and what `model.summary()` counts."""
    out = []
    for layer in model.layers:
        trainable = {id(v) for v in layer.trainable_weights}
        weights = tuple(WeightInfo(w.name, tuple(int(d) for d in w.shape), math.prod(int(d) for d in w.shape),
                                   str(w.dtype), id(w) in trainable) for w in layer.weights)
        out.append(LayerWeights(layer.name, type(layer).__name__, weights, sum(w.count for w in weights)))
    return out


# The constructor arguments a student reads first, when a config is shown layer by layer.
KEY_ARGUMENTS = ("units", "filters", "kernel_size", "strides", "padding", "activation", "pool_size", "rate",
                 "height_factor", "pieces", "batch_shape")


def layer_rows(info):
    """The config of an inspected file, layer by layer: name, class, the arguments that matter,
    output shape and parameter count (worked out from the config, before any weight is read)."""
    configs = {layer.get("config", {}).get("name"): layer.get("config", {})
               for layer in info.config.get("config", {}).get("layers", [])}
    rows = []
    for outline in info.model.layers:
        args = configs.get(outline.name, {})
        shown = ", ".join(f"{k}={args[k]}" for k in KEY_ARGUMENTS if args.get(k) not in (None, "linear", "valid")
                          and not (k == "batch_shape" and outline.class_name != "InputLayer"))
        rows.append({"layer": outline.name, "class": outline.class_name, "arguments": shown,
                     "output_shape": "(None, " + ", ".join(map(str, outline.output_shape)) + ")",
                     "params": outline.params})
    return rows


def probe_inputs(model, n=100, seed=0):
    """Inputs to compare two models' answers on: the first `n` digits of the bundled set when
    the model takes their 64 pixels, else seeded random numbers in 0..1 of its input shape."""
    import numpy as np

    shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    if math.prod(shape) == 64:
        from lib import data

        return np.stack([data.digit(k)[0] for k in range(n)]).reshape((n, *shape))
    return np.random.default_rng(seed).uniform(0, 1, (n, *shape)).astype("float32")


def continue_job(model, dataset, *, epochs=3, learning_rate=0.001, seed=0):
    """A training Job that starts from `model`'s weights (a file loaded back, or uploaded) and
    trains it further on a data set: the architecture travels as its checked JSON."""
    from lib import training

    return training.Job(model=training.Builder("lib.saving:model_from_architecture", {"text": architecture_json(model)}),
                        data=training.Images(dataset, reshape=tuple(int(d) for d in model.inputs[0].shape[1:])),
                        compile=training.Compile("Adam", learning_rate), fit=training.Fit(epochs, 32, 0.2),
                        start=tuple(model.get_weights()), seed=seed).checked()



# --- Loading an upload in a loader process ----------------------------------------------------

def _ask(loader, request, data, name, *, keep=False):
    """The loader's answer to `request` about `data`. The server's own loader is asked once per
    content (the same bytes get the same answer: see recent.py); a loader passed in, always. With
    `keep`, the process that loaded it stays as the file's host (see Sandboxed)."""
    key = _digest(json.dumps(request, sort_keys=True), data)
    if loader is not None:
        return loader.run(request, data, name, keep=key if keep else None)
    return _ANSWERS.get(key, lambda: get_loader().run(request, data, name, keep=key if keep else None))


def load_upload(data, *, loader=None, keep=False):
    """A model from an uploaded `.keras` file: inspected here (BadArchive / UnsafeModel), then
    loaded by `keras.saving.load_model(safe_mode=True, compile=False)` in a loader process, and
    rebuilt here from the plain data it sends back. The model is uncompiled. Never run it here:
    `open_upload` gives its passes, which run in the loader's host process."""
    check_keras_version()
    data = as_bytes(data, MAX_UPLOAD_BYTES)
    inspect_archive(data)
    header, arrays = _ask(loader, {"op": "load_model"}, data, "upload.keras", keep=keep)
    config = header.get("config")
    if not isinstance(config, dict):
        raise BadArchive("load_failed", "the loader sent no config", message="no config")
    check_config(config)  # what the loader sends back is checked like the upload itself
    return assign_weights(deserialize(config), arrays)


def load_weights_upload(data, model, *, loader=None, keep=False):
    """A copy of `model` (same architecture, uncompiled) holding the weights of an uploaded
    `.weights.h5` file; `model` itself is left as it was. The file is only ever read as weights:
    an HDF5 file within MAX_UPLOAD_BYTES, whose every weight has the shape the model expects
    (BadArchive 'weights_mismatch', 'weights_missing', 'weights_extra' otherwise), checked in the
    loader process before Keras assigns anything."""
    check_keras_version()
    data = as_bytes(data, MAX_UPLOAD_BYTES)
    check_upload_size(data, MAX_UPLOAD_BYTES)
    if not data.startswith(HDF5_SIGNATURE):
        raise BadArchive("not_weights", "not an HDF5 weights file")
    architecture = architecture_json(model)
    check_config(json.loads(architecture))
    _, arrays = _ask(loader, {"op": "load_weights", "architecture": architecture}, data, "upload.weights.h5",
                     keep=keep)
    return assign_weights(deserialize(json.loads(architecture)), arrays)


# --- A loaded model, as the pages hold it -------------------------------------------------------

def file_digest(data):
    """The name of a file's content: two uploads of the same bytes are the same file."""
    return hashlib.sha256(as_bytes(data, MAX_UPLOAD_BYTES)).hexdigest()


def _passes_bytes(passes):
    """What a file's passes hold here: its bytes (to load it again into a new host) and the weights
    of its rebuilt copy."""
    return len(getattr(passes, "_data", b"")) + sum(w.nbytes for w in passes.model.get_weights())


# The passes of every file opened lately, shared by the sessions that open the same bytes: the
# rebuilt copy is read, never run or changed here, so a class opening one file rebuilds it once, and
# a page that opens its file again on every rerun costs a lookup.
_OPENED = Recent(entries=8, max_bytes=256 * 2 ** 20, size=_passes_bytes)


def forget_files():
    """Drop what the saving caches hold for the class (files saved, answers of the loader, models
    opened): run when the class has left (lib.server.on_class_left), so an idle server holds none
    of a day's uploads."""
    for cache in (_FILES, _ANSWERS, _OPENED):
        cache.clear()


def _open(kind, data, make, loader):
    return make() if loader is not None else _OPENED.get((kind, file_digest(data)), make)


def open_upload(data, name, *, loader=None):
    """A stranger's `.keras` file, loaded (see load_upload) and ready to be run in the loader's host
    process: a `Loaded` whose passes are Sandboxed, priced from the file's outline."""
    data = as_bytes(data, MAX_UPLOAD_BYTES)
    load = {"op": "load_model"}

    def make():
        model = load_upload(data, loader=loader, keep=True)
        return Sandboxed(model, data, load, _digest(json.dumps(load, sort_keys=True), data),
                         inspect_archive(data).model.cost, loader=loader)

    return Loaded(name, file_digest(data), _open("keras", data, make, loader))


def open_weights_upload(data, model, name, *, loader=None):
    """A stranger's `.weights.h5` file in a copy of `model`'s architecture (see load_weights_upload),
    run like an upload: a `Loaded` whose passes are Sandboxed."""
    data = as_bytes(data, MAX_UPLOAD_BYTES)
    load = {"op": "load_weights", "architecture": architecture_json(model)}

    def make():
        theirs = load_weights_upload(data, model, loader=loader, keep=True)
        outline = check_config(json.loads(load["architecture"]))
        return Sandboxed(theirs, data, load, _digest(json.dumps(load, sort_keys=True), data), outline.cost,
                         loader=loader)

    return Loaded(name, file_digest(data), _open(("weights", _digest(load["architecture"])), data, make, loader))


def open_own_file(data, name):
    """A `.keras` file this server wrote of a model it built (`model_files`; the class model's is
    kept in the app's private folder, as the class model itself is), loaded back here by
    `keras.saving.load_model(safe_mode=True, compile=False)` after the checks an upload gets.
    Not a stranger's bytes, so not through a loader process, whose start (TensorFlow's import,
    2.3-2.6 s) a fresh server's Save & load page waited for; it runs here, as any model the
    server built."""
    from lib.passes import InProcess

    data = as_bytes(data, MAX_UPLOAD_BYTES)

    def make():
        check_keras_version()
        inspect_archive(data)
        return InProcess(_load_here(data))

    return Loaded(name, file_digest(data), _open("own", data, make, None))


def _load_here(data):
    """`keras.saving.load_model` of the file `data`, in this process (for the server's own files)."""
    import keras

    import lib.activations  # noqa: F401  registers Maxout

    with tempfile.TemporaryDirectory(prefix="keras-classroom-") as directory:
        path = os.path.join(directory, "model.keras")
        with open(path, "wb") as f:
            f.write(data)
        return keras.saving.load_model(path, safe_mode=True, compile=False)
