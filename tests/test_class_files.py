"""What Save & load shows of the class model's files is made by Keras once per computer and read back
by the next server without TensorFlow (lib/saving/class_files.py): the same files and numbers, never
from a file the module could not have written, and a class link to Save & load shows the downloads,
the archive and where the weights file's bytes go before TensorFlow is imported."""
import dataclasses
import json
import logging
import os
import subprocess
import sys

import numpy as np
import pytest

from lib import class_model, kept, saving
from lib.saving import class_files, optimizer_state
from tests.helpers import ROOT, page_without_tensorflow

make = class_files._class_file_view.__wrapped__  # what a new server process does: nothing in memory yet


@pytest.fixture
def folder(monkeypatch, tmp_path):
    """An empty app folder of this test's own."""
    monkeypatch.setenv("KERAS_CLASSROOM_DATA", str(tmp_path / "app"))
    return tmp_path / "app"


READ_BACK = """
import dataclasses, hashlib, json, sys
from lib.saving import class_files
view = class_files.class_file_view("digits")
files = [hashlib.sha256(f if isinstance(f, bytes) else f.encode()).hexdigest() for f in view.files]
print(json.dumps({"tensorflow": "tensorflow" in sys.modules, "params": view.params, "shapes": view.shapes,
                  "weights_file": dataclasses.asdict(view.weights_file), "files": files}))
"""


def sha(blob):
    import hashlib

    return hashlib.sha256(blob if isinstance(blob, bytes) else blob.encode()).hexdigest()


def test_the_view_is_kerass_and_the_next_server_reads_it_back_without_tensorflow(folder):
    first = make("digits")  # the first server on this computer: made by Keras, and kept
    path = class_files.view_path("digits")
    assert os.path.dirname(path) == str(folder / "class-files") and os.path.exists(path)
    model = class_model.class_model("digits").model
    assert first.weights_file == optimizer_state.weights_file(model)
    assert first.shapes == optimizer_state.weight_shapes(model) and first.params == model.count_params()
    assert first.files == saving.model_files(model)  # the files the page offers for this model
    assert make("digits") == first  # read back in this process
    result = subprocess.run([sys.executable, "-c", READ_BACK], cwd=ROOT, capture_output=True, text=True,
                            timeout=240, env=dict(os.environ))
    assert result.returncode == 0, result.stderr[-3000:]
    again = json.loads(result.stdout.strip().splitlines()[-1])
    assert again["tensorflow"] is False, "the kept files waited for TensorFlow"
    assert again["files"] == [sha(f) for f in first.files]
    assert again["weights_file"] == json.loads(json.dumps(dataclasses.asdict(first.weights_file)))
    assert again["shapes"] == first.shapes and again["params"] == first.params


def test_a_kept_view_the_module_could_not_have_written_is_not_read_and_is_made_anew(folder, caplog):
    view = make("digits")
    path = class_files.view_path("digits")
    blobs = [np.frombuffer(view.files[0], np.uint8), np.frombuffer(view.files[1], np.uint8),
             np.frombuffer(view.files[2].encode(), np.uint8)]
    facts = {"weights_file": dataclasses.asdict(view.weights_file), "shapes": view.shapes, "params": view.params}
    parts = [{"part": "keras"}, {"part": "weights"}, {"part": "architecture"}]
    empty = np.zeros(0, np.uint8)

    def changed(**what):
        return [*parts, {"part": "facts", **facts, **what}]

    other_size = {**facts["weights_file"], "size": facts["weights_file"]["size"] + 1}
    odd_slot = {**facts["weights_file"], "slots": [{"name": "sophia", "values": 1, "bytes": 4}]}
    cases = [("a weights file of another size", changed(weights_file=other_size), [*blobs, empty]),
             ("a slot no optimizer has", changed(weights_file=odd_slot), [*blobs, empty]),
             ("a negative parameter count", changed(params=-1), [*blobs, empty]),
             ("a parameter count the archive does not have", changed(params=view.params + 1), [*blobs, empty]),
             ("a parameter count that is not a number", changed(params="50,618"), [*blobs, empty]),
             ("shapes that are not words", changed(shapes={"dense": 3}), [*blobs, empty]),
             ("a fact it never writes", changed(owner="someone"), [*blobs, empty]),
             ("a .keras file that is not a zip", changed(), [blobs[1], blobs[1], blobs[2], empty]),
             ("an architecture that is not JSON", changed(), [blobs[0], blobs[1], blobs[1], empty]),
             ("numbers instead of bytes", changed(), [blobs[0].astype("float32"), *blobs[1:], empty]),
             ("no facts", parts, blobs),
             ("a pickle", changed(), [np.array([{"x": 1}], dtype=object), *blobs[1:], empty])]
    with caplog.at_level(logging.WARNING):
        for case, entries, arrays in cases:
            assert kept.write_arrays(path, entries, arrays)
            assert class_files.read_kept(path) is None, case
    assert "could not be read" in caplog.text
    assert f"a weights file of {facts['weights_file']['size'] + 1:,} bytes" in caplog.text
    assert f"{view.params + 1:,} parameters for a config of {view.params:,}" in caplog.text
    assert make("digits") == view  # made anew, and kept whole over the foreign file
    assert class_files.read_kept(path) == view
    os.chmod(path, 0o666)  # anyone could have written it: not read
    assert class_files.read_kept(path) is None
    os.chmod(path, 0o600)
    assert class_files.read_kept(path) == view


def test_a_class_link_to_save_and_load_shows_the_class_models_files_before_tensorflow_is_imported():
    """With TensorFlow made unimportable, a fresh server still shows Save & load's three downloads,
    the archive's members and layers, and where model.weights.h5's bytes go (its chart and table),
    from what this computer kept: the first thing that needs Keras is loading the file back, below."""
    view = class_files.class_file_view()  # kept by this run's first server (the app's folder of the test run)
    page, printed = page_without_tensorflow("lessons/save-load.py")
    assert page["downloads"] == ["model.keras", "model.weights.h5", "model.json"]
    assert page["charts"] == 1 and len(page["tables"]) == 3 and page["exceptions"] == 1, page
    members, parts = page["tables"][0], page["tables"][2]
    assert list(members.values())[1][-1] == view.weights_file.size  # model.weights.h5's bytes in the zip
    assert list(parts.values())[3][-1] == view.weights_file.size  # and the parts table's total
    assert "lessons/save-load.py" in printed and "class_model" in printed
    assert "ImportError: keras imported before the page drew what it keeps" in printed
