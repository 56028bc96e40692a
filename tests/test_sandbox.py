"""A stranger's model cannot hurt the class: every pass of an uploaded model is priced from its
outline and runs in a locked-down host process (never in the server), answers exactly what Keras
computes, and a pass that hits a limit ends its process alone; a training run is priced before it
starts, and one whose estimate was wrong fails alone."""
import os
import threading
import time

import keras
import numpy as np
import pytest

from lib import cost, data, evaluate, i18n, models, saving, training, ui
from lib.saving import UnsafeModel
from tests.helpers import finish, open_page


def keras_file(*layers, shape=(8, 8, 1)):
    return saving.to_bytes(keras.Sequential([keras.Input(shape), *layers]))


def digits_cnn_file():
    return keras_file(keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv"),
                      keras.layers.MaxPooling2D(2, name="pool"), keras.layers.Flatten(name="flat"),
                      keras.layers.Dense(10, activation="softmax", name="probs"))


def the_issues_file():
    """The hole this test guards: a 7 MB file that passes every check of the upload (allowed layers
    only, 1.8 M parameters, every layer's output under the per-example cap) and drove the server
    past 6 GB when graded in batches of 512: 16.8 M numbers per image out of its first layer."""
    return keras_file(keras.layers.Conv2D(262_144, 1, padding="same"), keras.layers.MaxPooling2D(8),
                      keras.layers.Flatten(), keras.layers.Dense(5, activation="relu"),
                      keras.layers.Dense(10, activation="softmax"))


def heaviest_file():
    """As heavy as the budgets allow: 1.7 M parameters, 5 MB of layer outputs per image, a mock
    exam of 0.8 s of one core — and training it priced just under what a run may hold
    (lib.cost.training_bytes: 478 MB of 512), the budget that binds first."""
    return keras_file(keras.layers.Conv2D(14_000, 3, padding="same", activation="relu"), keras.layers.MaxPooling2D(2),
                      keras.layers.Flatten(), keras.layers.Dense(7, activation="relu"),
                      keras.layers.Dense(10, activation="softmax"))


@pytest.fixture(scope="module")
def loader():
    loader = saving.Loader()
    yield loader
    loader.close()


@pytest.fixture(scope="module")
def digits():
    return data.load_dataset("digits")


def test_an_uploads_exam_and_layers_run_in_its_host_and_equal_what_keras_computes(loader, digits, monkeypatch):
    raw = digits_cnn_file()
    reference = keras.saving.load_model(_tmp_file(raw))  # the test loads it itself: the independent answer
    loaded = saving.open_upload(raw, "friend.keras", loader=loader)
    assert not loaded.passes.runs_here and len(loader.hosts()) == 1
    x = evaluate.model_input(loaded.model, digits.x_test)

    def never(*args, **kwargs):
        raise AssertionError("a stranger's model was run in the server")

    monkeypatch.setattr(keras.layers.Layer, "__call__", never)  # in this process; the host is another
    report = evaluate.report(loaded.passes, digits.x_test, digits.y_test)
    outputs, logits = loaded.passes.follow(x[:1])
    monkeypatch.undo()
    np.testing.assert_array_equal(report.probabilities, np.asarray(reference(x)))
    submodel = keras.Model(reference.inputs, [layer.output for layer in reference.layers])
    assert [name for name, _ in outputs] == ["conv", "pool", "flat", "probs"]
    for (name, got), want in zip(outputs, submodel(x[:1])):
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-6, err_msg=name)
    kernel, bias = reference.layers[-1].get_weights()
    np.testing.assert_allclose(logits, outputs[-2][1] @ kernel + bias, rtol=1e-5)


def _tmp_file(raw, name="upload.keras"):
    import tempfile

    path = os.path.join(tempfile.mkdtemp(), name)
    with open(path, "wb") as f:
        f.write(raw)
    return path


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_issues_file_is_refused_before_it_runs_naming_both_numbers(lang, loader, digits):
    loaded = saving.open_upload(the_issues_file(), "heavy.keras", loader=loader)
    assert loaded.cost.example_bytes > 64 * 2 ** 20 and loaded.model.count_params() == 1_835_073
    with pytest.raises(cost.PassTooCostly) as refused:
        evaluate.report(loaded.passes, digits.x_test, digits.y_test)
    seconds = 360 * loaded.cost.multiply_adds / cost.MULTIPLY_ADDS_PER_SECOND
    assert refused.value.code == "exam_too_slow" and refused.value.details["needs"] == f"{seconds:.1f}" == "2.5"
    text = i18n.translate("cost.error.exam_too_slow", lang, **refused.value.details)
    assert "2.5" in text and f"{cost.EXAM_SECONDS:g}" in text


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Peak:
    """The largest resident size of this process while the block runs, sampled every 5 ms."""

    def __enter__(self):
        self.before, self.peak, self._done = rss(), rss(), threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._done.wait(0.005):
            self.peak = max(self.peak, rss())

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join(5)
        self.grown = self.peak - self.before


@pytest.mark.timeout(600)  # its run, then scoring a 1.7 M-parameter model on a loaded machine (tests/conftest.py)
def test_the_heaviest_model_the_budgets_allow_grows_the_server_by_less_than_50_mb(loader, digits, runner):
    loaded = saving.open_upload(heaviest_file(), "heaviest.keras", loader=loader)
    job = saving.continue_job(loaded.model, "digits", epochs=1)  # what one epoch holds, the rest repeats it
    infos = saving.inspect_archive(heaviest_file()).model.layers
    needed = job.check_memory(infos, loaded.model.count_params())
    assert 0.9 * cost.RUN_MEMORY_BYTES < needed <= cost.RUN_MEMORY_BYTES  # just under what a run may hold
    x = evaluate.model_input(loaded.model, digits.x_test)
    loaded.passes.predict(x[:2])  # the host is up (its start is not the exam's cost)
    with Peak() as exam:
        report = evaluate.report(loaded.passes, digits.x_test, digits.y_test)
        outputs, _ = loaded.passes.follow(x[:1])
    with Peak() as more:
        run = finish(runner.submit(job), timeout=600)
    assert report.probabilities.shape == (360, 10) and outputs[0][1].shape == (1, 8, 8, 14_000)
    assert run.status in ("done", "budget") and run.epochs_done() >= 1, run.error
    assert exam.grown < 50 * 2 ** 20 and more.grown < 50 * 2 ** 20, (exam.grown, more.grown)


def tied_activations_file(filters):
    """64x64x1 -> Conv2D(filters, 1x1) -> Activation -> pooled to 10 answers: two adjacent layer
    outputs of 64 * 64 * filters numbers each, and little arithmetic."""
    return keras_file(keras.layers.Conv2D(filters, 1), keras.layers.Activation("relu"), keras.layers.MaxPooling2D(64),
                      keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax"), shape=(64, 64, 1))


def test_a_model_just_under_the_memory_budget_runs_in_its_host_and_one_just_over_is_refused(loader):
    x = np.random.default_rng(0).random((4, 64, 64, 1), dtype="float32")
    under = saving.open_upload(tied_activations_file(4000), "under.keras", loader=loader)
    assert 0.97 * cost.PASS_MEMORY_BYTES < under.cost.example_bytes <= cost.PASS_MEMORY_BYTES
    assert under.passes.predict(x).shape == (4, 10)  # one image at a time: ~125 MB of activations, in the host
    over = saving.open_upload(tied_activations_file(4200), "over.keras", loader=loader)
    with pytest.raises(cost.PassTooCostly) as refused:
        over.passes.predict(x)
    assert refused.value.code == "example_too_big" and refused.value.details["needs"] == "131"


def test_a_pass_over_its_hosts_memory_ends_the_host_alone_and_the_next_pass_starts_another(digits):
    strict = saving.Loader(memory_bytes=120_000_000)  # the load fits, a pass of 2 x 33 MB per image does not
    try:
        heavy = saving.open_upload(tied_activations_file(2000), "heavy.keras", loader=strict)
        first = strict.hosts()
        with pytest.raises(UnsafeModel) as refused:
            heavy.passes.predict(np.ones((8, 64, 64, 1), "float32"))
        assert refused.value.code == "run_too_much_memory" and refused.value.details == {"limit": "120 MB"}
        assert not set(first) & set(strict.hosts())  # that host is gone
        light = saving.open_upload(digits_cnn_file(), "light.keras", loader=strict)
        assert light.passes.predict(evaluate.model_input(light.model, digits.x_test[:3])).shape == (3, 10)
        for lang in ("en", "ko"):
            assert "120 MB" in i18n.translate("save_load.error.run_too_much_memory", lang, **refused.value.details)
    finally:
        strict.close()


def test_a_pass_over_its_time_limit_is_stopped(digits):
    hasty = saving.Loader(pass_seconds=0.001)
    try:
        loaded = saving.open_upload(digits_cnn_file(), "slow.keras", loader=hasty)
        with pytest.raises(UnsafeModel) as refused:
            loaded.passes.predict(evaluate.model_input(loaded.model, digits.x_test))
        assert refused.value.code == "run_too_slow" and not hasty.hosts()
    finally:
        hasty.close()


def test_hosts_are_few_the_least_recently_used_goes_first_and_an_idle_one_stops(digits):
    few = saving.Loader(max_hosts=1, host_idle_s=2.0)
    try:
        first = saving.open_upload(digits_cnn_file(), "a.keras", loader=few)
        x = evaluate.model_input(first.model, digits.x_test[:2])
        before, host = first.passes.predict(x), few.hosts()
        second = saving.open_upload(keras_file(keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")),
                                    "b.keras", loader=few)
        assert len(few.hosts()) == 1 and few.hosts() != host  # the first file's host made way
        np.testing.assert_array_equal(first.passes.predict(x), before)  # loaded again into a new host
        assert second.passes.predict(x).shape == (2, 10) and len(few.hosts()) == 1
        deadline = time.time() + 30
        while few.hosts() and time.time() < deadline:
            time.sleep(0.1)
        assert not few.hosts()  # stopped after 2 s without a pass
    finally:
        few.close()


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_evaluate_page_says_why_the_issues_file_is_not_run_and_grades_the_class_model(lang):
    at = open_page("lessons/evaluate.py", lang, query={"evaluate.source": "loaded"})
    at.session_state[ui.LOADED_MODEL] = saving.open_upload(the_issues_file(), "heavy.keras")
    at.run()
    assert not at.exception
    said = " ".join(e.value for e in at.error)
    assert "2.5" in said and i18n.translate("evaluate.fallback", lang) in said
    assert at.dataframe[0].value.iloc[1, 1] == pytest.approx(evaluate.class_model().accuracy, abs=1e-4)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_inside_view_says_what_one_example_costs(lang):
    at = open_page("lessons/save-load.py", lang)
    captions = " ".join(c.value for c in at.caption)
    cost_of = cost.PassCost.of(saving.inspect_archive(saving.model_files(evaluate.class_model().model)[0]).model.layers)
    assert f"**{cost.megabytes(cost_of.example_bytes)} MB**" in captions
    assert f"**{cost.millions(cost_of.multiply_adds)}" in captions


# --- Training: priced before it starts, and a wrong estimate fails one run -----------------------------

@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_run_over_its_memory_is_refused_before_it_starts_naming_both_numbers(lang):
    layers = [{"type": "Conv2D", "filters": 2048, "kernel_size": 3, "padding": "same", "activation": "relu"},
              {"type": "Flatten"}, {"type": "Dense", "units": 10, "activation": "softmax"}]
    with pytest.raises(training.TrainingError) as refused:  # every training image in one batch: 2.4 GB
        training.classifier_job(dataset="digits", layers=layers, input_shape=(8, 8, 1), batch_size=None)
    assert refused.value.code == "too_much_memory"
    text = i18n.translate("training.error.too_much_memory", lang, **refused.value.details)
    assert refused.value.details["needs"] in text and "512" in text
    small = training.classifier_job(dataset="digits", layers=layers, input_shape=(8, 8, 1), batch_size=8)
    assert small.fit.batch_size == 8  # the same model in small batches fits


def test_a_run_whose_estimate_was_wrong_fails_alone_and_the_next_run_trains():
    # A worker allowed 250 MB beyond its start: a small run takes ~120 MB (measured), this one ~700.
    tight = training.Runner(slots=1, memory_bytes=250 * 2 ** 20)
    layers = [{"type": "Conv2D", "filters": 1024, "kernel_size": 3, "padding": "same", "activation": "relu"},
              {"type": "Flatten"}, {"type": "Dense", "units": 10, "activation": "softmax"}]
    big = training.classifier_job(dataset="digits", layers=layers, input_shape=(8, 8, 1), epochs=1, batch_size=256)
    run = finish(tight.submit(big), timeout=300)
    assert run.status == "failed" and run.error.code == "out_of_memory", run.error
    for lang in ("en", "ko"):
        assert "512" in i18n.translate("training.error.out_of_memory", lang, **run.error.details)
    small = training.classifier_job(dataset="digits", layers=models.PRESETS["digits_cnn"][1], input_shape=(8, 8, 1),
                                    epochs=1)
    assert finish(tight.submit(small), timeout=300).status == "done"
