"""The class model a server trained is kept in the app's folder and read back by the next server on
this computer (lib/class_model.py): the same model, named by all its training depends on, and never
read from a file that is torn or that someone else could have written."""
import logging
import os

import keras
import numpy as np
import pytest

from lib import class_model as shared
from lib import data

train = shared._train_class_model.__wrapped__  # what a new server process does: no model in memory yet


@pytest.fixture
def fits(monkeypatch):
    """The number of times a model is trained (keras.Model.fit called) from here on."""
    calls = []
    fit = keras.Model.fit
    monkeypatch.setattr(keras.Model, "fit", lambda self, *a, **k: calls.append(1) or fit(self, *a, **k))
    return calls


@pytest.fixture
def folder(monkeypatch, tmp_path):
    """An empty app folder of this test's own."""
    monkeypatch.setenv("KERAS_CLASSROOM_DATA", str(tmp_path / "app"))
    return tmp_path / "app" / "class-model"


def test_the_next_server_reads_the_class_model_back_weights_optimizer_and_accuracy_alike(fits):
    trained = shared.class_model()  # the session's: trained, or read, by the first test that asked
    kept = [name for name in os.listdir(shared.kept_folder()) if name.startswith(f"{trained.dataset}-")]
    assert sorted(name.rsplit(".", 1)[-1] for name in kept) == ["json", "keras"], kept  # the model, its accuracy
    fits.clear()
    again = train(trained.dataset)
    assert fits == [], "the class model was trained again although this computer kept it"
    assert again.model is not trained.model and again.accuracy == trained.accuracy
    for a, b in zip(trained.model.get_weights(), again.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(trained.model.optimizer.variables, again.model.optimizer.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())  # Adam's moments too: Save & load saves them
    assert [layer.name for layer in again.model.layers] == [layer.name for layer in trained.model.layers]
    d = data.load_dataset(trained.dataset)
    p = again.model.predict(d.x_test[..., None], verbose=0)
    assert (p.argmax(axis=1) == d.y_test).mean() == pytest.approx(trained.accuracy, abs=1e-6)


def test_an_epoch_a_call_trains_the_same_model_to_the_bit_as_the_shown_codes_fit():
    """The server fits the class model one call into TensorFlow per epoch; the shown code fits it one
    batch at a time, as a student writes it. Same weights, same optimizer state, compiled alike."""
    from lib import models

    preset, shape, _, epochs, rate = shared.CLASS_RECIPES["digits"]
    d = data.load_dataset("digits", seed=shared.CLASS_SEED)
    x, y = d.x_train[..., None], d.y_train
    fast, plain = (models.build_sequential(models.PRESETS[preset][1], shape, seed=shared.CLASS_SEED) for _ in "ab")
    shared._fit_an_epoch_a_call(fast, keras.optimizers.Adam(rate), x, y, epochs)
    plain.compile(optimizer=keras.optimizers.Adam(rate), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    plain.fit(x, y, epochs=epochs, batch_size=shared.CLASS_BATCH_SIZE, shuffle=False, verbose=0)
    for a, b in zip(fast.get_weights(), plain.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(fast.optimizer.variables, plain.optimizer.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert int(fast.optimizer.iterations) == epochs * -(-len(x) // shared.CLASS_BATCH_SIZE)
    configs = [model.get_compile_config() for model in (fast, plain)]
    for config in configs:
        config["optimizer"]["config"].pop("name")  # "adam", "adam_1": Keras numbers its optimizers
    assert configs[0] == configs[1] and configs[0]["steps_per_execution"] == 1
    assert fast.evaluate(d.x_test[..., None], d.y_test, verbose=0) == plain.evaluate(d.x_test[..., None], d.y_test,
                                                                                   verbose=0)


def test_the_kept_file_is_named_by_everything_the_training_depends_on():
    recipe = ("digits_cnn", (8, 8, 1), None, 15, 0.01)
    x, y = np.zeros((4, 8, 8, 1), "float32"), np.arange(4)
    path = shared.kept_path("digits", recipe, (x, y))
    assert path == shared.kept_path("digits", recipe, (x.copy(), y.copy()))
    assert os.path.dirname(path) == os.path.join(data.app_folder(), "class-model")
    moved = x.copy()
    moved[0, 0, 0, 0] = 1 / 255
    others = {shared.kept_path("digits", recipe, (moved, y)), shared.kept_path("digits", recipe, (x, y[::-1])),
              shared.kept_path("digits", recipe[:3] + (16, 0.01), (x, y)),
              shared.kept_path("digits", recipe, (x.astype("float64"), y)),
              shared.kept_path("mnist_5k", recipe, (x, y))}
    assert path not in others and len(others) == 5


def test_a_torn_file_is_trained_over_and_a_folder_others_may_write_to_is_never_read(folder, fits, caplog):
    first = train("digits")
    assert len(fits) == 1 and sorted(p.suffix for p in folder.iterdir()) == [".json", ".keras"]
    (model_file,) = folder.glob("*.keras")
    assert oct(folder.stat().st_mode & 0o777) == "0o700" and oct(model_file.stat().st_mode & 0o777) == "0o600"
    assert train("digits").accuracy == first.accuracy and len(fits) == 1  # read back

    model_file.write_bytes(model_file.read_bytes()[:1000])  # a server killed while writing (not by this code)
    with caplog.at_level(logging.ERROR, "lib.class_model"):
        assert train("digits").accuracy == first.accuracy and len(fits) == 2
    assert "could not be read" in caplog.text
    assert train("digits").accuracy == first.accuracy and len(fits) == 2  # the new file, whole

    model_file.chmod(0o666)  # anyone could have written it: not loaded
    assert train("digits").accuracy == first.accuracy and len(fits) == 3
    model_file.chmod(0o600)
    folder.chmod(0o777)  # anyone could have put a file there: not loaded, nothing written
    assert train("digits").accuracy == first.accuracy and len(fits) == 4
    folder.chmod(0o700)
    assert train("digits").accuracy == first.accuracy and len(fits) == 4


def test_a_model_of_other_data_replaces_the_old_one_and_a_folder_that_cannot_be_written_trains_each_time(
        folder, fits, monkeypatch, tmp_path, caplog):
    folder.mkdir(mode=0o700, parents=True)
    folder.joinpath("digits-0123.keras").write_bytes(b"an older recipe's")
    folder.joinpath("digits-0123.keras.json").write_text("{}")
    folder.joinpath("mnist_5k-0123.keras").write_bytes(b"another data set's")
    train("digits")  # trained and kept: the older one goes
    assert sorted(p.name.split("-")[0] for p in folder.iterdir()) == ["digits", "digits", "mnist_5k"]

    monkeypatch.setenv("KERAS_CLASSROOM_DATA", str(tmp_path / "a-file"))
    (tmp_path / "a-file").write_text("not a folder")
    fits.clear()
    with caplog.at_level(logging.WARNING, "lib.class_model"):
        assert train("digits").accuracy > 0.5 and train("digits").accuracy > 0.5
    assert len(fits) == 2 and "could not be kept" in caplog.text


def test_where_files_have_no_owner_and_modes_windows_the_kept_model_is_read_back_too(folder, fits, monkeypatch):
    monkeypatch.delattr(os, "getuid")
    first = train("digits")
    assert train("digits").accuracy == first.accuracy and len(fits) == 1
