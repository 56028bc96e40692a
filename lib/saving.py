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

Refusals raise `BadArchive` (not a model file) or `UnsafeModel` (a model this app will not
load). Both carry a `code` and `details`; the page shows `t(f"save_load.error.{code}", **details)`.
"""
import dataclasses
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from multiprocessing.connection import Client, Listener

from lib import models

# --- Limits ------------------------------------------------------------------------------------
# Sizes are decimal (1 MB = 1,000,000 bytes), as the messages say them.

MIN_KERAS_VERSION = (3, 15, 1)  # earlier Keras 3 releases have published safe_mode bypasses

# The biggest model the app lets anyone build has MAX_PARAMS = 2,000,000 parameters: 8 MB of
# float32 weights. A student who trains such a model with Adam and saves it gets two more copies
# (Adam's moment estimates) in the weights file: measured 23.6 MB for 1.96 M parameters. 32 MB
# takes that with room for HDF5's overhead, and nothing much bigger.
MAX_UPLOAD_BYTES = 32_000_000  # the file as uploaded (.keras or .weights.h5)
MAX_WEIGHTS_BYTES = 32_000_000  # model.weights.h5 inside a .keras, unpacked
# Keras writes ~600 bytes of config per layer (measured: 4,726 bytes for the 8-layer Overfitting
# model); a 20-layer stack is ~12 KB. 250 KB is 20x that, and bounds the JSON parser's work.
MAX_CONFIG_BYTES = 250_000
MAX_METADATA_BYTES = 4_000  # Keras writes 64 bytes: {"keras_version": ..., "date_saved": ...}
MAX_UNPACKED_BYTES = MAX_WEIGHTS_BYTES + MAX_CONFIG_BYTES + MAX_METADATA_BYTES
# Keras stores members uncompressed (ratio 1.0). Re-zipped by hand, float weights shrink ~1.1x
# and JSON ~10x; a zip bomb of zeros is ~1000x. A member over 1 MB may expand at most 100x (a
# tiny member may be mostly padding and compress far more, harmlessly: its size is capped anyway).
MAX_COMPRESSION_RATIO = 100
RATIO_FLOOR_BYTES = 1_000_000
# A central-directory record per member: Keras writes 3. Counted in the raw bytes before Python's
# zipfile builds an object per record, so a directory of a million entries costs nothing.
MAX_DIRECTORY_RECORDS = 1_000

MAX_PARAMS = models.MAX_PARAMS  # what the builder allows; an upload may not be bigger
MAX_LAYERS = 2 * models.MAX_LAYERS  # the app builds at most 20 (+ the input); room for a student's own
# Numbers one example produces at any layer: the app's largest is far below 1 M (a 32x32x3 image
# through Conv2D); 16.8 M float32 values is 64 MB per example, already a lot for a shared server.
MAX_LAYER_OUTPUT = 2 ** 24
MAX_CONFIG_DEPTH = 32  # nesting of a Functional config is ~12; deeper is not a Keras config
MAX_H5_OBJECTS = 10_000  # groups + datasets in a weights file: ~5 per layer in what Keras writes

# The loader process. Measured (2 CPU cores, TF 2.21): its start (TensorFlow's import) takes
# 2.3-2.6 s; loading a 1.96 M-parameter model takes 0.2-0.45 s inside it (0.35-0.65 s end to end)
# and +80 MB of private memory above its idle 293 MB.
LOAD_SECONDS = 20.0  # wall clock for one load, sending and receiving included; then it is killed
LOAD_CPU_SECONDS = 30  # RLIMIT_CPU beyond what the import used: a busy-looping file dies
# RLIMIT_DATA above the idle loader's private writable memory (VmData ~375 MB after TF's import). Not
# RLIMIT_AS: TensorFlow reserves address space for every thread (measured: +265 MB of VmSize for
# 3 threads while loading), so an address-space cap that fits the idle loader fails a legitimate
# load, and one loose enough for that no longer limits anything.
LOAD_MEMORY_BYTES = 512_000_000
START_SECONDS = 120.0  # TensorFlow's import on a busy server
MAX_RESULT_BYTES = MAX_PARAMS * 8 + 1_000_000  # the weights sent back (float64 at worst)
MAX_HEADER_BYTES = 4_000_000  # the re-serialised config and the arrays' shapes

ALLOWED_MEMBERS = ("metadata.json", "config.json", "model.weights.h5")
_MEMBER_LIMITS = {"metadata.json": MAX_METADATA_BYTES, "config.json": MAX_CONFIG_BYTES,
                  "model.weights.h5": MAX_WEIGHTS_BYTES}
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_ZIP_LOCAL = b"PK\x03\x04"
_ZIP_EMPTY = b"PK\x05\x06"
_ZIP_DIRECTORY = b"PK\x01\x02"

# --- What a config may name --------------------------------------------------------------------
# (module, class_name) pairs, exactly as Keras 3.15.1 writes them for the models this app builds
# (checked by saving each: the presets, the seed MLP, Maxout stacks, RandomTranslation + Dropout
# + L2) and for a model a student compiled and trained (optimizers, losses and metrics appear in
# `compile_config`, which `compile=False` never deserialises — allowed by name all the same).
ALLOWED_LAYERS = ("InputLayer", "Dense", "Conv2D", "MaxPooling2D", "AveragePooling2D", "Flatten",
                  "Dropout", "Activation", "RandomTranslation", "Maxout")
_ALLOWED = {
    "keras": {"Sequential", "DTypePolicy"},
    "keras.src.models.functional": {"Functional"},
    "keras.layers": set(ALLOWED_LAYERS) - {"Maxout"},
    "lib.activations": {"Maxout"},  # the app's own layer, found by its registered name only
    "keras.initializers": {"Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform",
                           "TruncatedNormal", "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal",
                           "LecunUniform", "LecunNormal", "VarianceScaling", "Orthogonal"},
    "keras.regularizers": {"L1", "L2", "L1L2"},
    "keras.constraints": {"MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm"},
    "keras.optimizers": {"SGD", "RMSprop", "Adam", "Adagrad", "Adadelta", "Adamax", "Nadam", "AdamW", "Lion"},
    "keras.optimizers.schedules": {"ExponentialDecay", "InverseTimeDecay", "PiecewiseConstantDecay",
                                   "PolynomialDecay", "CosineDecay"},
    "keras.losses": {"MeanSquaredError", "MeanAbsoluteError", "Huber", "BinaryCrossentropy",
                     "CategoricalCrossentropy", "SparseCategoricalCrossentropy"},
    "keras.metrics": {"Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
                      "MeanSquaredError", "MeanAbsoluteError", "Mean"},
}
_REGISTERED = {("lib.activations", "Maxout"): "keras_classroom>Maxout"}
_MODEL_CLASSES = ("Sequential", "Functional")
# Refused by name, with the reason the student sees: each runs code or reads files when loaded.
FORBIDDEN_CLASSES = ("Lambda", "__lambda__", "TFSMLayer", "TorchModuleWrapper", "JaxLayer", "FlaxLayer",
                     "StringLookup", "IntegerLookup", "TextVectorization")
_TENSOR_REFERENCE = "__keras_tensor__"  # how a Functional config says "the output of layer x"
# Names a config may give as plain strings (Keras looks them up in its own modules).
ACTIVATION_NAMES = ("linear", "relu", "relu6", "sigmoid", "hard_sigmoid", "log_sigmoid", "tanh", "softmax",
                    "log_softmax", "elu", "selu", "celu", "gelu", "silu", "swish", "hard_silu", "hard_swish",
                    "softplus", "softsign", "exponential", "leaky_relu", "mish", "hard_tanh", "tanh_shrink",
                    "soft_shrink", "hard_shrink", "sparse_plus", "sparse_sigmoid", "squareplus", "sparsemax")
# ("glu" is left out: it halves the last dimension, which the shape follower below does not model.)
_STRING_NAMES = {
    "_initializer": {"zeros", "zero", "ones", "one", "constant", "random_normal", "normal", "random_uniform",
                     "uniform", "truncated_normal", "glorot_uniform", "glorot_normal", "he_uniform",
                     "he_normal", "lecun_uniform", "lecun_normal", "variance_scaling", "orthogonal"},
    "_regularizer": {"l1", "l2", "l1l2"},
    "_constraint": {"max_norm", "min_max_norm", "non_neg", "unit_norm"},
}
DTYPES = ("float16", "bfloat16", "float32", "float64", "mixed_float16", "mixed_bfloat16")


# --- Refusals ----------------------------------------------------------------------------------

class SavingError(ValueError):
    """A file this app refuses. `code` names the reason (the page translates
    `save_load.error.<code>`), `details` the values its message needs."""

    def __init__(self, code, summary, **details):
        super().__init__(summary)
        self.code, self.details = code, details


class BadArchive(SavingError):
    """Not a model file this app can read: not a zip, wrong members, truncated, too big, a zip
    bomb, a legacy `.h5`, broken JSON, weights that do not fit the config."""


class UnsafeModel(SavingError):
    """A model file this app will not load: a forbidden or unknown class or module, too many
    parameters, a loader that ran out of time or memory — or a Keras too old to load safely."""


ERROR_CODES = {
    BadArchive: ("empty", "too_big", "legacy_h5", "not_a_zip", "truncated", "too_many_members",
                 "unsafe_member_name", "duplicate_member", "encrypted", "symlink", "unsupported_compression",
                 "unexpected_member", "missing_member", "member_too_big", "too_big_unpacked", "zip_bomb",
                 "corrupt", "bad_json", "bad_config", "not_a_model", "no_input_shape", "config_mismatch",
                 "bad_weights", "h5_link", "not_weights", "weights_mismatch", "weights_missing",
                 "weights_extra", "load_failed"),
    UnsafeModel: ("forbidden_class", "unknown_class", "unknown_module", "function", "unknown_name",
                  "unsupported_config", "too_many_params", "too_many_layers", "too_large_output",
                  "keras_too_old", "too_slow", "too_much_memory", "loader_failed"),
}
_KIND = {cls.__name__: cls for cls in ERROR_CODES}


def _size_text(n):
    """A byte count as a student reads it: '31.2 MB', '250 KB', '64 B'."""
    for unit, scale in (("MB", 1_000_000), ("KB", 1_000)):
        if n >= scale:
            return f"{n / scale:.1f}".rstrip("0").rstrip(".") + f" {unit}"
    return f"{n} B"


def _shape_text(shape):
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _plain(error, limit=300):
    """An exception as one readable line (no terminal colours), cut to `limit` characters."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip().splitlines()
    text = text[0] if text else type(error).__name__
    return text if len(text) <= limit else text[:limit] + "…"


# --- Keras version -----------------------------------------------------------------------------

def check_keras_version(version=None):
    """UnsafeModel('keras_too_old') unless Keras (the installed one, or `version`) is at least
    MIN_KERAS_VERSION: before 3.15.1, published files get past safe_mode."""
    if version is None:
        import keras

        version = keras.__version__
    match = re.match(r"(\d+)\.(\d+)\.(\d+)", str(version))
    found = tuple(int(x) for x in match.groups()) if match else (0, 0, 0)
    if found < MIN_KERAS_VERSION:
        required = ".".join(map(str, MIN_KERAS_VERSION))
        raise UnsafeModel("keras_too_old", f"Keras {version} is older than {required}",
                          version=str(version), required=required)


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


# --- Inspecting a .keras file without loading it -----------------------------------------------

@dataclasses.dataclass(frozen=True)
class Member:
    """One file inside the zip: its name, unpacked size and size as stored."""
    name: str
    size: int
    compressed_size: int


@dataclasses.dataclass(frozen=True)
class LayerOutline:
    """A layer as the config describes it, with the shapes and parameters worked out by hand."""
    name: str
    class_name: str
    input_shape: tuple
    output_shape: tuple  # without the batch dimension
    params: int


@dataclasses.dataclass(frozen=True)
class ModelOutline:
    """A model config, checked: its class, name, layers and parameter count (from the config)."""
    class_name: str
    name: str
    input_shape: tuple
    output_shape: tuple
    layers: tuple  # LayerOutline, InputLayer first

    @property
    def params(self):
        return sum(layer.params for layer in self.layers)

    @property
    def layer_classes(self):
        return [layer.class_name for layer in self.layers]


@dataclasses.dataclass(frozen=True)
class ArchiveInfo:
    """What `inspect_archive` found in a `.keras` file (nothing of it was loaded)."""
    size: int  # the file as uploaded
    members: tuple  # Member, in the zip's order
    metadata: dict  # metadata.json as written: keras_version, date_saved
    config: dict  # config.json
    model: ModelOutline

    @property
    def unpacked_size(self):
        return sum(m.size for m in self.members)

    @property
    def keras_version(self):
        return self.metadata.get("keras_version")

    @property
    def date_saved(self):
        return self.metadata.get("date_saved")

    @property
    def layer_classes(self):
        return self.model.layer_classes

    @property
    def params(self):
        return self.model.params


def _as_bytes(data, limit):
    """The upload as bytes: bytes-like, or a file-like object read with a hard cap."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    if hasattr(data, "getvalue"):
        data = data.getvalue()
        return bytes(data) if isinstance(data, (bytes, bytearray, memoryview)) else b""
    if hasattr(data, "read"):
        return data.read(limit + 1)
    raise TypeError(f"expected the file's bytes, got {type(data).__name__}")


def _is_hdf5(data):
    """HDF5's signature, at 0 or at a user-block offset (512, 1024, 2048, ...)."""
    offset = 0
    while offset + len(HDF5_SIGNATURE) <= len(data):
        if data[offset:offset + len(HDF5_SIGNATURE)] == HDF5_SIGNATURE:
            return True
        offset = 512 if offset == 0 else offset * 2
    return False


def _check_upload_size(data, limit):
    if not data:
        raise BadArchive("empty", "the file is empty")
    if len(data) > limit:
        raise BadArchive("too_big", f"the file is {len(data):,} bytes; the limit is {limit:,}",
                         size=_size_text(len(data)), limit=_size_text(limit))


def _unsafe_name(name):
    """A member name that could point outside a folder: absolute, '..', backslashes, drive letters."""
    if not name or "\\" in name or "\x00" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return True
    return any(part in ("", ".", "..") for part in name.split("/"))


def inspect_archive(data):
    """Describe a `.keras` file without loading it: members and sizes, metadata, config, layer
    classes and parameter count (worked out from the config). BadArchive or UnsafeModel when this
    app would not load it. Nothing is deserialised and no weight is read before the config passed."""
    data = _as_bytes(data, MAX_UPLOAD_BYTES)
    _check_upload_size(data, MAX_UPLOAD_BYTES)
    if not data.startswith((_ZIP_LOCAL, _ZIP_EMPTY)):  # also refuses a zip hidden behind an image
        # (Only here: a .keras stores model.weights.h5 uncompressed, so HDF5's signature may sit
        # at a user-block offset inside a perfectly good zip.)
        if _is_hdf5(data):
            raise BadArchive("legacy_h5", "an HDF5 (.h5) file, not a .keras zip")
        raise BadArchive("not_a_zip", "not a zip file")
    if data.count(_ZIP_DIRECTORY) > MAX_DIRECTORY_RECORDS:
        raise BadArchive("too_many_members", "too many members", limit=MAX_DIRECTORY_RECORDS)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except Exception:  # BadZipFile, and the odd ValueError/struct.error of a mangled directory
        raise BadArchive("truncated", "a zip whose end is missing or broken")
    with archive:
        infos = archive.infolist()
        members = _check_members(infos)
        # The small members first: the config is checked before a byte of the weights is unpacked.
        metadata = _parse_json(_read_member(archive, members["metadata.json"]), "metadata.json")
        metadata = {k: str(v)[:100] for k, v in metadata.items() if isinstance(v, (str, int, float))}
        config = _parse_json(_read_member(archive, members["config.json"]), "config.json")
        outline = check_config(config)
        weights = _read_member(archive, members["model.weights.h5"])
    if not weights.startswith(HDF5_SIGNATURE):
        raise BadArchive("bad_weights", "model.weights.h5 is not an HDF5 file", name="model.weights.h5")
    return ArchiveInfo(len(data), tuple(Member(i.filename, i.file_size, i.compress_size) for i in infos),
                       metadata, config, outline)


def _check_members(infos):
    """The zip's directory, member by member: names, flags and declared sizes. {name: ZipInfo}."""
    seen, total = {}, 0
    for info in infos:
        name = info.filename
        if _unsafe_name(name):
            raise BadArchive("unsafe_member_name", f"unsafe member name {name!r}", name=name[:200])
        if name in seen:
            raise BadArchive("duplicate_member", f"{name!r} appears twice", name=name[:200])
        seen[name] = info
        if info.flag_bits & 0x1:
            raise BadArchive("encrypted", f"{name!r} is encrypted", name=name)
        if (info.external_attr >> 16) & 0o170000 == 0o120000:
            raise BadArchive("symlink", f"{name!r} is a symbolic link", name=name)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise BadArchive("unsupported_compression", f"{name!r} uses compression {info.compress_type}",
                             name=name)
        if name not in ALLOWED_MEMBERS:
            raise BadArchive("unexpected_member", f"unexpected member {name!r}", name=name[:200],
                             expected=", ".join(ALLOWED_MEMBERS))
        _check_member_size(name, info.file_size, info.compress_size)
        total += info.file_size
    for name in ALLOWED_MEMBERS:
        if name not in seen:
            raise BadArchive("missing_member", f"no {name} in the archive", name=name)
    if total > MAX_UNPACKED_BYTES:
        raise BadArchive("too_big_unpacked", f"{total:,} bytes unpacked", size=_size_text(total),
                         limit=_size_text(MAX_UNPACKED_BYTES))
    return seen


def _check_member_size(name, size, compressed_size):
    """A member's (declared or real) unpacked size: its expansion first, so a bomb is named one."""
    ratio = size / max(compressed_size, 1)
    if size > RATIO_FLOOR_BYTES and ratio > MAX_COMPRESSION_RATIO:
        raise BadArchive("zip_bomb", f"{name} expands {ratio:.0f}x", name=name, ratio=f"{ratio:,.0f}",
                         limit=MAX_COMPRESSION_RATIO, size=_size_text(size))
    limit = _MEMBER_LIMITS[name]
    if size > limit:
        raise BadArchive("member_too_big", f"{name} is {size:,} bytes unpacked", name=name,
                         size=_size_text(size), limit=_size_text(limit))


def _read_member(archive, info):
    """A member's bytes, read with a hard cap: the sizes in the zip's headers are only claims."""
    limit = _MEMBER_LIMITS[info.filename]
    try:
        with archive.open(info) as f:
            content = f.read(limit + 1)
    except Exception:  # a bad CRC, a broken deflate stream, a header that disagrees with the directory
        raise BadArchive("corrupt", f"{info.filename} cannot be read", name=info.filename)
    if len(content) > limit:
        raise BadArchive("member_too_big", f"{info.filename} is over {limit:,} bytes", name=info.filename,
                         size=_size_text(len(content)), limit=_size_text(limit))
    _check_member_size(info.filename, len(content), info.compress_size)
    return content


def _parse_json(raw, name):
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadArchive("bad_json", f"{name} is not JSON", name=name)
    if not isinstance(value, dict):
        raise BadArchive("bad_json", f"{name} is not a JSON object", name=name)
    return value


# --- Checking a config -------------------------------------------------------------------------

def check_config(config):
    """Check a model config (config.json, or `json.loads(model.to_json())`) and outline it.

    Every dict in it that names a class, module or registered name must be on this app's
    allow-list; activations, initializers and dtypes given as strings must be known names; then
    the layers are followed from the input shape, their shapes and parameter counts worked out
    by the textbook formulas, and the model refused above MAX_PARAMS. Returns a ModelOutline."""
    _check_objects(config, "config", 0)
    return _outline(config)


def _check_objects(node, where, depth):
    if depth > MAX_CONFIG_DEPTH:
        raise BadArchive("bad_config", f"nested deeper than {MAX_CONFIG_DEPTH} at {where}", where=where)
    if isinstance(node, list):
        for k, item in enumerate(node):
            _check_objects(item, f"{where}[{k}]", depth + 1)
        return
    if not isinstance(node, dict):
        return
    if {"class_name", "module", "registered_name"} & node.keys():
        _check_class(node, where)
    for key, value in node.items():
        if not isinstance(key, str):
            raise BadArchive("bad_config", f"a key that is not text at {where}", where=where)
        if isinstance(value, str):
            _check_string(key, value, where)
        else:
            _check_objects(value, f"{where}.{key}", depth + 1)


def _check_class(node, where):
    """One serialised object: {"module": ..., "class_name": ..., "config": ..., "registered_name": ...}."""
    name, module, registered = node.get("class_name"), node.get("module"), node.get("registered_name")
    shown = str(name)[:100]
    if not isinstance(name, str):
        if module is not None and module not in _ALLOWED:
            raise UnsafeModel("unknown_module", f"module {module!r} at {where}", name=shown,
                              module=str(module)[:100])
        raise BadArchive("bad_config", f"class_name is not text at {where}", where=where)
    if name == "function":  # a Python function by reference: Keras would import and call it
        raise UnsafeModel("function", f"a function {node.get('config')!r} from {module!r} at {where}",
                          name=str(node.get("config"))[:100], module=str(module)[:100])
    if name in FORBIDDEN_CLASSES:
        raise UnsafeModel("forbidden_class", f"{name} at {where}", name="Lambda" if name == "__lambda__" else name)
    if name == _TENSOR_REFERENCE and module is None and registered is None:
        return
    if not isinstance(module, str) or module not in _ALLOWED:
        raise UnsafeModel("unknown_module", f"module {module!r} of {name} at {where}", name=shown,
                          module=str(module)[:100])
    if name not in _ALLOWED[module]:
        raise UnsafeModel("unknown_class", f"{module}.{name} at {where}", name=shown, module=module,
                          allowed=", ".join(ALLOWED_LAYERS))
    # Keras looks a registered name up before the class name: it must be the one we expect.
    expected = _REGISTERED.get((module, name))
    allowed_registered = (expected,) if expected else (None, name)
    if registered not in allowed_registered:
        raise UnsafeModel("unknown_class", f"registered name {registered!r} of {name} at {where}",
                          name=str(registered)[:100], module=module, allowed=", ".join(ALLOWED_LAYERS))


def _check_string(key, value, where):
    """Strings Keras turns into objects: activations, initializers, regularizers, constraints, dtypes."""
    if key == "activation":
        allowed = ACTIVATION_NAMES
    elif key == "dtype" or (key == "name" and where.endswith(".dtype.config")):
        allowed = DTYPES
    else:
        allowed = next((names for suffix, names in _STRING_NAMES.items() if key.endswith(suffix)), None)
    if allowed is not None and value not in allowed:
        raise UnsafeModel("unknown_name", f"{key}={value!r} at {where}", setting=key, value=value[:100])


def _outline(config):
    """Follow the layers from the input: shapes and parameter counts, by hand, before Keras."""
    name = config.get("class_name")
    inner = config.get("config")
    if name not in _MODEL_CLASSES or not isinstance(inner, dict):
        raise BadArchive("not_a_model", f"the top object is {name!r}, not a model", name=str(name)[:100])
    layers = inner.get("layers")
    if not isinstance(layers, list) or not all(isinstance(x, dict) for x in layers):
        raise BadArchive("bad_config", "no list of layers", where="config.config.layers")
    if len(layers) > MAX_LAYERS + 1:  # the InputLayer is not counted
        raise UnsafeModel("too_many_layers", f"{len(layers)} layers", count=len(layers), limit=MAX_LAYERS)
    follow = _follow_sequential if name == "Sequential" else _follow_functional
    outlines = follow(config, inner, layers)  # arithmetic only: nothing is allocated for any layer
    names = [x.name for x in outlines]
    if len(set(names)) != len(names):
        raise BadArchive("bad_config", "two layers share a name", where="config.config.layers")
    total = sum(x.params for x in outlines)
    if total > MAX_PARAMS:
        raise UnsafeModel("too_many_params", f"{total:,} parameters; the limit is {MAX_PARAMS:,}",
                          params=f"{total:,}", limit=f"{MAX_PARAMS:,}")
    return ModelOutline(name, str(inner.get("name", ""))[:100], outlines[0].output_shape,
                        outlines[-1].output_shape, tuple(outlines))


def _follow_sequential(config, inner, layers):
    first = layers[0] if layers else {}
    declared = inner.get("build_input_shape") or (config.get("build_config") or {}).get("input_shape")
    if first.get("class_name") == "InputLayer":
        input_outline = _input_layer(first)
        layers = layers[1:]
    elif declared is not None:
        shape = _batch_shape(declared, "config.build_input_shape")
        input_outline = LayerOutline("input", "InputLayer", shape, shape, 0)
    else:
        raise BadArchive("no_input_shape", "the model was saved before it was built")
    if declared is not None and _batch_shape(declared, "config.build_input_shape") != input_outline.output_shape:
        raise BadArchive("config_mismatch", "build_input_shape differs from the InputLayer",
                         layer=input_outline.name, declared=_declared_text(declared),
                         computed=models.shape_text(input_outline.output_shape))
    outlines, shape = [input_outline], input_outline.output_shape
    for k, layer in enumerate(layers, start=1):
        outline = _follow_layer(layer, shape, f"config.config.layers[{k}]")
        outlines.append(outline)
        shape = outline.output_shape
    return outlines


def _follow_functional(config, inner, layers):
    """A Functional graph: one input, one output, each layer called once on one tensor."""
    inputs, outputs = _single_reference(inner.get("input_layers")), _single_reference(inner.get("output_layers"))
    if inputs is None or outputs is None:
        raise UnsafeModel("unsupported_config", "not one input and one output", layer=str(inner.get("name")),
                          option="input_layers/output_layers")
    shapes, outlines = {}, []
    for k, layer in enumerate(layers):
        where = f"config.config.layers[{k}]"
        layer_name = layer.get("name") or (layer.get("config") or {}).get("name")
        if layer.get("class_name") == "InputLayer":
            outline = _input_layer(layer)
        else:
            nodes = layer.get("inbound_nodes")
            if not isinstance(nodes, list) or len(nodes) != 1 or not isinstance(nodes[0], dict):
                raise UnsafeModel("unsupported_config", f"{layer_name} is not called exactly once",
                                  layer=str(layer_name)[:100], option="inbound_nodes")
            args = nodes[0].get("args")
            if not isinstance(args, list) or len(args) != 1 or not isinstance(args[0], dict) \
                    or args[0].get("class_name") != _TENSOR_REFERENCE:
                raise UnsafeModel("unsupported_config", f"{layer_name} does not take one tensor",
                                  layer=str(layer_name)[:100], option="inbound_nodes")
            tensor = args[0].get("config") or {}
            history = tensor.get("keras_history")
            if not (isinstance(history, list) and len(history) == 3 and history[0] in shapes
                    and history[1:] == [0, 0]):
                raise UnsafeModel("unsupported_config", f"{layer_name} takes an unknown tensor",
                                  layer=str(layer_name)[:100], option="keras_history")
            shape = shapes[history[0]]
            if "shape" in tensor and _batch_shape(tensor["shape"], where) != shape:
                raise BadArchive("config_mismatch", f"{layer_name}'s input shape", layer=str(layer_name)[:100],
                                 declared=_declared_text(tensor["shape"]), computed=models.shape_text(shape))
            outline = _follow_layer(layer, shape, where)
        if outline.name in shapes or (layer.get("name") not in (None, outline.name)):
            raise BadArchive("bad_config", f"layer name {outline.name!r} reused or inconsistent", where=where)
        shapes[outline.name] = outline.output_shape
        outlines.append(outline)
    if not outlines or outlines[0].class_name != "InputLayer" or outlines[0].name != inputs[0]:
        raise UnsafeModel("unsupported_config", "the input is not the first layer", layer=str(inputs[0])[:100],
                          option="input_layers")
    if outputs[0] != outlines[-1].name:
        raise UnsafeModel("unsupported_config", "the output is not the last layer", layer=str(outputs[0])[:100],
                          option="output_layers")
    return outlines


def _single_reference(value):
    """["name", 0, 0] or [["name", 0, 0]] -> ["name", 0, 0]; None for anything else."""
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
        value = value[0]
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str) and value[1:] == [0, 0]:
        return value
    return None


def _batch_shape(value, where):
    """[None, 8, 8, 1] -> (8, 8, 1): a batch dimension, then positive whole numbers."""
    if not isinstance(value, list) or not 2 <= len(value) <= 4 or not (value[0] is None or _is_count(value[0])):
        raise BadArchive("bad_config", f"bad shape {value!r}", where=where)
    if not all(_is_count(d) for d in value[1:]):
        raise BadArchive("bad_config", f"bad shape {value!r}", where=where)
    return tuple(value[1:])


def _declared_text(value):
    return "(" + ", ".join("None" if d is None else str(d) for d in value) + ")" if isinstance(value, list) \
        else str(value)[:100]


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _input_layer(layer):
    cfg = layer.get("config") if isinstance(layer.get("config"), dict) else {}
    name = str(cfg.get("name", "input"))[:100]
    for option in ("sparse", "ragged"):
        if cfg.get(option):
            raise UnsafeModel("unsupported_config", f"{option} input", layer=name, option=f"{option}=True")
    shape = _batch_shape(cfg.get("batch_shape", cfg.get("batch_input_shape")), "InputLayer.batch_shape")
    _check_output(name, shape)
    return LayerOutline(name, "InputLayer", shape, shape, 0)


def _check_output(name, shape):
    values = math.prod(shape)
    if values > MAX_LAYER_OUTPUT:
        raise UnsafeModel("too_large_output", f"{name} outputs {values:,} numbers per example", layer=name,
                          values=f"{values:,}", limit=f"{MAX_LAYER_OUTPUT:,}")


def _follow_layer(layer, shape, where):
    """(output shape, parameters) of one allowed layer on an input of `shape` (batch left out)."""
    class_name = layer.get("class_name")
    cfg = layer.get("config")
    if not isinstance(cfg, dict):
        raise BadArchive("bad_config", f"no config at {where}", where=where)
    name = str(cfg.get("name", class_name))[:100]

    def unsupported(option):
        raise UnsafeModel("unsupported_config", f"{name}: {option}", layer=name, option=option)

    def count(key, default=None):
        value = cfg.get(key, default)
        if not _is_count(value):
            raise BadArchive("bad_config", f"{key} of {name} is {value!r}", where=f"{where}.config.{key}")
        return value

    def pair(key, default=None):
        value = cfg.get(key, default)
        value = [value, value] if _is_count(value) else value
        if not (isinstance(value, list) and len(value) == 2 and all(_is_count(v) for v in value)):
            raise BadArchive("bad_config", f"{key} of {name} is {value!r}", where=f"{where}.config.{key}")
        return value

    def choice(key, default, allowed):
        value = cfg.get(key, default)
        if value not in allowed:
            unsupported(f"{key}={value!r}"[:100])
        return value

    for option in ("lora_rank", "quantization_config"):  # both add or change weights
        if cfg.get(option) is not None:
            unsupported(f"{option}={cfg[option]!r}"[:100])
    if class_name in ("Conv2D", "MaxPooling2D", "AveragePooling2D", "RandomTranslation"):
        choice("data_format", None, (None, "channels_last"))
        if len(shape) != 3:
            raise BadArchive("bad_config", f"{name} needs an image input, gets {shape}", where=where)
    use_bias = cfg.get("use_bias", True)
    if not isinstance(use_bias, bool):
        raise BadArchive("bad_config", f"use_bias of {name} is {use_bias!r}", where=f"{where}.config.use_bias")
    if class_name == "Dense":
        units = count("units")
        out, params = shape[:-1] + (units,), shape[-1] * units + units * use_bias
    elif class_name == "Maxout":
        units, pieces = count("units"), count("pieces")
        out, params = shape[:-1] + (units,), (shape[-1] + 1) * units * pieces
    elif class_name == "Conv2D":
        filters, kernel, strides = count("filters"), pair("kernel_size"), pair("strides", 1)
        dilation, groups = pair("dilation_rate", 1), count("groups", 1)
        padding = choice("padding", "valid", ("valid", "same"))
        channels = shape[2]
        if channels % groups or filters % groups:
            raise BadArchive("bad_config", f"groups={groups} of {name}", where=f"{where}.config.groups")
        windows = [(k - 1) * d + 1 for k, d in zip(kernel, dilation)]
        out = _slide(shape, windows, strides, padding, name, where) + (filters,)
        params = kernel[0] * kernel[1] * (channels // groups) * filters + filters * use_bias
    elif class_name in ("MaxPooling2D", "AveragePooling2D"):
        pool = pair("pool_size", 2)
        strides = pool if cfg.get("strides") is None else pair("strides")
        padding = choice("padding", "valid", ("valid", "same"))
        out, params = _slide(shape, pool, strides, padding, name, where) + (shape[2],), 0
    elif class_name == "Flatten":
        out, params = (math.prod(shape),), 0
    elif class_name in ("Dropout", "Activation", "RandomTranslation"):
        out, params = shape, 0
    else:  # an allowed class that is not a layer here (a model inside a model, an initializer...)
        unsupported(str(class_name)[:100])
    declared = (layer.get("build_config") or {}).get("input_shape") if isinstance(layer.get("build_config"), dict) \
        else None
    if declared is not None and _batch_shape(declared, f"{where}.build_config") != shape:
        # Keras builds a layer's weights from this shape: it must be the one the graph gives.
        raise BadArchive("config_mismatch", f"{name} declares input {declared}", layer=name,
                         declared=_declared_text(declared), computed=models.shape_text(shape))
    _check_output(name, out)
    return LayerOutline(name, str(class_name), shape, out, params)


def _slide(shape, windows, strides, padding, name, where):
    """Height and width after a window slides: (n - k) // s + 1 ('valid') or ceil(n / s) ('same')."""
    if padding == "same":
        return tuple(-(-n // s) for n, s in zip(shape[:2], strides))
    out = tuple((n - k) // s + 1 for n, k, s in zip(shape[:2], windows, strides))
    if min(out) < 1:
        raise BadArchive("bad_config", f"{name}'s window is larger than its input {shape}", where=where)
    return out


# --- Rebuilding a model in this process from checked plain data --------------------------------

def _deserialize(config):
    """A Keras model from a config that passed `check_config`, with safe mode forced on (even if
    something in this thread called keras.config.enable_unsafe_deserialization()). Uncompiled."""
    import keras
    from keras.src.saving.serialization_lib import ObjectSharingScope, SafeModeScope

    import lib.activations  # noqa: F401  registers Maxout

    config = {k: v for k, v in config.items() if k != "compile_config"}
    with SafeModeScope(True), ObjectSharingScope():
        model = keras.saving.deserialize_keras_object(config, safe_mode=True)
    if not isinstance(model, keras.Model):
        raise BadArchive("not_a_model", "the config is not a model", name=str(config.get("class_name")))
    return model


def _weight_label(weight):
    """'dense_1/kernel': the layer's name and the weight's, as a student finds them in summary()."""
    return "/".join(weight.path.split("/")[-2:])


def _assign(model, arrays):
    """Put `arrays` into `model`, after checking there is one of the right shape per weight."""
    expected = [tuple(int(d) for d in w.shape) for w in model.weights]
    found = [tuple(a.shape) for a in arrays]
    for k, weight in enumerate(model.weights):
        if k >= len(found):
            raise BadArchive("weights_missing", f"no value for {weight.path}", variable=_weight_label(weight))
        if found[k] != expected[k]:
            raise BadArchive("weights_mismatch", f"{weight.path}: {found[k]} for {expected[k]}",
                             variable=_weight_label(weight), expected=_shape_text(expected[k]),
                             found=_shape_text(found[k]))
    if len(found) > len(expected):
        raise BadArchive("weights_extra", f"{len(found) - len(expected)} values too many",
                         variable=f"#{len(expected) + 1}")
    model.set_weights(arrays)
    return model


def model_from_architecture(text):
    """A model (fresh weights) from `architecture_json`'s text, or from a student's upload of it:
    checked like a `.keras` config, then `keras.models.model_from_json` in safe mode."""
    check_keras_version()
    raw = text.encode("utf-8") if isinstance(text, str) else _as_bytes(text, MAX_CONFIG_BYTES)
    if not raw:
        raise BadArchive("empty", "the file is empty")
    if len(raw) > MAX_CONFIG_BYTES:
        raise BadArchive("too_big", f"{len(raw):,} bytes", size=_size_text(len(raw)),
                         limit=_size_text(MAX_CONFIG_BYTES))
    config = _parse_json(raw, "architecture JSON")
    check_config(config)
    return _deserialize(config)


# --- Loading an upload in a loader process ----------------------------------------------------

def load_upload(data, *, loader=None):
    """A model from an uploaded `.keras` file: inspected here (BadArchive / UnsafeModel), then
    loaded by `keras.saving.load_model(safe_mode=True, compile=False)` in a one-use loader
    process, and rebuilt here from the plain data it sends back. The model is uncompiled."""
    check_keras_version()
    data = _as_bytes(data, MAX_UPLOAD_BYTES)
    inspect_archive(data)
    header, arrays = (loader or get_loader()).run({"op": "load_model"}, data, "upload.keras")
    config = header.get("config")
    if not isinstance(config, dict):
        raise BadArchive("load_failed", "the loader sent no config", message="no config")
    check_config(config)  # what the loader sends back is checked like the upload itself
    return _assign(_deserialize(config), arrays)


def load_weights_upload(data, model, *, loader=None):
    """A copy of `model` (same architecture, uncompiled) holding the weights of an uploaded
    `.weights.h5` file; `model` itself is left as it was. The file is only ever read as weights:
    an HDF5 file within MAX_UPLOAD_BYTES, whose every weight has the shape the model expects
    (BadArchive 'weights_mismatch', 'weights_missing', 'weights_extra' otherwise), checked in the
    loader process before Keras assigns anything."""
    check_keras_version()
    data = _as_bytes(data, MAX_UPLOAD_BYTES)
    _check_upload_size(data, MAX_UPLOAD_BYTES)
    if not data.startswith(HDF5_SIGNATURE):
        raise BadArchive("not_weights", "not an HDF5 weights file")
    architecture = architecture_json(model)
    check_config(json.loads(architecture))
    _, arrays = (loader or get_loader()).run({"op": "load_weights", "architecture": architecture}, data,
                                             "upload.weights.h5")
    return _assign(_deserialize(json.loads(architecture)), arrays)


class Loader:
    """Loads uploads in a separate process, one process per load.

    A loader process imports TensorFlow (~3 s), limits itself (RLIMIT_DATA, RLIMIT_CPU, no core
    files, bounded file writes) and waits; `run` gives it one file, gets plain data back and
    kills it, so nothing a hostile file did can outlive its load. The next process is started at
    once in the background, so a student waits for the load only, not for TensorFlow's import.
    Loads run one at a time (the rest wait): a classroom server has few cores, and training
    needs them. This process also watches the loader's memory and kills it at the limit.
    """

    def __init__(self, *, memory_bytes=LOAD_MEMORY_BYTES, seconds=LOAD_SECONDS, cpu_seconds=LOAD_CPU_SECONDS,
                 prestart=True):
        self.memory_bytes, self.seconds, self.cpu_seconds = memory_bytes, seconds, cpu_seconds
        self.last_timings = {}  # of the last run, in seconds: waiting for a loader, the load, inside it
        self._lock = threading.Lock()  # one load at a time
        self._spare_lock = threading.Lock()
        self._spare = None  # (thread, box): a thread starting a _LoaderProcess into box["process"]
        if prestart:
            self.warm_up()

    def warm_up(self):
        """Start a loader process in the background, if none is ready or starting."""
        with self._spare_lock:
            if self._spare is None:
                box = {}
                thread = threading.Thread(target=self._start_into, args=(box,), daemon=True, name="model-loader")
                self._spare = (thread, box)
                thread.start()

    def _start_into(self, box):
        try:
            box["process"] = _LoaderProcess(self.memory_bytes, self.cpu_seconds)
        except Exception as e:
            box["error"] = e

    def _take(self):
        """The spare loader process (waiting for its start if need be), or a new one."""
        with self._spare_lock:
            spare, self._spare = self._spare, None
        if spare is not None:
            thread, box = spare
            thread.join(START_SECONDS + 10)
            process = box.get("process")
            if process is not None and process.alive():
                return process
            if process is not None:
                process.kill()
        return _LoaderProcess(self.memory_bytes, self.cpu_seconds)

    def run(self, request, data, filename):
        """Send one request with the upload (as a private file) to a fresh loader process, return
        (header, arrays). Refusals the loader found are raised here as BadArchive / UnsafeModel."""
        with self._lock:
            started = time.perf_counter()
            try:
                process = self._take()
            except Exception as e:
                raise UnsafeModel("loader_failed", f"the loader could not start: {e}")
            finally:
                self.warm_up()  # the next one imports TensorFlow while this one loads
            waited = time.perf_counter() - started
            directory = tempfile.mkdtemp(prefix="keras-classroom-upload-")  # mode 0700
            try:
                path = os.path.join(directory, filename)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                header, arrays = process.request({**request, "path": path}, self.seconds, self.memory_bytes)
            finally:
                process.kill()
                shutil.rmtree(directory, ignore_errors=True)
            self.last_timings = {"waited_for_loader": waited, "load": time.perf_counter() - started - waited,
                                 **header.get("timings", {})}
            return header, arrays

    def close(self):
        """Stop the spare loader process (a later `run` starts one again)."""
        with self._spare_lock:
            spare, self._spare = self._spare, None
        if spare is not None:
            thread, box = spare
            thread.join(START_SECONDS + 10)
            if box.get("process") is not None:
                box["process"].kill()


_loader = None
_loader_lock = threading.Lock()


def get_loader():
    """The server's Loader, started on first use (a page may call this early to warm it up)."""
    global _loader
    with _loader_lock:
        if _loader is None:
            _loader = Loader()
            import atexit

            atexit.register(_loader.close)
        return _loader


def _minimal_environment():
    """What the loader needs to start (where Python, its packages and TensorFlow's libraries are),
    and nothing else of this server's environment: no tokens or cloud credentials for a hostile
    file to find, should it ever run code."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV",
            "CONDA_PREFIX", "LD_LIBRARY_PATH", "KERAS_BACKEND", "KERAS_HOME")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1", OMP_NUM_THREADS="1",
               TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    return env


_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_ALLOWED_DTYPES = ("<f2", "<f4", "<f8")


class _LoaderProcess:
    """One loader process and its connection (bytes and JSON only: never a pickle from it)."""

    def __init__(self, memory_bytes, cpu_seconds):
        key = os.urandom(32)
        with Listener(authkey=key) as listener:
            code = f"import sys; sys.path.insert(0, {_ROOT!r}); from lib.saving import _loader_main; _loader_main()"
            self.process = subprocess.Popen([sys.executable, "-c", code], cwd=_ROOT, env=_minimal_environment(),
                                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL, start_new_session=os.name == "posix")
            setup = {"address": listener.address, "key": key.hex(), "memory_bytes": memory_bytes,
                     "cpu_seconds": cpu_seconds}
            self.process.stdin.write((json.dumps(setup) + "\n").encode())  # the key never sits in its environment
            self.process.stdin.close()
            self.connection = self._accept(listener)
        if not self.connection.poll(START_SECONDS):
            self.kill()
            raise RuntimeError("the loader did not start")
        try:
            ready = json.loads(self.connection.recv_bytes(10_000))
        except (EOFError, OSError, ValueError):
            ready = {}
        if not isinstance(ready, dict) or not ready.get("ready"):
            self.kill()
            raise RuntimeError("the loader did not start")

    def _accept(self, listener):
        box = {}
        waiter = threading.Thread(target=lambda: box.setdefault("connection", listener.accept()), daemon=True)
        waiter.start()
        deadline = time.time() + START_SECONDS
        while waiter.is_alive() and self.alive() and time.time() < deadline:
            waiter.join(0.05)
        if "connection" not in box:
            self.kill()  # leaving the `with` closes the listener, which ends the waiting accept()
            raise RuntimeError("the loader did not connect")
        return box["connection"]

    def alive(self):
        return self.process.poll() is None

    def kill(self):
        if self.alive():
            try:
                if os.name == "posix":
                    os.killpg(self.process.pid, 9)  # its own session: anything it started goes too
                else:
                    self.process.kill()
            except (ProcessLookupError, PermissionError):
                self.process.kill()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            pass
        try:
            self.connection.close()
        except (AttributeError, OSError):
            pass

    def request(self, request, seconds, memory_bytes):
        """Send the request and wait for the answer, killing the process at the time limit or
        when its memory (RSS beyond its size when idle) passes the limit."""
        baseline = _private_memory(self.process.pid)
        deadline = time.monotonic() + seconds
        self.connection.send_bytes(json.dumps(request).encode())
        messages = []
        while len(messages) < 2:
            if self.connection.poll(0.05):
                try:
                    messages.append(self.connection.recv_bytes(MAX_HEADER_BYTES if not messages else MAX_RESULT_BYTES))
                except (EOFError, OSError):  # it died mid-answer, or sent more than an answer can be
                    self.kill()
                    raise self._death(seconds, memory_bytes)
                continue
            memory = _private_memory(self.process.pid)
            if baseline is not None and memory is not None and memory - baseline > memory_bytes:
                self.kill()
                raise UnsafeModel("too_much_memory", "the loader used too much memory",
                                  limit=_size_text(memory_bytes))
            if time.monotonic() > deadline:
                self.kill()
                raise UnsafeModel("too_slow", "the loader took too long", seconds=f"{seconds:g}")
            if not self.alive():
                raise self._death(seconds, memory_bytes)
        return _read_answer(messages[0], messages[1], memory_bytes)

    def _death(self, seconds, memory_bytes):
        """Why the loader died without answering: its CPU limit (SIGXCPU), the kernel's OOM
        killer (SIGKILL: this process kills it only after deciding why), or anything else."""
        import signal

        code = self.process.poll()
        if code == -getattr(signal, "SIGXCPU", 0):
            return UnsafeModel("too_slow", "the loader used up its CPU time", seconds=f"{seconds:g}")
        if code == -getattr(signal, "SIGKILL", 0):
            return UnsafeModel("too_much_memory", "the loader was killed", limit=_size_text(memory_bytes))
        return UnsafeModel("loader_failed", f"the loader stopped while loading this file (exit {code})")


def _private_memory(pid):
    """The process's private resident memory (RssAnon + RssShmem) in bytes; None off Linux."""
    try:
        with open(f"/proc/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        return sum(int(fields[k].split()[0]) * 1024 for k in ("RssAnon", "RssShmem") if k in fields)
    except (OSError, ValueError):
        return None


def _read_answer(raw_header, payload, memory_bytes):
    """(header, arrays) from the loader's two messages, each checked: this process trusts nothing
    from a process that has just read a hostile file."""
    import numpy as np

    try:
        header = json.loads(raw_header.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise UnsafeModel("loader_failed", "the loader's answer is not JSON")
    if not isinstance(header, dict):
        raise UnsafeModel("loader_failed", "the loader's answer is not an object")
    if not header.get("ok"):
        kind, code, details = header.get("kind"), header.get("code"), header.get("details")
        if kind in _KIND and code in ERROR_CODES[_KIND[kind]] and isinstance(details, dict):
            details = {str(k)[:40]: v if isinstance(v, (int, float)) else str(v)[:300] for k, v in details.items()}
            if code == "too_much_memory":
                details = {"limit": _size_text(memory_bytes)}
            raise _KIND[kind](code, header.get("message", code), **details)
        raise UnsafeModel("loader_failed", "the loader's answer makes no sense")
    specs = header.get("arrays")
    if not isinstance(specs, list) or len(specs) > 4 * (MAX_LAYERS + 1):
        raise UnsafeModel("loader_failed", "bad array list")
    arrays, offset = [], 0
    for spec in specs:
        dtype, shape = (spec.get("dtype"), spec.get("shape")) if isinstance(spec, dict) else (None, None)
        if dtype not in _ALLOWED_DTYPES or not isinstance(shape, list) or len(shape) > 8 or \
                not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= MAX_RESULT_BYTES for d in shape):
            raise UnsafeModel("loader_failed", "bad array description")
        size = math.prod(shape) * np.dtype(dtype).itemsize
        if offset + size > len(payload):
            raise UnsafeModel("loader_failed", "the arrays do not add up")
        arrays.append(np.frombuffer(payload, dtype=dtype, count=math.prod(shape), offset=offset).reshape(shape).copy())
        offset += size
    if offset != len(payload):
        raise UnsafeModel("loader_failed", "the arrays do not add up")
    return header, arrays


# --- Inside the loader process -----------------------------------------------------------------

def _loader_main():
    """Where a loader process starts: connect back, import Keras, limit itself, serve one request."""
    setup = json.loads(sys.stdin.readline())
    # No PR_SET_PDEATHSIG: it fires when the *thread* that started this process ends, and spares
    # are started from short-lived threads. When the server goes, the connection ends (EOF): so
    # does this process, idle or right after its one load.
    connection = Client(setup["address"], authkey=bytes.fromhex(setup["key"]))
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras  # noqa: F401

    import lib.activations  # noqa: F401  registers Maxout

    _limit_resources(setup["memory_bytes"], setup["cpu_seconds"])
    connection.send_bytes(json.dumps({"ready": True, "pid": os.getpid()}).encode())
    try:
        request = json.loads(connection.recv_bytes(MAX_HEADER_BYTES))
    except (EOFError, OSError):
        os._exit(0)
    header, payload = _serve(request)
    try:
        connection.send_bytes(json.dumps(header).encode())
        connection.send_bytes(payload)
        connection.close()
    finally:
        os._exit(0)  # TensorFlow's teardown is slow, and there is nothing to keep


def _limit_resources(memory_bytes, cpu_seconds):
    """RLIMIT_DATA (private writable memory: what a load allocates, measured to work with
    TensorFlow where RLIMIT_AS does not), RLIMIT_CPU, RLIMIT_FSIZE, no core files. POSIX only."""
    try:
        import resource
    except ImportError:  # Windows: the parent's time limit is what remains
        return

    def status(field):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
        return None

    def lower(limit, value):
        try:
            soft, hard = resource.getrlimit(limit)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(limit, (value, value))
        except (ValueError, OSError):  # a platform that does not offer this limit (macOS: RLIMIT_DATA)
            pass

    try:
        data = status("VmData")
    except OSError:
        data = None
    if data is not None:
        lower(resource.RLIMIT_DATA, data + memory_bytes)
    used = resource.getrusage(resource.RUSAGE_SELF)
    lower(resource.RLIMIT_CPU, int(used.ru_utime + used.ru_stime) + cpu_seconds)
    lower(resource.RLIMIT_FSIZE, 2 * MAX_UPLOAD_BYTES)  # Keras may unpack the weights next to the file
    lower(resource.RLIMIT_CORE, 0)


def _serve(request):
    """One request, in the loader: (header, payload). Refusals go back as code and details."""
    import numpy as np

    started = time.perf_counter()
    try:
        check_keras_version()
        path = request["path"]
        with open(path, "rb") as f:
            data = f.read(MAX_UPLOAD_BYTES + 1)
        if request["op"] == "load_model":
            model, config = _load_model_here(path, data)
        elif request["op"] == "load_weights":
            model, config = _load_weights_here(path, data, request["architecture"]), None
        else:
            raise UnsafeModel("loader_failed", "unknown request")
        arrays = [np.ascontiguousarray(w).astype(np.dtype(w.dtype).newbyteorder("<"), copy=False)
                  for w in model.get_weights()]
        header = {"ok": True, "config": config,
                  "arrays": [{"dtype": a.dtype.str, "shape": list(a.shape)} for a in arrays],
                  "timings": {"in_loader": time.perf_counter() - started}}
        return header, b"".join(a.tobytes() for a in arrays)
    except SavingError as e:
        return _refusal(type(e).__name__, e.code, str(e), e.details), b""
    except MemoryError:
        return _refusal("UnsafeModel", "too_much_memory", "out of memory", {}), b""
    except Exception as e:  # Keras refused the file: say what it said
        if type(e).__name__ == "ResourceExhaustedError":
            return _refusal("UnsafeModel", "too_much_memory", "out of memory", {}), b""
        return _refusal("BadArchive", "load_failed", _plain(e), {"message": _plain(e)}), b""


def _refusal(kind, code, message, details):
    return {"ok": False, "kind": kind, "code": code, "message": message[:300], "details": details}


def _load_model_here(path, data):
    """Check again what the parent checked, check the weights' layout, then let Keras load it."""
    import keras

    info = inspect_archive(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        weights = _read_member(archive, archive.getinfo("model.weights.h5"))
    _check_layout(_deserialize(info.config), io.BytesIO(weights), os.path.dirname(path))
    model = keras.saving.load_model(path, safe_mode=True, compile=False)
    return model, keras.saving.serialize_keras_object(model)


def _load_weights_here(path, data, architecture):
    """Weights only: into the architecture the app sent, never as a whole model."""
    _check_upload_size(data, MAX_UPLOAD_BYTES)
    config = json.loads(architecture)
    check_config(config)
    model = _deserialize(config)
    _check_layout(model, path, os.path.dirname(path))
    model.load_weights(path)
    return model


def _check_layout(model, weights_file, directory):
    """Every weight the model has, with its shape, is in the HDF5 file, and nothing else is
    (an optimizer's state aside: `compile=False` skips it). The layout Keras expects comes from
    Keras itself: the fresh model's own weights, saved next to the upload."""
    import h5py

    expected_path = os.path.join(directory, "expected.weights.h5")
    model.save_weights(expected_path)
    with h5py.File(expected_path, "r") as f:
        expected = _h5_datasets(f)
        names = {path: _variable_name(f, model, path) for path in expected}
    os.remove(expected_path)
    # Report the first problem in the model's own order (input to output), not the file's.
    order = {_weight_label(w): k for k, w in enumerate(model.weights)}
    expected = dict(sorted(expected.items(), key=lambda item: order.get(names[item[0]], len(order))))
    try:
        found_file = h5py.File(weights_file, "r")
    except Exception:
        raise BadArchive("bad_weights", "the weights are not a readable HDF5 file", name="model.weights.h5")
    with found_file:
        if "model_config" in found_file.attrs:  # a legacy whole-model .h5, not weights
            raise BadArchive("legacy_h5", "a legacy .h5 model")
        found = _h5_datasets(found_file)
    for path, (shape, kind) in expected.items():
        if path not in found:
            raise BadArchive("weights_missing", f"no {path}", variable=names[path])
        found_shape, found_kind = found[path]
        if found_shape != shape or (kind == "f") != (found_kind == "f"):
            raise BadArchive("weights_mismatch", f"{path}: {found_shape}, expected {shape}", variable=names[path],
                             expected=_shape_text(shape), found=_shape_text(found_shape))
    for path in found:
        if path not in expected and not path.startswith("optimizer/"):
            raise BadArchive("weights_extra", f"unexpected {path}", variable=path[:200])


def _h5_datasets(h5file):
    """{path: (shape, dtype kind)} of every dataset, reading metadata only. Links, external
    storage, virtual datasets and odd types are refused: they would read other files."""
    import h5py

    out, stack, count = {}, [("", h5file, 0)], 0
    while stack:
        prefix, group, depth = stack.pop(0)
        if depth > 16:
            raise BadArchive("bad_weights", "too deep", name="model.weights.h5")
        for key in group:
            count += 1
            if count > MAX_H5_OBJECTS:
                raise BadArchive("bad_weights", "too many objects", name="model.weights.h5")
            path = prefix + key
            if not isinstance(group.get(key, getlink=True), h5py.HardLink):
                raise BadArchive("h5_link", f"{path} is a link", name=path[:200])
            item = group.get(key)
            if isinstance(item, h5py.Group):
                stack.append((path + "/", item, depth + 1))
            elif isinstance(item, h5py.Dataset):
                if item.external or item.is_virtual:
                    raise BadArchive("h5_link", f"{path} reads another file", name=path[:200])
                if item.dtype.names or item.dtype.kind not in "fiub":
                    raise BadArchive("bad_weights", f"{path} holds {item.dtype}", name=path[:200])
                out[path] = (tuple(int(d) for d in item.shape), item.dtype.kind)
            else:
                raise BadArchive("bad_weights", f"{path} is neither group nor dataset", name=path[:200])
    return out


def _variable_name(h5file, model, path):
    """'dense_3/kernel' for 'layers/dense/vars/0': the layer's name is an attribute of the group."""
    group, _, index = path.rpartition("/")
    try:
        layer = model.get_layer(str(h5file[group].attrs["name"]))
        return _weight_label(layer.weights[int(index)])
    except Exception:
        return path
