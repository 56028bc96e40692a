"""Overfitting: the 1-D curve and the digits job with its cures, real runs showing the split,
and the Overfitting page with the code it shows."""
import numpy as np
import pytest

from lib import i18n, models, overfitting, snippets, training
from tests.helpers import exercise_widgets, finish, open_page, run_snippet, session_runs, settle, shown_code


def test_the_points_follow_the_true_curve_plus_noise():
    x, y = overfitting.noisy_points(20, noise=0.0, seed=3)
    assert x.shape == (20, 1) and np.all(np.diff(x.ravel()) >= 0)
    np.testing.assert_allclose(y.ravel(), np.sin(np.pi * x.ravel()), atol=1e-6)
    x2, y2 = overfitting.noisy_points(20, noise=0.3, seed=3)
    assert np.array_equal(x, x2) and 0.1 < np.std(y2 - y) < 0.5


def test_best_epoch_and_gap_read_a_history():
    history = {"loss": [1, 0.5, 0.2, 0.1], "val_loss": [1, 0.6, 0.7, 0.9], "accuracy": [0.5, 0.8, 0.95, 1.0],
               "val_accuracy": [0.5, 0.7, 0.72, 0.7]}
    assert overfitting.best_epoch(history) == 2
    assert overfitting.gap(history) == pytest.approx(0.3)
    assert overfitting.best_epoch({}) is None and overfitting.gap({}) is None


def test_the_numbers_say_what_the_losses_did_after_the_best_epoch_as_computed():
    """Validation loss turned back up (the split), or was still falling at the last epoch: the
    sentence under the curves follows the history, in both languages, with the losses shown."""
    accuracy = {"accuracy": [0.5, 0.8, 0.95, 1.0], "val_accuracy": [0.5, 0.7, 0.72, 0.7]}
    split = {"loss": [1.0, 0.5, 0.2, 0.1], "val_loss": [1.0, 0.6, 0.7, 0.9], **accuracy}
    last = {"loss": [1.0, 0.5, 0.2, 0.1], "val_loss": [1.0, 0.8, 0.7, 0.65], **accuracy}
    rose = {"loss": [1.0, 0.5, 0.6, 0.7], "val_loss": [1.0, 0.6, 0.7, 0.9], **accuracy}
    assert [overfitting.after_best(h) for h in (split, last, rose)] == ["split", "last", "rose"]
    assert overfitting.after_best({**accuracy, "loss": [1.0], "val_loss": [0.9]}) is None

    en = overfitting.numbers_text(split, "en")
    assert "lowest at **epoch 2**" in en and "validation loss rose (0.6 → **0.9**)" in en
    assert "training loss fell (0.5 → 0.1)" in en and "still falling" not in en
    en = overfitting.numbers_text(last, "en")
    assert "lowest at **epoch 4**" in en and "still falling (0.7 → **0.65** in that epoch)" in en
    assert " rose" not in en and "fell" not in en
    en = overfitting.numbers_text(rose, "en")
    assert "rose (0.6 → **0.9**)" in en and "did not fall either (0.5 → 0.7)" in en and "still falling" not in en

    ko = overfitting.numbers_text(split, "ko")
    assert "**에포크 2**에서 가장 낮았습니다" in ko and "다시 올라갔습니다(0.6 → **0.9**)" in ko
    assert "학습 손실은 줄었지만(0.5 → 0.1)" in ko and "아직 줄고" not in ko
    ko = overfitting.numbers_text(last, "ko")
    assert "**에포크 4**에서 가장 낮았습니다" in ko and "아직 줄고 있었습니다(0.7 → **0.65**)" in ko
    assert "올라갔" not in ko
    ko = overfitting.numbers_text(rose, "ko")
    assert "다시 올라갔지만(0.6 → **0.9**)" in ko and "학습 손실도 줄지 않았습니다(0.5 → 0.7)" in ko
    one_epoch = overfitting.numbers_text({**split, "loss": [1.0], "val_loss": [0.9]}, "en")
    assert one_epoch.endswith("(green line).")


def test_the_cures_change_the_model_as_keras_sees_it():
    layers = overfitting.digits_layers(width=64, depth=2, dropout=0.5, l2=0.001, augment=True)
    model = models.build_sequential(layers, (8, 8, 1))
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["RandomTranslation", "Flatten", "Dense", "Dropout", "Dense", "Dropout", "Dense"]
    dense = model.layers[2]
    assert dense.kernel_regularizer is not None and float(dense.kernel_regularizer.l2) == pytest.approx(0.001)
    assert model.layers[0].height_factor == 0.125 and model.layers[0].fill_mode == "constant"
    code = snippets.sequential_code(layers, (8, 8, 1))
    assert "kernel_regularizer=keras.regularizers.L2(0.001)" in code
    assert 'layers.RandomTranslation(0.125, 0.125, fill_mode="constant")' in code


# The runs these tests judge get the most time a run may have: the page's budget would stop them
# early on a busy machine, and what they learn, not how fast, is tested here.
BUDGET = training.MAX_SECONDS


def test_a_small_workbook_and_a_big_model_overfit_and_more_data_helps(runner):
    small = finish(runner.submit(overfitting.digits_job(budget_s=BUDGET)))
    assert small.status == "done"
    history = small.history()
    assert overfitting.best_epoch(history) < len(history["loss"]) - 10  # validation loss turned back up
    assert history["accuracy"][-1] == 1.0 and overfitting.gap(history) > 0.05
    big = finish(runner.submit(overfitting.digits_job(samples=overfitting.WORKBOOK, budget_s=BUDGET)))
    assert big.status == "done"
    assert overfitting.gap(big.history()) < overfitting.gap(history)


def validation_scores(model, job):
    """Accuracy and cross-entropy of a model on the job's validation slice, in numpy."""
    _, _, x_val, y_val, _, _ = job.data.arrays()
    p = np.clip(np.asarray(model(x_val), dtype="float64"), 1e-7, 1 - 1e-7)
    return (p.argmax(axis=1) == y_val).mean(), -np.log(p[np.arange(len(p)), y_val]).mean()


def test_runs_are_judged_on_a_validation_slice_of_the_workbook_and_the_test_set_is_scored_once(runner):
    """train / validation / test: the validation images come out of the workbook and never from
    the mock exam; the history's validation numbers are the final model's on that slice."""
    everything = overfitting.digits_job(samples=overfitting.WORKBOOK).data.arrays()
    assert [len(a) for a in everything[::2]] == [1437 - 287, overfitting.VALIDATION_IMAGES, overfitting.TEST_IMAGES]
    assert sum(len(a) for a in everything[::2]) == 1797 and overfitting.WORKBOOK == 1150
    job = overfitting.digits_job(epochs=8)
    run = finish(runner.submit(job))
    accuracy, loss = validation_scores(run.model(), job)
    assert run.history()["val_accuracy"][-1] == pytest.approx(accuracy, abs=1e-6)
    assert run.history()["val_loss"][-1] == pytest.approx(loss, rel=1e-4)
    assert set(run.test_scores()) == {"loss", "accuracy"}
    code = snippets.overfitting_snippet(job, "en")
    assert "validation_data=(x_val, y_val)" in code and "validation_data=(x_test" not in code
    assert code.count("evaluate(x_test") == 1  # the test data is scored once, at the end


def test_early_stopping_stops_patience_epochs_after_the_best_and_restores_it_only_when_asked(runner):
    run = finish(runner.submit(overfitting.digits_job(early_stopping={"patience": 5, "restore_best_weights": True},
                                                      budget_s=BUDGET)))
    history = run.history()
    best = overfitting.best_epoch(history)
    assert len(history["loss"]) == best + 5
    assert validation_scores(run.model(), run.job)[1] == pytest.approx(history["val_loss"][best - 1], rel=1e-4)
    kept_last = finish(runner.submit(overfitting.digits_job(early_stopping={"patience": 5},  # Keras's default: False
                                                            budget_s=BUDGET)))
    assert validation_scores(kept_last.model(), kept_last.job)[1] == pytest.approx(kept_last.history()["val_loss"][-1],
                                                                                    rel=1e-4)
    assert "restore_best_weights=False" in snippets.training_snippet(kept_last.job, "en")


def test_the_curve_bends_through_the_points_and_its_code_prints_the_same_losses(runner, tmp_path):
    job = overfitting.curve_job(epochs=200, budget_s=BUDGET)
    run = finish(runner.submit(job))
    history = run.history()
    assert run.status == "done", f"{run.status} at epoch {run.epochs_done()} of 200"
    assert history["loss"][-1] < 0.25 ** 2  # below the noise: it fits the noise itself
    epoch, probes = run.latest_probes()
    assert epoch == run.epochs_done() == 200 and probes["curve"].shape == (200, 1)
    out = run_snippet(snippets.curve_snippet(job, 0.25, "en"), tmp_path)
    assert f"training loss: {round(history['loss'][-1], 4)}" in out
    assert f"validation loss: {round(history['val_loss'][-1], 4)}" in out


def test_the_page_shows_the_split_and_the_fit(tmp_path, monkeypatch):
    # The page's own settings (60 epochs), and the most time a run may have: the run must end, even
    # on a busy machine, or the code (all its epochs) and the page (the epochs done) could not agree.
    # (The same job as the first digits test's: the page follows that run, as a classmate would.)
    monkeypatch.setitem(overfitting.digits_job.__kwdefaults__, "budget_s", BUDGET)
    at = open_page("lessons/overfitting.py", "ko")
    assert any("287" in m.value and "360" in m.value for m in at.markdown)  # the three parts, named
    at.button(key="overfitting.run.start").click().run()
    settle(at)
    numbers = [m.value for m in at.markdown if "일반화 격차" in m.value][0]
    run = session_runs(at)[0]
    history = run.history()
    assert run.status == "done", f"{run.status} at epoch {run.epochs_done()}"
    assert overfitting.after_best(history) == "split"  # few images, a big model: validation loss turned back up
    assert numbers == overfitting.numbers_text(history, "ko", run)
    assert "검증 손실은 다시 올라갔습니다" in numbers and "`model.evaluate`" in numbers  # the gap both ways
    row = at.dataframe[0].value.iloc[0]
    assert list(at.dataframe[0].value.columns) == [i18n.translate(f"overfitting.col.{c}", "ko") for c in
                                                   ("settings", "epochs", "train", "train_eval", "validation",
                                                    "val_loss", "val_data_loss", "best", "kept")]
    out = run_snippet(shown_code(at), tmp_path)
    printed = {"train accuracy": row.iloc[2], "train accuracy (evaluate, Dropout off)": row.iloc[3],
               "validation accuracy (evaluate)": row.iloc[4], "validation loss (Keras, with the penalty)": row.iloc[5],
               "validation cross-entropy alone": row.iloc[6], "best epoch (lowest val_loss)": row.iloc[7],
               "validation accuracy at the best epoch": row.iloc[8]}
    for name, value in printed.items():
        assert f"\n{name}: {value}\n" in out, (name, value, out)
    chosen = [m.value for m in at.markdown if m.value.startswith("검증 데이터로 고른 학습")]
    accuracy = f"{run.test_scores()['accuracy']:.3f}"
    assert chosen == [overfitting.choice_text(overfitting.run_label(at.session_state["overfitting.run.runs"][0]
                                                                     .meta["settings"], "ko"), run, "ko")]
    assert f"**{accuracy}**" in chosen[0] and f"test accuracy: {round(run.test_scores()['accuracy'], 3)}" in out
    assert sum("테스트 정확도" in m.value for m in at.markdown) == 1  # the test score, said once
    at.button(key="overfitting.curve.start").click().run()
    settle(at)
    assert any("새 점들에서의 손실" in m.value for m in at.markdown)


def test_the_page_says_when_the_validation_loss_was_still_falling_at_the_last_epoch():
    at = open_page("lessons/overfitting.py", query={"overfitting.epochs": "10"})
    for name in ("more_data", "smaller"):  # all 1,150 images, 32 units: ten epochs are not enough to overfit
        at.toggle(key=f"overfitting.{name}").set_value(True).run()
    at.button(key="overfitting.run.start").click().run()
    settle(at)
    history = session_runs(at)[0].history()
    assert len(history["loss"]) == 10 and overfitting.after_best(history) == "last"
    numbers = [m.value for m in at.markdown if "generalisation gap" in m.value][0]
    assert numbers == overfitting.numbers_text(history, "en", session_runs(at)[0])
    assert "this run has no Dropout" in numbers  # a smaller model, no Dropout: the sentence says so
    assert "lowest at **epoch 10**" in numbers and "the validation loss was still falling" in numbers


def test_every_cure_and_control_of_the_page_works():
    at = open_page("lessons/overfitting.py", query={"overfitting.epochs": "10", "overfitting.curve_epochs": "50"})
    for name in ("more_data", "smaller", "dropout", "l2", "early", "augment"):
        at.toggle(key=f"overfitting.{name}").set_value(True).run()
        assert not at.exception
    assert "Dropout(0.5" in shown_code(at) and "restore_best_weights=False" in shown_code(at)
    assert exercise_widgets(at, skip=("overfitting.run.start", "overfitting.curve.start")) >= 10


# --- Choose on validation, test once; training mode and inference mode ----------------------------

def numpy_cross_entropy(model, x, y):
    """Sparse categorical cross-entropy of a model's answers (inference mode), in numpy, clipped as Keras clips."""
    p = np.clip(np.asarray(model(x, training=False), dtype="float64"), 1e-7, 1 - 1e-7)
    return -np.log(p[np.arange(len(p)), y]).mean()


def numpy_l2(model, lam):
    """λ·Σw² over the model's regularized kernels (every Dense but the last), in numpy: no ½."""
    return sum(lam * np.sum(np.square(np.asarray(layer.kernel, dtype="float64")))
               for layer in model.layers if getattr(layer, "kernel_regularizer", None) is not None)


def test_an_l2_runs_losses_are_split_into_cross_entropy_and_its_penalty_as_keras_adds_it(runner):
    """Keras adds λ·Σw² (no ½) to loss and val_loss. The run reports the penalty and both losses
    without it; numpy, from the weights, agrees: the final val_loss less the penalty is the
    cross-entropy of the final model on the validation images, and in a one-step epoch the
    training loss less its penalty is the cross-entropy of the initial weights."""
    import keras

    job = overfitting.digits_job(l2=0.003, epochs=6, budget_s=BUDGET)
    run = finish(runner.submit(job))
    history, model = run.history(), run.model()
    _, _, x_val, y_val, _, _ = job.data.arrays()
    assert history["penalty"][-1] == pytest.approx(numpy_l2(model, 0.003), rel=1e-5)
    assert history["penalty"][-1] == pytest.approx(overfitting.l2_check(model)["keras"], rel=1e-6)
    assert history["val_data_loss"][-1] == pytest.approx(numpy_cross_entropy(model, x_val, y_val), rel=1e-4)
    assert history["val_loss"][-1] == pytest.approx(history["val_data_loss"][-1] + numpy_l2(model, 0.003), rel=1e-5)
    assert history["val_loss"][-1] - history["val_data_loss"][-1] > 0.05  # the handicap is not small
    check = overfitting.l2_check(model)
    assert [lam for lam, _ in check["terms"]] == [0.003, 0.003] and check["numpy"] == pytest.approx(check["keras"])

    one_step = overfitting.digits_job(l2=0.003, epochs=1, batch_size=100, budget_s=BUDGET)  # the whole slice at once
    first = finish(runner.submit(one_step)).history()
    keras.utils.set_random_seed(one_step.seed)  # the worker's own start: the same initial weights
    start = one_step.model.build()
    x, y, _, _, _, _ = one_step.data.arrays()
    assert first["data_loss"][0] == pytest.approx(numpy_cross_entropy(start, x, y), rel=1e-4)
    assert first["loss"][0] - first["data_loss"][0] == pytest.approx(numpy_l2(start, 0.003), rel=1e-4)
    # fit's accuracy is taken as the weights move: in a one-step epoch, that of the weights before the step
    before = (np.asarray(start(x, training=False)).argmax(axis=1) == y).mean()
    assert first["accuracy"][0] == pytest.approx(before, abs=1e-6)


def test_the_final_model_is_measured_in_inference_mode_beside_fits_running_accuracy(runner):
    """fit's accuracy is a running average over the epoch with Dropout on; at the end the run
    evaluates the final model with Dropout off on the training and validation images: numpy,
    with the model called in inference mode, gets the same accuracies."""
    job = overfitting.digits_job(dropout=0.5, epochs=5, budget_s=BUDGET)
    run = finish(runner.submit(job))
    final, model = run.final_scores(), run.model()
    x, y, x_val, y_val, _, _ = job.data.arrays()
    for (xs, ys), part in (((x, y), "train"), ((x_val, y_val), "validation")):
        answers = np.asarray(model(xs, training=False)).argmax(axis=1)
        assert final[part]["accuracy"] == pytest.approx((answers == ys).mean(), abs=1e-6)
    assert final["validation"]["accuracy"] == pytest.approx(run.history()["val_accuracy"][-1], abs=1e-6)
    assert final["penalty"] == 0.0
    # in training mode the same model answers differently (Dropout on): fit's number is not evaluate's
    trained = np.asarray(model(x, training=True)).argmax(axis=1)
    assert not np.array_equal(trained, np.asarray(model(x, training=False)).argmax(axis=1))
    text = overfitting.numbers_text(run.history(), "en", run)
    assert "taken with Dropout on" in text
    assert f"gives **{final['train']['accuracy']:.3f}** on the training images" in text
    assert f"a gap of **{final['train']['accuracy'] - final['validation']['accuracy']:.3f}**" in text


def test_the_test_scores_the_epoch_modelcheckpoint_kept_and_the_code_loads_it_back(runner, tmp_path):
    """ModelCheckpoint(save_best_only=True) keeps the epoch of lowest val_loss; the run's test
    score is that epoch's weights, as a run trained only that many epochs scores (training is
    seeded); the shown code loads the checkpoint back and prints the same test accuracy."""
    job = overfitting.digits_job(epochs=40, budget_s=BUDGET)
    run = finish(runner.submit(job))
    best = overfitting.best_epoch(run.history())
    assert run.status == "done" and best < 40  # the validation loss turned back up
    stopped_there = finish(runner.submit(overfitting.digits_job(epochs=best, budget_s=BUDGET)))
    assert run.test_scores()["accuracy"] == pytest.approx(stopped_there.test_scores()["accuracy"], abs=1e-6)
    assert run.test_scores()["loss"] == pytest.approx(stopped_there.test_scores()["loss"], rel=1e-4)
    code = snippets.overfitting_snippet(job, "en")
    assert 'ModelCheckpoint(CHECKPOINT, monitor="val_loss", save_best_only=True)' in code
    assert "model = keras.saving.load_model(CHECKPOINT)" in code
    out = run_snippet(code, tmp_path)
    assert f"best epoch (lowest val_loss): {best}\n" in out
    assert f"test accuracy: {round(run.test_scores()['accuracy'], 3)}\n" in out


@pytest.mark.parametrize("rate", [0.5, 0.3])
def test_dropout_zeroes_a_share_and_scales_the_rest_in_training_only(rate, tmp_path):
    trained, inferred = overfitting.dropout_demo(rate)
    kept = trained != 0
    assert 0 < kept.sum() < len(trained)
    np.testing.assert_allclose(trained[kept], 1 / (1 - rate), rtol=1e-6)  # 1/(1 − rate), as Keras documents
    np.testing.assert_array_equal(inferred, np.ones(overfitting.DEMO_SIZE))
    out = run_snippet(snippets.dropout_snippet(rate, "ko"), tmp_path)
    shown = overfitting.dropout_text(rate, "en")
    for line in out.splitlines():
        assert line.split(":", 1)[1].strip() in shown  # the page's vectors are the code's
    assert f"it set {int((~kept).sum())} of the {overfitting.DEMO_SIZE} to 0" in shown
    assert f"**{1 / (1 - rate):.4g}**" in shown


def test_when_the_time_budget_stops_the_curve_its_code_trains_the_epochs_it_did(runner, tmp_path):
    """500 epochs cannot end in half a second: the budget stops the run, and the code says the
    epochs it did (not 500), so it prints the same losses as the page."""
    job = overfitting.curve_job(epochs=500, budget_s=0.5)
    run = finish(runner.submit(job))
    done = run.epochs_done()
    assert run.status == "budget" and 1 <= done < 500
    code = snippets.curve_snippet(job, 0.25, "en", run)
    assert f"EPOCHS = {done}  # " in code and "EPOCHS = 500" not in code
    assert "EPOCHS = 500" in snippets.curve_snippet(job, 0.25, "en")  # before a run: what it asks for
    other = overfitting.curve_job(epochs=500, noise=0.3, budget_s=0.5)
    assert "EPOCHS = 500" in snippets.curve_snippet(other, 0.3, "en", run)  # a run of other settings: no
    out = run_snippet(code, tmp_path)
    history = run.history()
    assert f"training loss: {round(history['loss'][-1], 4)}" in out
    if history.get("val_loss"):
        assert f"validation loss: {round(history['val_loss'][-1], 4)}" in out
    else:  # stopped before the first validation: the code says nothing it did not measure
        assert "validation loss" not in out
