"""lib.saving: every kind of model the app builds survives a round trip bit for bit; every hostile
file (built here, byte by byte) is refused with its code, before anything is loaded; a Lambda's
payload never runs; the loader process stays inside its limits and sends back only plain data."""
import functools
import io
import json
import os
import re
import stat
import struct
import tracemalloc
import warnings
import zipfile

import keras
import numpy as np
import pytest

from lib import activations, i18n, models, overfitting, saving
from lib.saving import BadArchive, UnsafeModel
from tests.helpers import wait_until


# --- Models the app builds, and files made from them ----------------------------------------------

def student_functional():
    """A model a student builds and trains at home: Functional, compiled with Adam, fitted once
    (so its file also carries compile_config and the optimizer's state)."""
    inputs = keras.Input((8, 8, 1), name="pixels")
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")(inputs)
    x = keras.layers.AveragePooling2D(2, name="pool")(x)
    x = keras.layers.Flatten(name="flat")(x)
    x = keras.layers.Dropout(0.2, name="drop")(x)
    outputs = keras.layers.Dense(10, activation="softmax", kernel_regularizer=keras.regularizers.L2(1e-3),
                                 name="probs")(x)
    model = keras.Model(inputs, outputs, name="student_functional")
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    model.fit(rng.random((32, 8, 8, 1), dtype="float32"), rng.integers(0, 10, 32), epochs=1, verbose=0)
    return model


APP_MODELS = {
    "digits_cnn": lambda: models.build_sequential(models.PRESETS["digits_cnn"][1], models.PRESETS["digits_cnn"][0],
                                                  seed=1),
    "seed_mlp": lambda: models.build_sequential(models.PRESETS["seed"][1], models.PRESETS["seed"][0], seed=2),
    "maxout": lambda: activations.deep_stack("maxout", 2),
    "augmented_dropout_l2": lambda: models.build_sequential(
        overfitting.digits_layers(width=64, dropout=0.25, l2=0.001, augment=True), (8, 8, 1), seed=3),
    "student_functional": student_functional,
}


@pytest.fixture(scope="module")
def loader():
    """One loader for the module: each load uses (and replaces) one process; the next one starts
    while the test goes on."""
    loader = saving.Loader()
    yield loader
    loader.close()


@pytest.fixture(scope="module")
def app_models():
    return {name: build() for name, build in APP_MODELS.items()}


@pytest.fixture(scope="module")
def files(app_models):
    return {name: saving.to_bytes(model) for name, model in app_models.items()}


@pytest.fixture(scope="module")
def loaded(files, loader):
    """name -> the model load_upload rebuilt from its file (each loaded once, when first asked)."""

    @functools.cache
    def load(name):
        return saving.load_upload(files[name], loader=loader)

    return load


@pytest.fixture(scope="module")
def good(files):
    """The seed MLP's .keras file: the start of most hostile files below."""
    return files["seed_mlp"]


class NeverLoad:
    """A loader that fails the test if reached: proves a refusal came before any loading."""

    def run(self, *args, **kwargs):
        raise AssertionError("the loader was reached")


NEVER = NeverLoad()


def refused(call, kind, code):
    """Run `call`, expect `kind` with `code`, and check its message exists, filled, in both languages."""
    with pytest.raises(kind) as caught:
        call()
    error = caught.value
    assert error.code == code, (error.code, str(error))
    for lang in i18n.LANGUAGES:
        text = i18n.translate(f"save_load.error.{code}", lang, **error.details)
        assert text and "{" not in text, (lang, text)
    return error


def inputs_for(model, n=32, seed=0):
    return np.random.default_rng(seed).random((n, *model.input_shape[1:]), dtype="float32")


# --- Building hostile zips by hand ------------------------------------------------------------------

def members_of(data):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def zip_of(members, compression=zipfile.ZIP_STORED):
    """A zip of (name or ZipInfo, bytes) pairs, in order; a dict works too. Duplicates allowed."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name": that is the point of one test
        with zipfile.ZipFile(buffer, "w", compression) as archive:
            for name, content in (members.items() if isinstance(members, dict) else members):
                archive.writestr(name, content)
    return buffer.getvalue()


def with_config(data, change):
    """The file with its config.json changed by `change(config)` (in place, or returning a new one)."""
    members = members_of(data)
    config = json.loads(members["config.json"])
    config = change(config) or config
    members["config.json"] = json.dumps(config).encode()
    return zip_of(members)


def patch_records(data, name, *, flags=None, size=None):
    """Rewrite a member's general-purpose flags or declared unpacked size in both its local header
    and its central-directory record: what a hand-crafted hostile zip does."""
    data = bytearray(data)
    encoded = name.encode()
    for signature, flag_at, size_at, name_at in ((b"PK\x03\x04", 6, 22, 30), (b"PK\x01\x02", 8, 24, 46)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            if data[start + name_at:start + name_at + len(encoded)] == encoded:
                if flags is not None:
                    data[start + flag_at:start + flag_at + 2] = struct.pack("<H", flags)
                if size is not None:
                    data[start + size_at:start + size_at + 4] = struct.pack("<I", size)
            start += 4
    return bytes(data)


def png_bytes():
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (8, 8), 128).save(buffer, format="PNG")
    return buffer.getvalue()


def layers_of(config):
    return config["config"]["layers"]


def layer_config(class_name, config, module="keras.layers", registered_name=None):
    return {"module": module, "class_name": class_name, "config": config, "registered_name": registered_name}


def insert_layer(layer):
    """A change that puts `layer` right after the InputLayer of a Sequential config."""
    def change(config):
        layers_of(config).insert(1, layer)
    return change


def set_in_first_dense(key, value):
    def change(config):
        dense = next(x for x in layers_of(config) if x["class_name"] == "Dense")
        dense["config"][key] = value
    return change


@pytest.fixture(scope="module")
def zip_bomb(good):
    """~260 KB that would unpack to 256 MB of zeros (8x the weights cap), built in ~0.5 s without
    ever holding the 256 MB: zeros are fed to the compressor a megabyte at a time."""
    members = members_of(good)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("metadata.json", members["metadata.json"])
        archive.writestr("config.json", members["config.json"])
        with archive.open("model.weights.h5", "w") as f:
            chunk = bytes(1 << 20)
            for _ in range(256):
                f.write(chunk)
    return buffer.getvalue()


# --- Good files: round trips ----------------------------------------------------------------------

@pytest.mark.parametrize("name", list(APP_MODELS))
def test_a_round_trip_predicts_exactly_what_the_original_did(name, app_models, loaded):
    original, model = app_models[name], loaded(name)
    assert [(type(x).__name__, x.name) for x in model.layers] == [(type(x).__name__, x.name) for x in original.layers]
    x = inputs_for(original)
    difference = np.max(np.abs(np.asarray(original(x, training=False)) - np.asarray(model(x, training=False))))
    assert difference == 0.0
    assert model.count_params() == original.count_params()


def test_maxout_comes_back_as_the_apps_registered_layer(loaded):
    model = loaded("maxout")
    assert [type(x) for x in model.layers[:2]] == [activations.Maxout, activations.Maxout]
    assert (model.layers[0].units, model.layers[0].pieces) == (32, 2)


@pytest.mark.parametrize("name", list(APP_MODELS))
def test_inspect_archive_describes_the_file_without_loading_it(name, app_models, files):
    model, data = app_models[name], files[name]
    info = saving.inspect_archive(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:  # the reference: Python's zipfile, directly
        reference = [(i.filename, i.file_size, i.compress_size) for i in archive.infolist()]
        metadata = json.loads(archive.read("metadata.json"))
    assert [(m.name, m.size, m.compressed_size) for m in info.members] == reference
    assert sorted(m.name for m in info.members) == sorted(saving.ALLOWED_MEMBERS)
    assert info.size == len(data) and info.unpacked_size == sum(size for _, size, _ in reference)
    assert info.keras_version == metadata["keras_version"] == keras.__version__
    assert re.fullmatch(r"\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d", info.date_saved)
    assert info.params == model.count_params()
    layers = [x for x in model.layers if not isinstance(x, keras.layers.InputLayer)]  # Functional lists it
    assert info.layer_classes == ["InputLayer"] + [type(x).__name__ for x in layers]
    for outline, layer in zip(info.model.layers[1:], layers, strict=True):
        assert (outline.name, outline.params) == (layer.name, layer.count_params())
        assert outline.output_shape == tuple(layer.output.shape[1:])
    assert info.model.input_shape == tuple(model.input_shape[1:])
    assert info.config["class_name"] == type(model).__name__


def summary_params(model):
    """{layer name: the "Param #" that model.summary() prints}, read from its table."""
    lines = []
    model.summary(print_fn=lambda line, **kwargs: lines.append(line))
    out = {}
    for line in "\n".join(lines).splitlines():
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if len(cells) >= 3 and re.fullmatch(r"[\d,]+", cells[-1]):
            out[cells[0].split(" (")[0]] = int(cells[-1].replace(",", ""))
    return out


@pytest.mark.parametrize("name", list(APP_MODELS))
def test_describe_weights_matches_what_keras_reports_per_layer(name, app_models):
    model = app_models[name]
    described = saving.describe_weights(model)
    printed = summary_params(model)
    assert [d.name for d in described] == [x.name for x in model.layers]
    for d, layer in zip(described, model.layers):
        assert d.params == layer.count_params() == printed.get(layer.name, 0)
        assert [w.shape for w in d.weights] == [tuple(v.shape) for v in layer.weights]
        assert [w.count for w in d.weights] == [int(np.prod(v.shape)) for v in layer.weights]
        assert d.bytes == sum(v.numpy().nbytes for v in layer.weights)
    assert sum(d.params for d in described) == model.count_params()


def test_the_parameter_count_comes_from_the_config_by_hand():
    """The textbook formulas, on the digits CNN: 3·3·1·8 + 8, then (4·4·8)·32 + 32, then 32·10 + 10."""
    shape, layers = models.PRESETS["digits_cnn"]
    info = saving.inspect_archive(saving.to_bytes(models.build_sequential(layers, shape, seed=0)))
    assert [x.params for x in info.model.layers] == [0, 3 * 3 * 1 * 8 + 8, 0, 0, 4 * 4 * 8 * 32 + 32, 32 * 10 + 10]
    assert info.model.output_shape == (10,)


# --- Weights alone, architecture alone -------------------------------------------------------------

def test_weights_alone_load_into_a_copy_of_the_architecture_through_a_private_file(app_models, loader, monkeypatch):
    original = app_models["digits_cnn"]
    shape, layers = models.PRESETS["digits_cnn"]
    other = models.build_sequential(layers, shape, seed=99)  # same architecture, other weights
    before = [w.copy() for w in other.get_weights()]
    seen = {}
    request = saving.process.LockedProcess.request

    def spy(self, message, *args, **kwargs):  # what the upload looks like on disk while the loader has it
        path = message["path"]
        seen.update(path=path, file=stat.S_IMODE(os.stat(path).st_mode),
                    directory=stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode))
        return request(self, message, *args, **kwargs)

    monkeypatch.setattr(saving.process.LockedProcess, "request", spy)
    model = saving.load_weights_upload(saving.weights_to_bytes(original), other, loader=loader)
    x = inputs_for(original)
    assert np.max(np.abs(np.asarray(original(x)) - np.asarray(model(x)))) == 0.0
    assert model is not other and all(np.array_equal(a, b) for a, b in zip(before, other.get_weights()))
    assert (seen["file"], seen["directory"]) == (0o600, 0o700)
    assert seen["path"].endswith(".weights.h5") and not os.path.exists(os.path.dirname(seen["path"]))


def test_weights_of_another_shape_are_refused_before_anything_is_assigned(app_models, loader):
    narrower = models.build_sequential([{"type": "Dense", "units": 16}, {"type": "Activation", "activation": "relu"},
                                        {"type": "Dense", "units": 10}], (784,))
    target = app_models["seed_mlp"]
    before = [w.copy() for w in target.get_weights()]
    error = refused(lambda: saving.load_weights_upload(saving.weights_to_bytes(narrower), target, loader=loader),
                    BadArchive, "weights_mismatch")
    assert error.details == {"variable": "dense_1/kernel", "expected": "(784, 32)", "found": "(784, 16)"}
    assert all(np.array_equal(a, b) for a, b in zip(before, target.get_weights()))


def test_a_keras_file_whose_weights_do_not_fit_its_config_is_refused(good, loader):
    narrower = models.build_sequential([{"type": "Dense", "units": 16}, {"type": "Activation", "activation": "relu"},
                                        {"type": "Dense", "units": 10}], (784,))
    data = zip_of({**members_of(good), "model.weights.h5": members_of(saving.to_bytes(narrower))["model.weights.h5"]})
    assert saving.inspect_archive(data).params == 25_450  # the config alone is fine
    error = refused(lambda: saving.load_upload(data, loader=loader), BadArchive, "weights_mismatch")
    assert error.details["variable"] == "dense_1/kernel"


@pytest.mark.parametrize("data,code", [(lambda files: files["seed_mlp"], "not_weights"),
                                       (lambda files: png_bytes(), "not_weights"), (lambda files: b"", "empty")])
def test_only_an_hdf5_file_is_taken_as_weights(data, code, files, app_models):
    refused(lambda: saving.load_weights_upload(data(files), app_models["seed_mlp"], loader=NEVER), BadArchive, code)


@pytest.mark.parametrize("name", list(APP_MODELS))
def test_the_architecture_alone_round_trips_with_fresh_weights(name, app_models):
    original = app_models[name]
    text = saving.architecture_json(original)
    assert json.loads(text) and len(text) < saving.MAX_CONFIG_BYTES
    model = saving.model_from_architecture(text)
    assert [(type(x).__name__, x.name, tuple(x.output.shape)) for x in model.layers] == \
        [(type(x).__name__, x.name, tuple(x.output.shape)) for x in original.layers]
    assert model.count_params() == original.count_params()
    assert not model.compiled


def test_an_architecture_is_checked_like_a_keras_config(good):
    config = json.loads(members_of(good)["config.json"])
    layers_of(config).insert(1, layer_config("TFSMLayer", {"name": "tfsm", "filepath": "/srv/model"}))
    refused(lambda: saving.model_from_architecture(json.dumps(config)), UnsafeModel, "forbidden_class")
    refused(lambda: saving.model_from_architecture("{not json"), BadArchive, "bad_json")


# --- Hostile archives: refused by inspect_archive, and by load_upload before any loader -----------

HOSTILE_ARCHIVES = {
    "not a zip": (lambda good: b"just some text, certainly not a zip", "not_a_zip"),
    "an empty file": (lambda good: b"", "empty"),
    "a truncated .keras": (lambda good: good[:len(good) // 2], "truncated"),
    "a .keras missing its last bytes": (lambda good: good[:-10], "truncated"),
    "a PNG renamed .keras": (lambda good: png_bytes(), "not_a_zip"),
    "a PNG with a zip appended": (lambda good: png_bytes() + good, "not_a_zip"),
    "over the size limit": (lambda good: b"PK\x03\x04" + bytes(saving.MAX_UPLOAD_BYTES), "too_big"),
    "an extra member": (lambda good: zip_of({**members_of(good), "evil.py": b"import os"}), "unexpected_member"),
    "an assets folder": (lambda good: zip_of({**members_of(good), "assets/vocabulary.txt": b"a\nb"}),
                         "unexpected_member"),
    "no config.json": (lambda good: zip_of({k: v for k, v in members_of(good).items() if k != "config.json"}),
                       "missing_member"),
    "no weights": (lambda good: zip_of({k: v for k, v in members_of(good).items() if k != "model.weights.h5"}),
                   "missing_member"),
    "a member named ../x": (lambda good: zip_of({**members_of(good), "../x": b"x"}), "unsafe_member_name"),
    "an absolute path": (lambda good: zip_of({"/etc/cron.d/x": b"x", **members_of(good)}), "unsafe_member_name"),
    "a backslash path": (lambda good: zip_of({**members_of(good), "..\\x": b"x"}), "unsafe_member_name"),
    "a drive letter": (lambda good: zip_of({**members_of(good), "C:/x": b"x"}), "unsafe_member_name"),
    "a duplicate member": (lambda good: zip_of([*members_of(good).items(), ("config.json", b"{}")]),
                           "duplicate_member"),
    "an encrypted member": (lambda good: patch_records(good, "config.json", flags=0x1), "encrypted"),
    "a symbolic link": (lambda good: zip_of([("metadata.json", members_of(good)["metadata.json"]),
                                             (symlink_info("config.json"), "/etc/passwd")]), "symlink"),
    "bzip2 compression": (lambda good: zip_of(members_of(good), zipfile.ZIP_BZIP2), "unsupported_compression"),
    "a thousand members": (lambda good: zip_of({**members_of(good), **{f"x{k}": b"" for k in range(1001)}}),
                           "too_many_members"),
    "a config over its cap": (lambda good: zip_of({**members_of(good), "config.json": members_of(good)["config.json"]
                                                   + b" " * saving.MAX_CONFIG_BYTES}), "member_too_big"),
    "a damaged member": (lambda good: damaged(good, "config.json"), "corrupt"),
    "config.json not JSON": (lambda good: zip_of({**members_of(good), "config.json": b"{not json"}), "bad_json"),
    "metadata.json not an object": (lambda good: zip_of({**members_of(good), "metadata.json": b"[1, 2]"}), "bad_json"),
    "config nested 40 deep": (lambda good: with_config(good, lambda c: {**c, "deep": json.loads("[" * 40 + "]" * 40)}),
                              "bad_config"),
    "weights that are not HDF5": (lambda good: zip_of({**members_of(good), "model.weights.h5": b"not hdf5"}),
                                  "bad_weights"),
}


def symlink_info(name):
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def damaged(data, name):
    """One byte of a stored member flipped: its CRC no longer matches."""
    start = data.find(name.encode(), data.find(b"PK\x03\x04")) + len(name) + 2
    return data[:start] + bytes([data[start] ^ 0xFF]) + data[start + 1:]


@pytest.mark.parametrize("case", list(HOSTILE_ARCHIVES))
def test_a_hostile_archive_is_refused_before_anything_loads(case, good):
    build, code = HOSTILE_ARCHIVES[case]
    data = build(good)
    refused(lambda: saving.inspect_archive(data), BadArchive, code)
    refused(lambda: saving.load_upload(data, loader=NEVER), BadArchive, code)


def opened_members(monkeypatch):
    """The names of the zip members opened from now on (every read of a member opens it)."""
    opened, real_open = [], zipfile.ZipFile.open

    def spy(self, name, *args, **kwargs):
        opened.append(getattr(name, "filename", name))
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    return opened


def test_a_zip_bomb_is_refused_from_its_directory_without_unpacking(zip_bomb, monkeypatch):
    assert len(zip_bomb) < 1_000_000
    opened = opened_members(monkeypatch)
    error = refused(lambda: saving.inspect_archive(zip_bomb), BadArchive, "zip_bomb")
    assert opened == []  # refused from the directory: not one member was opened
    bomb = zipfile.ZipFile(io.BytesIO(zip_bomb)).getinfo("model.weights.h5")
    assert error.details == {"name": "model.weights.h5", "ratio": f"{bomb.file_size / bomb.compress_size:,.0f}",
                             "limit": 100, "size": "268.4 MB"}


def test_a_bomb_whose_header_understates_its_size_is_read_with_a_hard_cap(zip_bomb):
    """The directory claims 1 KB: Python's zipfile stops there and the CRC fails. Nothing close
    to 256 MB is ever unpacked (the cap on every read is the member's limit + 1 byte): the most
    memory the refusal held is that cap's worth of zlib output (measured 64.5 MB: its buffer
    grows by doubling), not the bomb's 268 MB."""
    lying = patch_records(zip_bomb, "model.weights.h5", size=1_000)
    tracemalloc.start()
    try:
        error = refused(lambda: saving.inspect_archive(lying), BadArchive, "corrupt")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.details == {"name": "model.weights.h5"}
    assert peak < 3 * saving.archive.MAX_WEIGHTS_BYTES < 268_000_000, f"{peak:,} bytes held while refusing"


def test_a_keras_file_whose_weights_start_where_hdf5_may_is_still_a_keras_file(good):
    """Keras stores model.weights.h5 uncompressed: its HDF5 signature can fall on a user-block
    offset (512 * 2**n) of the zip. Padding config.json (JSON allows spaces) puts it at 4096."""
    members = members_of(good)
    padding = 4096 - zip_of(members).find(saving.HDF5_SIGNATURE)
    data = zip_of({**members, "config.json": members["config.json"] + b" " * padding})
    assert data.find(saving.HDF5_SIGNATURE) == 4096
    assert saving.inspect_archive(data).params == 25_450


def test_a_legacy_h5_model_is_refused_everywhere(tmp_path, app_models, loader):
    path = tmp_path / "model.h5"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        app_models["seed_mlp"].save(path)  # the legacy HDF5 format: no member-by-member inspection is possible
    data = path.read_bytes()
    refused(lambda: saving.inspect_archive(data), BadArchive, "legacy_h5")
    refused(lambda: saving.load_upload(data, loader=NEVER), BadArchive, "legacy_h5")
    # As weights it is an HDF5 file, so it reaches the loader, which sees a whole model and refuses.
    refused(lambda: saving.load_weights_upload(data, app_models["seed_mlp"], loader=loader), BadArchive, "legacy_h5")


# --- Hostile configs -------------------------------------------------------------------------------

HOSTILE_CONFIGS = {
    "a TFSMLayer": (insert_layer(layer_config("TFSMLayer", {"name": "tfsm", "filepath": "/srv/saved_model",
                                                            "call_endpoint": "serve"})), "forbidden_class"),
    "a TorchModuleWrapper": (insert_layer(layer_config("TorchModuleWrapper", {"name": "torch", "module": "gASV"})),
                             "forbidden_class"),
    "a StringLookup reading a vocabulary file": (insert_layer(layer_config(
        "StringLookup", {"name": "lookup", "vocabulary": "/etc/passwd"})), "forbidden_class"),
    "a class this app does not use": (insert_layer(layer_config("Conv3D", {"name": "c3", "filters": 2,
                                                                           "kernel_size": 3})), "unknown_class"),
    "a made-up class": (insert_layer(layer_config("Frobnicator", {"name": "f"})), "unknown_class"),
    "a module outside keras": (insert_layer(layer_config("system", {"command": "id"}, module="os")), "unknown_module"),
    "a Dense from another package": (insert_layer(layer_config("Dense", {"name": "d", "units": 3},
                                                               module="evil_package.layers")), "unknown_module"),
    "no module at all": (insert_layer({"class_name": "Dense", "config": {"name": "d", "units": 3}}), "unknown_module"),
    "an initializer from numpy": (set_in_first_dense("kernel_initializer", layer_config("ones", {}, module="numpy")),
                                  "unknown_module"),
    "a function as activation": (set_in_first_dense("activation", {"module": "builtins", "class_name": "function",
                                                                   "config": "eval", "registered_name": "eval"}),
                                 "function"),
    "a registered name that is not Dense's": (lambda c: next(x for x in layers_of(c) if x["class_name"] == "Dense")
                                              .update(registered_name="keras_classroom>Maxout"), "unknown_class"),
    "an unknown activation name": (set_in_first_dense("activation", "os.system"), "unknown_name"),
    "an initializer name Keras does not have": (set_in_first_dense("kernel_initializer", "pickle"), "unknown_name"),
    "a quantized dtype policy": (set_in_first_dense("dtype", {"module": "keras", "class_name": "DTypePolicy",
                                                             "config": {"name": "int8_from_float32"},
                                                             "registered_name": None}), "unknown_name"),
    "a model inside the model": (insert_layer({"module": "keras", "class_name": "Sequential",
                                               "config": {"name": "inner", "layers": []}, "registered_name": None}),
                                 "unsupported_config"),
    "a LoRA Dense": (set_in_first_dense("lora_rank", 4), "unsupported_config"),
    "a build shape the graph does not give": (lambda c: next(x for x in layers_of(c) if x["class_name"] == "Dense")
                                              .update(build_config={"input_shape": [None, 4]}), "config_mismatch"),
    "a layer where the model should be": (lambda c: layers_of(c)[1], "not_a_model"),
    "no input shape": (lambda c: unbuilt(c), "no_input_shape"),
    "60 layers": (lambda c: layers_of(c).extend(
        layer_config("Dropout", {"name": f"drop_{k}", "rate": 0.1}) for k in range(60)), "too_many_layers"),
    "an input of 134 million numbers": (lambda c: without_build_configs(c, [None, 2 ** 27]), "too_large_output"),
    "a function hidden in compile_config": (lambda c: c.update(compile_config={"loss": {
        "module": "builtins", "class_name": "function", "config": "exec", "registered_name": "exec"}}), "function"),
    "an unknown optimizer in compile_config": (lambda c: c.update(compile_config={"optimizer": layer_config(
        "Evil", {}, module="keras.optimizers")}), "unknown_class"),
}


def without_build_configs(config, input_shape):
    """The seed MLP's config on another input: declared build shapes dropped (they are optional)."""
    for layer in layers_of(config):
        layer.pop("build_config", None)
    layers_of(config)[0]["config"]["batch_shape"] = input_shape
    config["config"]["build_input_shape"] = input_shape
    config.pop("build_config", None)


def unbuilt(config):
    without_build_configs(config, None)
    config["config"].pop("build_input_shape")
    layers_of(config).pop(0)


@pytest.mark.parametrize("case", list(HOSTILE_CONFIGS))
def test_a_hostile_config_is_refused_before_anything_loads(case, good):
    change, code = HOSTILE_CONFIGS[case]
    data = with_config(good, change)
    kind = UnsafeModel if code in saving.ERROR_CODES[UnsafeModel] else BadArchive
    refused(lambda: saving.inspect_archive(data), kind, code)
    refused(lambda: saving.load_upload(data, loader=NEVER), kind, code)


def test_billions_of_parameters_are_refused_from_the_config_before_a_weight_is_read(good, monkeypatch):
    """Dense(100000) on 100,000 inputs: 10,000,100,000 parameters. The weights member is junk,
    which would be 'bad_weights' had it been read: the count is refused first, from the config alone."""
    def huge(config):
        without_build_configs(config, [None, 100_000])
        layers_of(config)[1]["config"]["units"] = 100_000

    members = members_of(with_config(good, huge))
    data = zip_of({**members, "model.weights.h5": b"junk, never read"})
    opened = opened_members(monkeypatch)
    error = refused(lambda: saving.inspect_archive(data), UnsafeModel, "too_many_params")
    assert opened == ["metadata.json", "config.json"]  # refused from the config: the weights never opened
    assert error.details["params"] == f"{100_000 * 100_000 + 100_000 + 100_000 * 10 + 10:,}"
    refused(lambda: saving.load_upload(data, loader=NEVER), UnsafeModel, "too_many_params")


def test_a_lambda_payload_never_runs(tmp_path, good, loader):
    """A real Lambda whose function would create a marker file. Serialising it never calls it;
    inspect_archive refuses it, load_upload refuses it, the loader process refuses it on its own
    when handed the file directly, and Keras's safe_mode (the last line) refuses it too."""
    marker = tmp_path / "the_payload_ran"
    payload = keras.layers.Lambda(lambda x, path=str(marker): (open(path, "w").write("ran"), x)[1], name="evil")
    data = with_config(good, insert_layer(keras.saving.serialize_keras_object(payload)))
    error = refused(lambda: saving.inspect_archive(data), UnsafeModel, "forbidden_class")
    assert error.details == {"name": "Lambda"}
    refused(lambda: saving.load_upload(data, loader=NEVER), UnsafeModel, "forbidden_class")
    refused(lambda: loader.run({"op": "load_model"}, data, "upload.keras"), UnsafeModel, "forbidden_class")
    path = tmp_path / "evil.keras"
    path.write_bytes(data)
    with pytest.raises(Exception, match="lambda"):
        keras.saving.load_model(path, safe_mode=True)
    assert not marker.exists()


# --- The loader's limits, and what it may send back -------------------------------------------------

@pytest.fixture(scope="module")
def biggest_model_file():
    """A model at the parameter cap's scale: 784 -> 2400 -> 32 -> 10, 1,961,162 parameters (7.8 MB)."""
    model = models.build_sequential([{"type": "Dense", "units": 2400}, {"type": "Dense", "units": 32},
                                     {"type": "Dense", "units": 10}], (784,), seed=0)
    return saving.to_bytes(model)


def test_a_load_over_its_time_limit_is_stopped(biggest_model_file, loader, monkeypatch):
    monkeypatch.setattr(loader, "seconds", 0.05)
    refused(lambda: saving.load_upload(biggest_model_file, loader=loader), UnsafeModel, "too_slow")


def test_a_load_over_its_memory_limit_is_stopped(biggest_model_file):
    """A loader allowed 20 MB beyond its idle size cannot load 7.8 MB of weights (read, checked and
    copied several times): RLIMIT_DATA makes the allocation fail, or the watchdog kills it."""
    strict = saving.Loader(memory_bytes=20_000_000)
    try:
        error = refused(lambda: saving.load_upload(biggest_model_file, loader=strict), UnsafeModel, "too_much_memory")
        assert error.details == {"limit": "20 MB"}
    finally:
        strict.close()


def test_a_spare_loader_stops_when_no_load_comes_and_the_next_load_starts_one(good):
    def loader_processes():
        """This test process's children that are loader processes (from /proc: no `pgrep` in the count)."""
        found = set()
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/stat") as f:
                    parent = int(f.read().rsplit(")", 1)[1].split()[1])
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    command = f.read()
            except OSError:
                continue
            if parent == os.getpid() and b"lib.saving.inside import main" in command:
                found.add(pid)
        return found

    before = loader_processes()  # other loaders' processes (their spares, their hosts) come and go on their own
    idle = saving.Loader(spare_idle_s=1.0)
    try:
        spare = wait_until(lambda: loader_processes() - before, 120, "no spare loader started")  # it is starting
        wait_until(lambda: not loader_processes() & spare, 240,  # it stops once its start (TensorFlow's import) is over
                   "the spare loader did not stop without a load", interval=0.2)
        assert idle._spare is None  # stopped, its process gone
        model = saving.load_upload(good, loader=idle)  # a load after that starts a loader again
        assert model.count_params() == saving.inspect_archive(good).params
    finally:
        idle.close()


@pytest.mark.parametrize("version,accepted", [("3.15.1", True), ("3.16.0", True), ("4.0.0", True),
                                              ("3.15.0", False), ("3.9.2", False), ("2.15.0", False), ("x", False)])
def test_keras_older_than_3_15_1_is_refused(version, accepted):
    if accepted:
        saving.check_keras_version(version)
    else:
        error = refused(lambda: saving.check_keras_version(version), UnsafeModel, "keras_too_old")
        assert error.details == {"version": version, "required": "3.15.1"}


def test_an_old_keras_refuses_every_load_before_looking_at_the_file(monkeypatch, good, app_models):
    monkeypatch.setattr(keras, "__version__", "3.13.0")
    refused(lambda: saving.load_upload(good, loader=NEVER), UnsafeModel, "keras_too_old")
    refused(lambda: saving.load_weights_upload(b"x", app_models["seed_mlp"], loader=NEVER), UnsafeModel,
            "keras_too_old")


@pytest.mark.parametrize("header,payload,code", [
    (b"\x80\x04\x95 a pickle", b"", "loader_failed"),
    (json.dumps({"ok": True, "config": {}, "arrays": [{"dtype": "<f4", "shape": [1000]}]}).encode(), b"\0" * 16,
     "loader_failed"),
    (json.dumps({"ok": True, "config": {}, "arrays": [{"dtype": "|O", "shape": [1]}]}).encode(), b"\0" * 8,
     "loader_failed"),
    (json.dumps({"ok": True, "config": {}, "arrays": []}).encode(), b"\0" * 4, "loader_failed"),
    (json.dumps({"ok": False, "kind": "UnsafeModel", "code": "anything", "details": {}}).encode(), b"",
     "loader_failed"),
    (json.dumps({"ok": False, "kind": "BadArchive", "code": "weights_missing",
                 "details": {"variable": "dense_1/kernel"}}).encode(), b"", "weights_missing"),
])
def test_the_loaders_answer_is_checked_as_plain_data(header, payload, code):
    kind = BadArchive if code in saving.ERROR_CODES[BadArchive] else UnsafeModel
    refused(lambda: saving.process.read_answer(header, payload, saving.LOAD_MEMORY_BYTES), kind, code)


def test_the_loaders_arrays_come_back_exactly():
    arrays = [np.arange(6, dtype="<f4").reshape(2, 3), np.array([1.5], dtype="<f8")]
    header = json.dumps({"ok": True, "arrays": [{"dtype": a.dtype.str, "shape": list(a.shape)} for a in arrays]})
    _, back = saving.process.read_answer(header.encode(), b"".join(a.tobytes() for a in arrays), saving.LOAD_MEMORY_BYTES)
    assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(arrays, back))


# --- The same content, answered once ----------------------------------------------------------------

def test_recent_makes_an_answer_once_when_a_whole_class_asks_at_once():
    import threading

    from lib.saving.recent import Recent

    calls, asked, answers = [], [], []
    recent = Recent(entries=4, max_bytes=1000, size=len)

    def make():
        calls.append(1)
        # Answered only once all thirty have asked: they all ask while the first is still making it.
        wait_until(lambda: len(asked) == 30, 120, "not all thirty asked", interval=0.01)
        return b"answer"

    def ask():
        asked.append(1)
        answers.append(recent.get("k", make))

    threads = [threading.Thread(target=ask) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    assert not any(thread.is_alive() for thread in threads)
    assert len(calls) == 1 and answers == [b"answer"] * 30


def test_recent_is_bounded_by_entries_and_bytes_and_keeps_no_failure():
    from lib.saving.recent import Recent

    recent = Recent(entries=3, max_bytes=10, size=len)
    for k in "abcd":
        recent.get(k, lambda: b"xx")
    assert len(recent) == 3 and recent.get("a", lambda: b"new") == b"new"  # "a" was the oldest: gone
    recent.get("big", lambda: b"x" * 9)  # 9 + the others' 2 bytes each > 10: the oldest leave
    assert recent.nbytes() <= 10
    assert recent.get("huge", lambda: b"x" * 11) == b"x" * 11 and len(recent.get("huge", lambda: b"")) == 0
    with pytest.raises(ZeroDivisionError):
        recent.get("fails", lambda: 1 / 0)
    assert recent.get("fails", lambda: b"ok") == b"ok"


def test_the_same_model_gets_the_same_files_and_the_loader_is_asked_once(app_models, loader, monkeypatch):
    from lib.saving.recent import Recent

    asked = []

    class Counting:
        def run(self, *args, **kwargs):
            asked.append(args[0]["op"])
            return loader.run(*args, **kwargs)

    monkeypatch.setattr(saving, "get_loader", Counting)
    monkeypatch.setattr(saving, "_ANSWERS", Recent(entries=4, max_bytes=2 ** 24, size=saving._nbytes))
    model, twin = APP_MODELS["digits_cnn"](), APP_MODELS["digits_cnn"]()  # two objects, one content
    files = saving.model_files(model)
    assert saving.model_files(twin) is files and files[2] == saving.architecture_json(model)
    assert saving.model_files(APP_MODELS["seed_mlp"]())[0] != files[0]
    first, again = saving.load_upload(files[0]), saving.load_upload(files[0])
    x = saving.probe_inputs(model, n=8)
    for back in (first, again):
        np.testing.assert_array_equal(np.asarray(back(x)), np.asarray(model(x)))
    assert first is not again and asked == ["load_model"]  # one trip; each student a model of their own
    saving.load_weights_upload(files[1], model)
    saving.load_weights_upload(files[1], twin)
    assert asked == ["load_model", "load_weights"]


@pytest.mark.parametrize("name", sorted(APP_MODELS))
def test_the_servers_own_file_is_loaded_back_here_after_an_uploads_checks_without_a_loader_process(
        name, app_models, files, monkeypatch):
    """open_own_file: load_model in this process (a fresh server's Save & load no longer waits for a
    loader process to import TensorFlow), the same numbers bit for bit, Maxout included; a file
    that is not what the server writes is refused by the inspection an upload gets, before Keras."""
    def no_loader(*args, **kwargs):
        raise AssertionError("the server's own file went to a loader process")

    from lib.saving.recent import Recent

    monkeypatch.setattr(saving, "get_loader", no_loader)
    monkeypatch.setattr(saving, "_OPENED", Recent(entries=2, max_bytes=2 ** 26, size=saving._passes_bytes))
    model = app_models[name]
    loaded = saving.open_own_file(files[name], "model.keras")
    x = saving.probe_inputs(model, n=8)
    np.testing.assert_array_equal(np.asarray(loaded.model(x, training=False)), np.asarray(model(x, training=False)))
    assert (loaded.name, loaded.digest) == ("model.keras", saving.file_digest(files[name]))
    assert [w.shape for w in loaded.model.weights] == [w.shape for w in model.weights]
    doctored = zip_of({**members_of(files[name]), "../x": b"x"})
    refused(lambda: saving.open_own_file(doctored, "model.keras"), BadArchive, "unsafe_member_name")


# --- Messages -------------------------------------------------------------------------------------------

def test_every_refusal_code_has_a_message_in_both_languages():
    codes = {code for group in saving.ERROR_CODES.values() for code in group}
    for lang in i18n.LANGUAGES:
        keys = {k.rsplit(".", 1)[1] for k in i18n.catalog(lang) if k.startswith("save_load.error.")}
        assert keys == codes, lang


# --- The page ---------------------------------------------------------------------------------------

def test_the_page_saves_looks_inside_loads_back_exactly_and_its_code_prints_the_same(tmp_path):
    import re

    from lib import evaluate, ui
    from tests.helpers import open_page, run_snippet, shown_code

    at = open_page("lessons/save-load.py")
    assert not at.exception
    members = at.dataframe[0].value
    assert list(members.iloc[:, 0]) == list(saving.ALLOWED_MEMBERS)
    rows = at.dataframe[1].value
    assert list(rows["layer"]) == ["input"] + [layer.name for layer in evaluate.class_model().model.layers]
    assert int(rows["params"].sum()) == evaluate.class_model().model.count_params()
    assert "**0**" in " ".join(m.value for m in at.markdown)  # the round trip's largest difference
    assert at.session_state[ui.LOADED_MODEL].name == "model.keras"
    out = run_snippet(shown_code(at), tmp_path)
    assert f"Keras version: {keras.__version__}" in out and f"parameters: {int(rows['params'].sum())}" in out
    assert [line.split()[1] for line in out.splitlines() if re.match(r"^(InputLayer|Conv2D|MaxPooling2D|Flatten|Dense) ",
                                                                       line)] == list(rows["layer"])
    assert "load_model: largest difference 0\n" in out and "model_from_json + load_weights: largest difference 0\n" in out


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_hostile_upload_is_refused_with_its_reason_and_nothing_is_loaded(lang, good):
    from lib import ui
    from tests.helpers import open_page

    at = open_page("lessons/save-load.py", lang)
    before = at.session_state[ui.LOADED_MODEL].digest
    for raw, name, code in ((b"not a zip at all", "x.keras", "not_a_zip"), (png_bytes(), "photo.keras", "not_a_zip"),
                            (zip_of({**members_of(good), "../x": b"x"}), "trick.keras", "unsafe_member_name"),
                            (b"\x89HDF\r\n\x1a\n" + bytes(200), "old.h5", "legacy_h5")):
        at.file_uploader(key="save_load.upload").upload(name, raw, "application/octet-stream").run()
        assert not at.exception
        message = i18n.translate(f"save_load.error.{code}", lang, **refused_details(raw))
        assert any(e.value == message for e in at.error), (code, [e.value for e in at.error])
        assert at.session_state[ui.LOADED_MODEL].digest == before  # nothing new was loaded


def refused_details(raw):
    try:
        saving.inspect_archive(raw)
    except saving.SavingError as e:
        return e.details
    raise AssertionError("not refused")


def test_a_good_upload_becomes_the_model_the_evaluate_page_grades(files, good):
    from lib import data, ui
    from tests.helpers import open_page

    at = open_page("lessons/save-load.py")
    at.file_uploader(key="save_load.upload").upload("friend.keras", files["digits_cnn"], "application/zip").run()
    assert not at.exception and at.success and at.session_state[ui.LOADED_MODEL].name == "friend.keras"
    at.switch_page("lessons/evaluate.py")
    at.query_params.update({"evaluate.source": "loaded"})
    at.run()
    assert not at.exception and ui.literal("friend.keras") in " ".join(m.value for m in at.markdown)
    at.switch_page("lessons/save-load.py")
    at.run()
    at.file_uploader(key="save_load.upload").upload("mnist_sized.keras", good, "application/zip").run()
    at.switch_page("lessons/evaluate.py")
    at.query_params.update({"evaluate.source": "loaded"})
    at.run()  # a 784-input model is graded on the MNIST at hand (the 5,000 offline digits here)
    about = i18n.translate(f"evaluate.datasets.{data.offline_mnist()}", "en")
    assert not at.exception and not at.warning, at.warning
    assert about in " ".join(m.value for m in at.markdown)


def test_weights_alone_go_into_the_chosen_architecture(app_models):
    from lib import evaluate, ui
    from tests.helpers import open_page

    weights = saving.weights_to_bytes(evaluate.class_model().model)
    at = open_page("lessons/save-load.py")
    at.file_uploader(key="save_load.upload").upload("class.weights.h5", weights, "application/x-hdf5").run()
    assert not at.exception and at.success
    theirs = at.session_state[ui.LOADED_MODEL]
    x = saving.probe_inputs(theirs.model)
    assert not theirs.passes.runs_here  # a stranger's weights: run in the loader's host process
    # the same weights in the same architecture; two processes may add in another order (their
    # threads split the sums differently: seen once, 1.1e-05 relative), so equal to float32 rounding
    np.testing.assert_allclose(theirs.passes.predict(x), np.asarray(evaluate.class_model().model(x)),
                               rtol=1e-4, atol=1e-7)


def test_keep_training_starts_from_the_loaded_weights(runner):
    from lib import evaluate
    from tests.helpers import finish

    shared = evaluate.class_model()
    model = shared.model
    job = saving.continue_job(model, shared.dataset, epochs=1)
    run = finish(runner.submit(job))
    assert run.status == "done" and run.epochs_done() == 1
    assert run.history()["accuracy"][0] > 0.9  # a fresh start would be near 0.1 after one epoch
    np.testing.assert_array_equal(job.start[0], model.get_weights()[0])


def test_the_stack_from_the_model_page_is_saved_untrained(tmp_path):
    from tests.helpers import open_page, run_snippet, shown_code

    at = open_page("lessons/model.py")
    at.button(key="model.preset_digits_cnn").click().run()
    at.switch_page("lessons/save-load.py")
    at.query_params.update({"save_load.source": "built"})
    at.run()
    assert not at.exception and not at.info
    out = run_snippet(shown_code(at), tmp_path)
    assert "load_model: largest difference 0\n" in out and "parameters: 4538" in out
