"""Inside a loader process: what runs next to a stranger's file. It connects back to the server,
imports Keras, limits itself (private memory, CPU time, file size, no core files) and serves
requests in JSON and raw bytes:

    load_model / load_weights   check the file again, load it with safe_mode; keep the model
                                (`keep`) and send its config and weights back (`send`)
    predict                     the model's outputs for a batch of inputs, in batches of `batch_size`
    follow                      one input through every layer: each layer's output, then the logits

The server kills it when it is done with it, or at a limit; nothing it did outlives it."""
import io
import json
import math
import os
import sys
import time
import zipfile
from multiprocessing.connection import Client

from lib import limits
from lib.saving.archive import MAX_UPLOAD_BYTES, check_upload_size, inspect_archive, read_member
from lib.saving.config import check_config
from lib.saving.process import MAX_HEADER_BYTES
from lib.saving.rebuild import deserialize, weight_label
from lib.saving.refusals import BadArchive, SavingError, UnsafeModel, check_keras_version, plain_line, shape_text

MAX_H5_OBJECTS = 10_000  # groups + datasets in a weights file: ~5 per layer in what Keras writes
# Inputs a pass may be given: the largest mock exam here is 10,000 MNIST images (31 MB of float32).
MAX_INPUT_BYTES = 64_000_000
_held = {}  # "model": the model this process keeps for passes (a host)


def main():
    """Where a loader process starts: connect back, import Keras, limit itself, serve requests
    until the server closes the connection (or kills it)."""
    setup = json.loads(sys.stdin.readline())
    # No PR_SET_PDEATHSIG: it fires when the *thread* that started this process ends, and spares
    # are started from short-lived threads. When the server goes, the connection ends (EOF): so
    # does this process.
    connection = Client(setup["address"], authkey=bytes.fromhex(setup["key"]))
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras  # noqa: F401

    import lib.activations  # noqa: F401  registers Maxout

    _limit_resources(setup["memory_bytes"])
    connection.send_bytes(json.dumps({"ready": True, "pid": os.getpid()}).encode())
    try:
        while True:
            request, inputs = _receive(connection)
            limits.allow_cpu(setup["cpu_seconds"])  # each request gets its own CPU time
            header, payload = _serve(request, inputs)
            connection.send_bytes(json.dumps(header).encode())
            connection.send_bytes(payload)
    except (EOFError, OSError):
        pass
    finally:
        os._exit(0)  # TensorFlow's teardown is slow, and there is nothing to keep


def _receive(connection):
    """(request, its input arrays) from the server."""
    import numpy as np

    request = json.loads(connection.recv_bytes(MAX_HEADER_BYTES))
    specs = request.get("inputs") or []
    if not specs:
        return request, []
    payload, arrays, offset = connection.recv_bytes(MAX_INPUT_BYTES), [], 0
    for spec in specs:
        count = math.prod(spec["shape"])
        arrays.append(np.frombuffer(payload, dtype=spec["dtype"], count=count, offset=offset).reshape(spec["shape"]))
        offset += count * np.dtype(spec["dtype"]).itemsize
    return request, arrays


def _limit_resources(memory_bytes):
    """RLIMIT_DATA (private writable memory: what a load allocates, measured to work with
    TensorFlow where RLIMIT_AS does not), bounded file writes, no core files, first to go, and
    behind the server for the CPU."""
    limits.limit_memory(memory_bytes)
    limits.set_limit("RLIMIT_FSIZE", 2 * MAX_UPLOAD_BYTES)  # Keras may unpack the weights next to the file
    limits.first_to_go()
    limits.yield_to_the_class()


def _serve(request, inputs):
    """One request: (header, payload). Refusals go back as code and details."""
    started = time.perf_counter()
    op = request.get("op")
    try:
        check_keras_version()
        if op in ("load_model", "load_weights"):
            arrays, extra = _load(request)
        elif op in ("predict", "follow") and "model" in _held:
            arrays, extra = (_predict if op == "predict" else _follow)(_held["model"], inputs, request)
        else:
            raise UnsafeModel("run_failed" if op in ("predict", "follow") else "loader_failed", "unknown request")
        header = {"ok": True, **extra, "arrays": [{"dtype": a.dtype.str, "shape": list(a.shape)} for a in arrays],
                  "timings": {"in_loader": time.perf_counter() - started}}
        return header, b"".join(a.tobytes() for a in arrays)
    except SavingError as e:
        return _refusal(type(e).__name__, e.code, str(e), e.details), b""
    except MemoryError:
        return _refusal("UnsafeModel", _out_of_memory(op), "out of memory", {}), b""
    except Exception as e:  # Keras refused the file (or the pass): say what it said
        if type(e).__name__ == "ResourceExhaustedError":
            return _refusal("UnsafeModel", _out_of_memory(op), "out of memory", {}), b""
        if op in ("predict", "follow"):
            return _refusal("UnsafeModel", "run_failed", plain_line(e), {}), b""
        return _refusal("BadArchive", "load_failed", plain_line(e), {"message": plain_line(e)}), b""


def _out_of_memory(op):
    return "run_too_much_memory" if op in ("predict", "follow") else "too_much_memory"


def _little_endian(arrays):
    import numpy as np

    return [np.ascontiguousarray(a).astype(np.dtype(a.dtype).newbyteorder("<"), copy=False) for a in arrays]


def _load(request):
    """A model from the file at request["path"]: kept for passes if asked, and its config and
    weights sent back if asked."""
    import keras

    path = request["path"]
    with open(path, "rb") as f:
        data = f.read(MAX_UPLOAD_BYTES + 1)
    if request["op"] == "load_model":
        model = _load_model_here(path, data)
    else:
        model = _load_weights_here(path, data, request["architecture"])
    if request.get("keep"):
        _held["model"] = model
    if not request.get("send", True):
        return [], {}
    config = keras.saving.serialize_keras_object(model) if request["op"] == "load_model" else None
    return _little_endian(model.get_weights()), {"config": config}


def _predict(model, inputs, request):
    """The model's outputs for inputs[0], `batch_size` examples at a time (the server chose it
    from the model's outline so that a batch stays within its memory budget)."""
    import numpy as np

    x, step = inputs[0], max(1, int(request["batch_size"]))
    parts = [np.asarray(model(x[k:k + step], training=False), dtype="float32") for k in range(0, len(x), step)]
    return [np.concatenate(parts) if parts else np.zeros((0,), "float32")], {}


def _follow(model, inputs, request):
    """inputs[0] through every layer (a Functional chain as the Sequential of its layers): each
    layer's output, then the logits; the layers' names in the header."""
    from lib import evaluate

    chain = evaluate.as_sequential(model)
    outputs = evaluate.layer_outputs(chain, inputs[0])
    logits = evaluate.logits(chain, outputs, inputs[0])
    return _little_endian([a for _, a in outputs] + [logits]), {"names": [name for name, _ in outputs]}


def _refusal(kind, code, message, details):
    return {"ok": False, "kind": kind, "code": code, "message": message[:300], "details": details}


def _load_model_here(path, data):
    """Check again what the server checked, check the weights' layout, then let Keras load it."""
    import keras

    info = inspect_archive(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        weights = read_member(archive, archive.getinfo("model.weights.h5"))
    _check_layout(deserialize(info.config), io.BytesIO(weights), os.path.dirname(path))
    return keras.saving.load_model(path, safe_mode=True, compile=False)


def _load_weights_here(path, data, architecture):
    """Weights only: into the architecture the app sent, never as a whole model."""
    check_upload_size(data, MAX_UPLOAD_BYTES)
    config = json.loads(architecture)
    check_config(config)
    model = deserialize(config)
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
    order = {weight_label(w): k for k, w in enumerate(model.weights)}
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
                             expected=shape_text(shape), found=shape_text(found_shape))
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
        return weight_label(layer.weights[int(index)])
    except Exception:
        return path
