"""What Save & load shows of a model's files before it runs anything — the three downloads, where
model.weights.h5's bytes go, its layers' weight shapes, its parameter count — as a `FileView`:
`file_view(model)` makes it with Keras; `class_file_view()` is the class model's, made once per
computer and kept in the app's folder ("class-files/") beside the kept model (lib.class_model), so
a server started again shows it while TensorFlow is still being imported.

The kept file is named by the kept model's file (itself named by everything the training depends
on) and by the code that makes the view (this module, lib.saving, lib.saving.optimizer_state): a
change to any of them makes it anew. It is read as a stranger's file would be (no pickle, bounded,
private, every fact checked, the archive inspected as every upload is — `inspect_archive` — and its
weights' size and parameter count checked against the facts).
"""
import dataclasses
import functools
import json
import logging
import os
import threading

import numpy as np

from lib import class_model, kept
from lib.saving.archive import inspect_archive
from lib.saving.optimizer_state import COUNTERS, Part, WeightsFile, weight_shapes, weights_file

PARTS = ("keras", "weights", "architecture")  # FileView.files, in order: the three downloads
LARGEST_BYTES = 16 * 2 ** 20  # the class model's three files are ~0.2 MB
_making = threading.Lock()


@dataclasses.dataclass(frozen=True)
class FileView:
    """A model's files as Save & load offers them, and what it measures in them."""
    files: tuple  # (.keras bytes, .weights.h5 bytes, architecture JSON text): saving.model_files
    weights_file: WeightsFile  # model.weights.h5 of the .keras file, part by part
    shapes: dict  # layer name -> its weights' names and shapes, as the parts table says them
    params: int  # model.count_params()


def file_view(model):
    """The FileView of a Keras model (its files made once per content: `saving.model_files`)."""
    from lib.saving import model_files

    return FileView(model_files(model), weights_file(model), weight_shapes(model), int(model.count_params()))


def class_file_view(dataset=None):
    """The class model's FileView: read back when an earlier server made it with the same code,
    else made with Keras and kept. Once per process; the first caller makes it, the others wait."""
    with _making:
        return _class_file_view(dataset or class_model.class_dataset())


@functools.lru_cache(maxsize=2)
def _class_file_view(dataset):
    path = view_path(dataset)
    view = read_kept(path)
    if view is None:
        view = file_view(class_model.class_model(dataset).model)
        keep(path, view)
    return view


def view_path(dataset):
    """Where the class model's view is kept: "class-files/<data set>-<digest>.npz"."""
    from lib import saving
    from lib.saving import optimizer_state

    return class_model.kept_beside(dataset, "class-files", [__file__, saving.__file__, optimizer_state.__file__])


def keep(path, view):
    """Write the view whole: the three files as bytes, its facts as the JSON entry of the last."""
    keras_file, weights, architecture = view.files
    facts = {"weights_file": dataclasses.asdict(view.weights_file), "shapes": view.shapes, "params": view.params}
    entries = [{"part": part} for part in PARTS] + [{"part": "facts", **facts}]
    blobs = [keras_file, weights, architecture.encode()]
    arrays = [np.frombuffer(blob, dtype=np.uint8) for blob in blobs] + [np.zeros(0, np.uint8)]
    return kept.write_arrays(path, entries, arrays, replaces=os.path.basename(path).split("-")[0] + "-")


def read_kept(path):
    """The FileView kept at `path`, or None when there is none to trust (missing, not private,
    torn, or anything `keep` could not have written: logged)."""
    parts = kept.read_arrays(path, _checked_part, most=len(PARTS) + 1, largest_bytes=LARGEST_BYTES)
    if set(parts) != {*PARTS, "facts"}:
        return None
    try:
        files = (parts["keras"].tobytes(), parts["weights"].tobytes(), parts["architecture"].tobytes().decode())
        json.loads(files[2])
        facts = parts["facts"]
        info = inspect_archive(files[0])  # as an upload is: the members Keras writes, the layers this app has
        size = next(m.size for m in info.members if m.name == "model.weights.h5")
        if facts["weights_file"].size != size:
            raise ValueError(f"a weights file of {facts['weights_file'].size:,} bytes for one of {size:,}")
        if facts["params"] != info.params:
            raise ValueError(f"{facts['params']:,} parameters for a config of {info.params:,}")
        return FileView(files, facts["weights_file"], facts["shapes"], facts["params"])
    except Exception as e:  # (not a .keras file, not JSON, not UTF-8, another size or count)
        logging.getLogger(__name__).warning("%s could not be read: %s", path, e)
        return None


def _checked_part(entry, array):
    """(part, its bytes or its facts) when the entry is one `keep` writes; else ValueError."""
    part = entry.get("part") if isinstance(entry, dict) else None
    if array.dtype != np.uint8 or array.ndim != 1:
        raise ValueError(f"not a kept file's bytes: {array.dtype} {array.shape}")
    if part in PARTS and set(entry) == {"part"}:
        return part, array
    if part == "facts" and set(entry) == {"part", "weights_file", "shapes", "params"} and not array.size:
        return part, {"weights_file": _weights_file(entry["weights_file"]), "shapes": _shapes(entry["shapes"]),
                      "params": _count(entry["params"])}
    raise ValueError(f"not a kept view's part: {str(entry)[:80]!r}")


def _weights_file(facts):
    """A WeightsFile from its kept dict, every field of the type and range `weights_file` gives."""
    if not isinstance(facts, dict) or set(facts) != {f.name for f in dataclasses.fields(WeightsFile)}:
        raise ValueError("not a weights file's facts")
    rate, optimizer = facts["learning_rate"], facts["optimizer"]
    if rate is not None and (not isinstance(rate, float) or not 0 < rate < 1e3) or not isinstance(optimizer, str):
        raise ValueError(f"an optimizer {optimizer!r} at a rate of {rate!r}")
    slots = tuple(_part(p) for p in _listed(facts["slots"]))
    if any(p.name not in ("momentum", "velocity", *COUNTERS) for p in slots):
        raise ValueError("a slot no optimizer of the class model has")
    return WeightsFile(_count(facts["size"]), tuple(_part(p) for p in _listed(facts["layers"])), slots,
                       optimizer, _count(facts["step"]), rate)


def _part(facts):
    if not isinstance(facts, dict) or set(facts) != {"name", "values", "bytes"} or not _name(facts["name"]):
        raise ValueError("not a part of a weights file")
    return Part(facts["name"], _count(facts["values"]), _count(facts["bytes"]))


def _shapes(shapes):
    if not isinstance(shapes, dict) or len(shapes) > 64 or not all(
            _name(k) and isinstance(v, str) and len(v) <= 200 for k, v in shapes.items()):
        raise ValueError("not the layers' shapes")
    return shapes


def _listed(items):
    if not isinstance(items, list) or len(items) > 64:
        raise ValueError("not a list of parts")
    return items


def _name(name):
    return isinstance(name, str) and 0 < len(name) <= 100


def _count(number):
    if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number < 2 ** 40:
        raise ValueError(f"not a count: {number!r}")
    return number
