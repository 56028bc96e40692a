"""The shared training runner: real Keras on small data, in worker processes — streaming per
epoch, stop, time budget, the server-wide limit on simultaneous runs, refusals, recovery."""
import os
import signal
import time

import numpy as np
import pytest

from lib import data, i18n, models, snippets, training
from tests.helpers import exercise_widgets, finish, open_page, run_snippet, shown_code

MLP = [{"type": "Dense", "units": 16, "activation": "relu"}, {"type": "Dense", "units": 10, "activation": "softmax"}]


def job(**changes):
    base = dict(model={"layers": MLP, "input_shape": (64,)}, data={"dataset": "digits", "reshape": (64,)},
                compile={"optimizer": "Adam", "learning_rate": 0.01}, fit={"epochs": 5, "batch_size": 64},
                budget_s=30)
    base.update(changes)
    return training.Job(**base)


def test_a_run_streams_its_epochs_and_ends_with_its_weights_and_test_scores(runner):
    run = runner.submit(job(fit={"epochs": 6, "batch_size": 64, "validation_split": 0.2}))
    seen = []
    while run.active:
        seen.append(len(run.epochs))
        time.sleep(0.01)
    assert run.status == "done", run.error
    assert 0 < len([n for n in set(seen) if 0 < n < 6])  # some epochs were visible before the end
    history = run.history()
    assert len(history["loss"]) == 6 and history["loss"][-1] < history["loss"][0]
    assert {"val_loss", "val_accuracy"} <= set(history)
    assert run.result["test"][0]["accuracy"] > 0.8
    model = run.model()
    x_test = data.load_dataset("digits").x_test.reshape(-1, 64)
    accuracy = (model.predict(x_test, verbose=0).argmax(1) == data.load_dataset("digits").y_test).mean()
    assert accuracy == pytest.approx(run.result["test"][0]["accuracy"], abs=1e-6)


def test_the_same_job_gives_the_same_numbers(runner):
    a, b = finish(runner.submit(job())), finish(runner.submit(job()))
    assert a.history()["loss"] == b.history()["loss"]
    c = finish(runner.submit(job(seed=1)))
    assert c.history()["loss"] != a.history()["loss"]


def test_stop_ends_a_run_early_and_keeps_what_it_learned(runner):
    run = runner.submit(job(fit={"epochs": 200, "batch_size": 8}))
    while len(run.epochs) < 2:
        time.sleep(0.01)
    run.stop()
    finish(run)
    assert run.status == "stopped" and 2 <= len(run.epochs) < 200
    assert run.model() is not None and run.result["test"][0]["accuracy"] > 0.5


def test_the_time_budget_stops_a_runaway_run(runner):
    start = time.time()
    run = finish(runner.submit(job(fit={"epochs": 500, "batch_size": 1}, budget_s=1.5)))
    assert run.status == "budget" and time.time() - start < 15
    assert run.result["weights"]


def test_runs_wait_in_line_one_slot_at_a_time(runner):
    runs = [runner.submit(job(fit={"epochs": 3, "batch_size": 64})) for _ in range(3)]
    assert [r.queue_position for r in runs[1:]] == [1, 2] or runs[2].queue_position >= 1
    for run in runs:
        finish(run)
    spans = sorted((r.started, r.finished) for r in runs)
    assert all(a[1] <= b[0] + 0.05 for a, b in zip(spans, spans[1:]))  # never two at once
    assert all(r.status == "done" for r in runs)


def test_stopping_a_waiting_run_takes_it_out_of_the_line(runner):
    first = runner.submit(job(fit={"epochs": 30, "batch_size": 8}))
    second = runner.submit(job())
    assert second.status == "queued"
    second.stop()
    assert second.status == "stopped" and not second.epochs
    first.stop()
    finish(first)


def test_a_learning_rate_that_is_far_too_big_diverges_without_a_crash(runner):
    run = finish(runner.submit(job(compile={"optimizer": "SGD", "learning_rate": 1e6}, fit={"epochs": 20, "batch_size": 64})))
    assert run.status == "diverged" and len(run.epochs) < 20


@pytest.mark.parametrize("changes,code", [
    (dict(fit={"epochs": 0}), "no_epochs"), (dict(fit={"epochs": 10_000}), "too_many_epochs"),
    (dict(fit={"epochs": 2, "batch_size": 0}), "bad_batch"), (dict(compile={"learning_rate": 0}), "bad_learning_rate"),
    (dict(compile={"learning_rate": float("nan")}), "bad_learning_rate"), (dict(budget_s=3600), "bad_budget")])
def test_impossible_jobs_are_refused_before_they_queue(runner, changes, code):
    with pytest.raises(training.TrainingError) as caught:
        runner.submit(job(**changes))
    assert caught.value.code == code


def test_a_batch_larger_than_the_data_fails_with_a_reason(runner):
    run = finish(runner.submit(job(data={"dataset": "digits", "reshape": (64,), "train_samples": 50},
                                 fit={"epochs": 2, "batch_size": 100})))
    assert run.status == "failed" and run.error["code"] == "batch_too_big"
    assert run.error["details"] == {"value": 100, "n": 50}


def test_a_race_trains_one_model_per_optimizer_from_the_same_start(runner):
    run = finish(runner.submit(job(variants=({"optimizer": "SGD", "learning_rate": 0.1},
                                           {"optimizer": "Adam", "learning_rate": 0.01}),
                                 fit={"epochs": 3, "batch_size": 64})))
    assert run.status == "done"
    assert [len(run.history(v)["loss"]) for v in (0, 1)] == [3, 3]
    assert run.history(0)["loss"] != run.history(1)["loss"]
    assert len(run.result["weights"]) == 2


def test_probes_are_predicted_as_training_goes(runner):
    grid = np.random.default_rng(0).random((5, 64)).astype("float32")
    run = finish(runner.submit(job(probes={"grid": grid}, probe_every=2, fit={"epochs": 4, "batch_size": 64})))
    epoch, probes = run.latest_probes()
    assert epoch == 4 and probes["grid"].shape == (5, 10)
    np.testing.assert_allclose(probes["grid"], run.model()(grid), atol=1e-5)


def test_a_dead_worker_is_replaced_and_only_its_run_fails(runner):
    run = runner.submit(job(fit={"epochs": 200, "batch_size": 4}))
    while not run.epochs:
        time.sleep(0.01)
    for pid in os.popen(f"pgrep -P {os.getpid()} -f _worker_entry").read().split():  # this test's workers only
        os.kill(int(pid), signal.SIGKILL)
    finish(run)
    assert run.status == "failed" and run.error["code"] == "worker"
    assert finish(runner.submit(job())).status == "done"


# --- Jobs built for pages, and the Training page ----------------------------------------------


def test_a_classifier_job_checks_that_the_model_fits_the_data():
    seed_layers = models.PRESETS["seed"][1]
    with pytest.raises(training.TrainingError) as caught:
        training.classifier_job(dataset="digits", layers=seed_layers, input_shape=(784,))
    assert caught.value.code == "input_mismatch" and caught.value.details["numbers"] == 64
    with pytest.raises(training.TrainingError) as caught:
        training.classifier_job(dataset="digits", layers=[{"type": "Dense", "units": 5, "activation": "softmax"}],
                                input_shape=(64,))
    assert caught.value.code == "not_ten_outputs"
    with pytest.raises(training.TrainingError) as caught:
        training.classifier_job(dataset="digits", layers=[{"type": "Dense", "units": 10}], input_shape=(64,))
    assert caught.value.code == "no_softmax"
    with pytest.raises(training.TrainingError) as caught:
        training.classifier_job(dataset="digits", layers=seed_layers, input_shape=(64,), batch_size=2000)
    assert caught.value.code == "batch_too_big" and caught.value.details == {"value": 2000, "n": 1149}
    full = training.classifier_job(dataset="digits", layers=seed_layers, input_shape=(64,), batch_size=None)
    assert full.fit["batch_size"] == 1149 and training.steps_per_epoch(1149, 32) == 36


def test_every_refusal_has_a_message_in_both_languages():
    details = {"value": 1, "n": 2, "limit": 3, "model": "(None, 784)", "images": "8×8", "numbers": 64,
               "output": "(None, 5)", "message": "boom"}
    for code in ("batch_too_big", "input_mismatch", "not_ten_outputs", "no_softmax", "no_epochs", "too_many_epochs",
                 "bad_batch", "bad_learning_rate", "bad_budget", "error", "worker"):
        for lang in i18n.LANGUAGES:
            assert "{" not in i18n.translate(f"training.error.{code}", lang, **details)


def test_the_shown_code_prints_the_numbers_of_the_run(runner, tmp_path):
    job_ = training.classifier_job(dataset="digits", layers=models.PRESETS["seed"][1], input_shape=(64,),
                                   learning_rate=0.01, epochs=5, batch_size=32)
    run = finish(runner.submit(job_))
    out = run_snippet(snippets.training_snippet(job_, "ko"), tmp_path)
    history = run.history()
    assert f"train accuracy: {round(history['accuracy'][-1], 3)}" in out
    assert f"validation accuracy: {round(history['val_accuracy'][-1], 3)}" in out
    assert f"test accuracy: {round(run.result['test'][0]['accuracy'], 3)}" in out


def test_the_page_trains_on_a_click_and_lists_the_run(tmp_path):
    at = open_page("pages/training.py", "ko")
    assert len(at.get("plotly_chart")) >= 2  # the empty curves and the workbook
    at.button(key="train").click().run(timeout=120)
    assert not at.exception
    assert "테스트 정확도" in at.info[0].value
    table = at.dataframe[0].value
    assert len(table) == 1 and table.iloc[0, 2] == 10
    out = run_snippet(shown_code(at), tmp_path)
    assert f"test accuracy: {table.iloc[0, 5]}" in out


def test_every_control_of_the_training_page_works():
    at = open_page("pages/training.py", query={"epochs": "2"})
    assert exercise_widgets(at, skip=("train",)) >= 6


def test_a_batch_larger_than_the_data_says_so():
    at = open_page("pages/training.py", query={"test": "0.5", "batch": "1024"})
    assert "718" in at.error[0].value and "1024" in at.error[0].value
    assert at.button(key="train").disabled


def test_a_model_from_the_model_page_that_does_not_fit_says_what_to_change():
    at = open_page("pages/model.py", "ko")  # the study note's model: 784 inputs
    at.switch_page("pages/training.py")
    at.query_params.clear()
    at.query_params.update({"lang": "ko", "model": "built"})
    at.run()
    message = at.error[0].value
    assert "784" in message and "64" in message and not at.exception


@pytest.mark.parametrize("rate,says", [("10.0", "ReLU"), ("100.0", "valley")])
def test_a_learning_rate_far_too_large_is_explained_not_a_crash(rate, says):
    """Too large either wrecks the weights (stuck at chance) or makes the loss explode."""
    at = open_page("pages/training.py", query={"optimizer": "SGD", "lr": rate, "epochs": "5"})
    at.button(key="train").click().run(timeout=120)
    assert not at.exception
    assert any(says in w.value and "10" in w.value for w in at.warning)


def test_stuck_at_chance_reads_a_history():
    assert training.stuck_at_chance({"loss": [2.44], "val_accuracy": [0.097]})
    assert not training.stuck_at_chance({"loss": [0.2], "val_accuracy": [0.95]})
    assert not training.stuck_at_chance({"loss": [2.2], "val_accuracy": [0.5]})


def test_a_waiting_run_says_how_many_are_ahead():
    run = training.Run(job=job(), id=1, status="queued", queue_position=3)
    assert "2" in i18n.translate("training.status.queued", "en", ahead=run.queue_position - 1, slots=1)


def test_every_run_that_draws_nothing_or_stops_short_says_why_in_both_languages():
    from lib import ui

    reports = [{"variant": 0, "epoch": k + 1, "logs": {"loss": loss}} for k, loss in enumerate([2.3, 9e9])]
    cases = {"queued": (dict(queue_position=3), "info", "2"),
             "failed": (dict(error={"code": "worker", "message": "gone", "details": {}}), "error", ""),
             "budget": (dict(epochs=reports[:1]), "warning", "30"),
             "diverged": (dict(epochs=reports), "warning", "9e+09")}
    try:
        for lang in i18n.LANGUAGES:
            ui.st.session_state["lang"] = lang
            for status, (fields, kind, number) in cases.items():
                notice = ui.run_notice(training.Run(job=job(), id=1, status=status, **fields))
                assert notice[0] == kind and notice[1] and number in notice[1], (lang, status, notice)
            for status in ("running", "done", "stopped"):
                assert ui.run_notice(training.Run(job=job(), id=1, status=status)) is None
    finally:
        ui.st.session_state["lang"] = i18n.DEFAULT_LANGUAGE
