"""Save & load says only what is true: the optimizer's state that sits in a `.keras` file, measured
part by part; what training on from a file does with it (and that the page's button starts over);
"bit for bit" only for a difference of exactly 0; the shown code printing the page's names and
numbers, and saying where it repeats them; safe_mode described as it is."""
import io
import math
import re
import zipfile

import h5py
import keras
import numpy as np
import pytest

from lib import i18n, models, saving
from lib.class_model import CLASS_BATCH_SIZE, CLASS_RECIPES, CLASS_SEED, class_model
from lib.saving import optimizer_state
from tests.helpers import figures, open_page, run_snippet, settle, shown_code


def stored_by_hand(model):
    """{dataset path: (numbers, bytes)} of model.weights.h5 in `model`'s .keras file: size × item size."""
    member = zipfile.ZipFile(io.BytesIO(saving.to_bytes(model))).read("model.weights.h5")
    found = {}
    with h5py.File(io.BytesIO(member), "r") as f:
        f.visititems(lambda path, item: found.__setitem__(path, (item.size, item.size * item.dtype.itemsize))
                     if isinstance(item, h5py.Dataset) else None)
    return len(member), found


# --- 1. The optimizer's state in the file ----------------------------------------------------------

def test_the_optimizers_state_in_the_class_models_file_is_measured_part_by_part():
    shared = class_model()
    model = shared.model
    file = optimizer_state.weights_file(model)
    size, found = stored_by_hand(model)
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    assert file.size == size
    assert file.layer_values == model.count_params() == sum(n for p, (n, _) in found.items() if p.startswith("layers/"))
    assert file.layer_bytes == 4 * model.count_params()
    # Adam: m and v, one of each per trainable weight, then its step counter (int64) and learning rate.
    assert {p.name: p.values for p in file.slots} == {"momentum": trainable, "velocity": trainable,
                                                       "iteration": 1, "learning_rate": 1}
    assert file.optimizer_bytes == sum(b for p, (_, b) in found.items() if p.startswith("optimizer/"))
    assert file.optimizer_bytes == 2 * 4 * trainable + 8 + 4
    assert file.bookkeeping == size - file.layer_bytes - file.optimizer_bytes > 0
    steps = shared.epochs * math.ceil(shared.train_samples / CLASS_BATCH_SIZE)  # one step a batch
    assert file.step == steps == int(model.optimizer.iterations)
    assert file.optimizer == "Adam" and file.learning_rate == pytest.approx(shared.learning_rate)


def test_a_model_never_compiled_saves_no_optimizer_state():
    model = models.build_sequential(models.PRESETS["digits_cnn"][1], (8, 8, 1), seed=0)
    file = optimizer_state.weights_file(model)
    size, found = stored_by_hand(model)
    assert file.slots == () and file.optimizer == "" and file.step == 0 and file.learning_rate is None
    assert not any(p.startswith("optimizer/") for p in found)
    assert file.layer_bytes == 4 * model.count_params() and file.bookkeeping == size - file.layer_bytes


# --- 2. Training on from the file ------------------------------------------------------------------

def test_load_model_and_fit_go_on_as_if_fit_had_never_stopped_and_a_fresh_optimizer_starts_over():
    shared = class_model()
    runs = optimizer_state.restarts(shared.dataset)
    restored, fresh = runs[:2]
    more = len(restored.losses)
    # The class recipe trained here in one fit of its epochs and `more` epochs after them.
    _, shape, _, epochs, rate = CLASS_RECIPES[shared.dataset]
    x, y = optimizer_state.class_training_data(shared)
    assert len(x) == shared.train_samples
    whole = models.build_sequential(shared.layers, shape, seed=CLASS_SEED, name="whole")
    whole.compile(optimizer=keras.optimizers.Adam(rate), loss="sparse_categorical_crossentropy")
    history = whole.fit(x, y, epochs=epochs + more, batch_size=CLASS_BATCH_SIZE, shuffle=False, verbose=0)
    assert restored.losses == tuple(history.history["loss"][epochs:])  # bit for bit, on one machine
    assert restored.step == optimizer_state.weights_file(shared.model).step and fresh.step == 0
    assert (restored.optimizer, fresh.optimizer) == ("Adam", "Adam")
    assert restored.learning_rate == fresh.learning_rate == pytest.approx(shared.learning_rate)
    assert restored.before == fresh.before and restored.losses != fresh.losses
    job = saving.continue_job(shared.model, shared.dataset)  # what the page's button trains with
    assert runs[-1].how == "button" and runs[-1].learning_rate == pytest.approx(job.compile.learning_rate)
    assert more == job.fit.epochs


def test_a_fresh_adams_first_step_is_the_rate_times_g_over_g_plus_its_epsilon(tmp_path):
    """What the page says of a fresh Adam, checked against the formula by numpy."""
    import tensorflow as tf

    shared = class_model()
    x, y = optimizer_state.class_training_data(shared)
    path = tmp_path / "class.keras"
    path.write_bytes(saving.model_files(shared.model)[0])
    model = keras.saving.load_model(path, compile=False)
    adam = keras.optimizers.Adam(shared.learning_rate)
    model.compile(optimizer=adam, loss="sparse_categorical_crossentropy")
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y[:32], model(x[:32], training=True)))
    g = np.concatenate([np.asarray(a).ravel() for a in tape.gradient(loss, model.trainable_weights)])
    before = np.concatenate([w.ravel() for w in model.get_weights()])
    model.fit(x[:32], y[:32], epochs=1, batch_size=32, shuffle=False, verbose=0)
    step = np.concatenate([w.ravel() for w in model.get_weights()]) - before
    expected = -shared.learning_rate * g / (np.abs(g) + adam.epsilon / np.sqrt(1 - adam.beta_2))
    np.testing.assert_allclose(step, expected, rtol=0, atol=1e-4 * shared.learning_rate)
    moved = np.abs(g) > 1e-4  # "nearly the whole learning rate for any gradient above a few millionths"
    assert moved.any() and np.all(np.abs(step[moved]) > 0.95 * shared.learning_rate)


# --- The page: 1 and 2 as the student sees them, and its code --------------------------------------

def test_the_page_shows_the_optimizers_part_and_what_restarting_it_changes_and_its_code_prints_both(tmp_path):
    shared = class_model()
    file = optimizer_state.weights_file(shared.model)
    runs = optimizer_state.restarts(shared.dataset)
    job = saving.continue_job(shared.model, shared.dataset)
    at = open_page("lessons/save-load.py")
    text = " ".join(m.value for m in at.markdown)
    assert i18n.translate("save_load.optimizer_part", "en", summary=f"{shared.model.count_params():,}",
                          **file.numbers()) in text
    assert f"**{file.optimizer_bytes:,}** bytes ({file.optimizer_values:,} numbers)" in text
    # The page says plainly that its button starts a fresh optimizer, with the button's own settings.
    assert f"**fresh** `{job.compile.optimizer}(learning_rate={job.compile.learning_rate:g})`" in text
    assert "`compile=False`" in text
    members = at.dataframe[0].value
    weights_member = int(members.iloc[list(members.iloc[:, 0]).index("model.weights.h5"), 1])
    inside = [trace for trace in figures(at)[0]["data"] if trace["y"] == [i18n.translate("save_load.fig.layers", "en")]]
    assert sum(trace["x"][0] for trace in inside) == weights_member == file.size  # the bar is the whole member
    parts = at.dataframe[2].value
    assert int(parts["bytes"].iloc[-1]) == file.size
    assert list(parts["part"])[-4:-2] == ["optimizer/iteration", "optimizer/learning_rate"]
    table = at.dataframe[3].value
    assert list(table["from step"]) == [r.step for r in runs] and list(table["after"]) == [round(r.after, 4) for r in runs]
    assert i18n.translate("save_load.restarts_note", "en", **optimizer_state.restart_numbers(runs)) in text
    code = shown_code(at)
    assert code.startswith('"""' + i18n.translate("code.save_load.class_doc", "en"))
    out = run_snippet(code, tmp_path)
    for part in file.layers:
        if part.values:
            assert f"{part.name}: {part.values:,} values, {part.bytes:,} bytes" in out
    for slot in file.slots:
        assert f"optimizer/{slot.name}: {slot.values:,} values, {slot.bytes:,} bytes" in out
    assert f"model.weights.h5: {file.size:,} bytes, HDF5 bookkeeping {file.bookkeeping:,} bytes" in out
    for run in runs:
        start = "load_model" if run.how == "restored" else f"{run.optimizer}(learning_rate={run.learning_rate:g})"
        assert (f"{start}: from step {run.step}, loss {run.before:.4f} -> epochs "
                + " ".join(f"{v:.4f}" for v in run.losses) + f" -> {run.after:.4f}") in out


# --- 3. Sloppy claims made true --------------------------------------------------------------------

def test_bit_for_bit_is_said_only_for_a_difference_of_exactly_zero(monkeypatch):
    from lib.passes import InProcess

    real, nudged = saving.open_own_file, {}

    def open_nudged(data, name):
        """The page's own file loaded back, its last bias moved by 0.001: no longer the same numbers."""
        loaded = real(data, name)
        copy = keras.models.clone_model(loaded.model)
        weights = loaded.model.get_weights()
        copy.set_weights(weights[:-1] + [weights[-1] + np.float32(1e-3)])
        nudged["model"] = copy
        return saving.Loaded(name, loaded.digest, InProcess(copy))

    monkeypatch.setattr(saving, "open_own_file", open_nudged)
    at = open_page("lessons/save-load.py")
    model = class_model().model
    x = saving.probe_inputs(model)
    difference = float(np.abs(np.asarray(nudged["model"](x)) - np.asarray(model(x))).max())
    assert difference > 0
    text = " ".join(m.value for m in at.markdown)
    assert i18n.translate("save_load.back_differs", "en", n=len(x), difference=f"{difference:g}") in text
    assert i18n.translate("save_load.back_same", "en", n=len(x), difference=f"{difference:g}") not in text


def test_your_runs_code_prints_the_layer_names_and_weights_file_the_page_shows(tmp_path):
    at = open_page("lessons/training.py", query={"training.epochs": "2"})
    at.button(key="training.run.start").click().run()
    settle(at)
    at.switch_page("lessons/save-load.py")
    at.query_params.update({"save_load.source": "yours"})
    at.run()
    assert not at.exception and not at.info
    rows = at.dataframe[1].value
    model = at.session_state["training.run.runs"][-1].run.model()
    file = optimizer_state.weights_file(model)
    text = " ".join(m.value for m in at.markdown)
    assert i18n.translate("save_load.no_optimizer", "en", summary=f"{model.count_params():,}", **file.numbers()) in text
    code = shown_code(at)
    assert code.startswith('"""' + i18n.translate("code.save_load.yours_doc", "en"))
    out = run_snippet(code, tmp_path)
    classes = set(rows["class"])
    assert [line.split()[1] for line in out.splitlines() if line.split()[:1] and line.split()[0] in classes] \
        == list(rows["layer"])
    assert f"model.weights.h5: {file.size:,} bytes, HDF5 bookkeeping {file.bookkeeping:,} bytes" in out
    assert "optimizer/" not in out and "load_model: largest difference 0" in out


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_safe_mode_and_repeatability_are_described_as_they_are(lang):
    texts = {k[len("save_load."):]: v for k, v in i18n.catalog(lang).items() if k.startswith("save_load.")}
    notice = texts["notice"]
    assert "CVE-2025-1550" in notice and "3.9" in notice  # safe_mode was bypassed: the inspection protects
    assert "riskiest" not in notice and "가장 위험한 부분" not in notice
    for doc in (i18n.translate("code.save_load.class_doc", lang), i18n.translate("code.save_load.yours_doc", lang)):
        assert "enable_op_determinism" in doc and not re.search(r"\bexactly as\b", doc)
    if lang == "ko":  # the house terms: 우리 반 모델, 컴파일
        page = " ".join(v for k, v in texts.items() if not k.startswith("error."))
        assert "클래스 모델" not in page and "compile된" not in page and "compile 설정" not in page


def test_a_visit_trains_nothing_the_comparison_runs_on_a_click_and_then_shows_for_everyone(monkeypatch):
    """Nine epochs of training are not drawn on a page visit (training only on a button): a server
    that has not made the comparison shows its button; a click makes it, and from then on every
    visit shows it at once."""
    shared = class_model()
    monkeypatch.setattr(optimizer_state, "_MADE", {})  # this server has not made it yet
    at = open_page("lessons/save-load.py")
    button = [b for b in at.button if b.label == i18n.translate("save_load.restarts_button", "en")]
    assert len(button) == 1 and optimizer_state.made_restarts(shared.dataset) is None
    idea = i18n.translate("save_load.restarts_idea", "en", epochs=3, batch=CLASS_BATCH_SIZE)[:40]
    assert not any(m.value.startswith(idea) for m in at.markdown)
    button[0].click().run()
    assert not at.exception, at.exception
    runs = optimizer_state.made_restarts(shared.dataset)
    assert runs is not None
    shown = i18n.translate("save_load.restarts_idea", "en", **optimizer_state.restart_setup(runs))
    assert shown in [m.value for m in at.markdown]
    again = open_page("lessons/save-load.py")
    assert shown in [m.value for m in again.markdown]
    assert not [b for b in again.button if b.label == button[0].label]
