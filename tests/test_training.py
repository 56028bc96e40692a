"""The Training page: its classifier job, its live run, its shown code, and what it says when a
setting cannot work."""
import math

import pytest

from lib import i18n, models, snippets, training, ui
from tests.helpers import (exercise_widgets, finish, open_page, run_snippet, session_runs, settle, shown_code,
                           wait_until)

SEED = models.PRESETS["seed"][1]


def test_a_classifier_job_checks_that_the_model_fits_the_data():
    with pytest.raises(training.TrainingError) as caught:
        training.classifier_job(dataset="digits", layers=SEED, input_shape=(784,))
    assert caught.value.code == "input_mismatch" and caught.value.details["numbers"] == 64
    with pytest.raises(training.TrainingError) as caught:
        training.classifier_job(dataset="digits", layers=[{"type": "Dense", "units": 5, "activation": "softmax"}],
                                input_shape=(64,))
    assert caught.value.code == "not_ten_outputs"
    with pytest.raises(training.TrainingError) as caught:
        training.classifier_job(dataset="digits", layers=[{"type": "Dense", "units": 10}], input_shape=(64,))
    assert caught.value.code == "no_softmax"
    with pytest.raises(training.TrainingError) as caught:
        training.classifier_job(dataset="digits", layers=SEED, input_shape=(64,), batch_size=2000)
    assert caught.value.code == "batch_too_big" and caught.value.details == {"value": 2000, "n": 1149}


def test_the_full_batch_and_the_steps_per_epoch_follow_keras_validation_split():
    full = training.classifier_job(dataset="digits", layers=SEED, input_shape=(64,), batch_size=None)
    assert training.training_examples(full) == int(1437 * 0.8) == full.fit.batch_size == 1149
    assert training.steps_per_epoch(1149, 32) == 36 and training.steps_per_epoch(1149, 1149) == 1


def test_stuck_at_chance_reads_a_history():
    assert training.stuck_at_chance({"loss": [2.44], "val_accuracy": [0.097]})
    assert not training.stuck_at_chance({"loss": [0.2], "val_accuracy": [0.95]})
    assert not training.stuck_at_chance({"loss": [2.2], "val_accuracy": [0.5]})


def test_the_stuck_status_says_its_rule_with_its_numbers():
    """The rule: training loss at least 0.9 × ln 10 (≈ 2.072) and validation accuracy below 0.2.
    The sentence says exactly that — on validation, with the run's numbers and the rule's."""
    floor = 0.9 * math.log(10)
    assert training.stuck_at_chance({"loss": [floor + 1e-6], "val_accuracy": [0.199]})
    assert not training.stuck_at_chance({"loss": [floor - 1e-6], "val_accuracy": [0.199]})
    assert not training.stuck_at_chance({"loss": [2.3], "val_accuracy": [0.2]})
    numbers = training.chance_numbers({"loss": [2.30261], "val_accuracy": [0.0972]})
    assert numbers == {"loss": "2.303", "accuracy": "0.097", "floor": "2.072", "ceiling": "0.2",
                       "guess_loss": "2.30", "guess": "0.1"}
    en = i18n.translate("training.status.stuck", "en", rate="10", **numbers)
    assert "training loss ended at **2.303**, still at least 2.072" in en
    assert "validation accuracy **0.097** is below 0.2" in en and "test accuracy" not in en
    ko = i18n.translate("training.status.stuck", "ko", rate="10", **numbers)
    assert "학습 손실이 아직 2.072 이상이고(마지막 값 **2.303**." in ko
    assert "검증 정확도가 0.2보다 낮습니다(마지막 값 **0.097**." in ko and "테스트" not in ko


def test_the_shown_code_prints_the_numbers_of_the_run(runner, tmp_path):
    job = training.classifier_job(dataset="digits", layers=SEED, input_shape=(64,), learning_rate=0.01, epochs=5)
    run = finish(runner.submit(job))
    out = run_snippet(snippets.training_snippet(job, "ko"), tmp_path)
    history = run.history()
    assert f"train accuracy: {round(history['accuracy'][-1], 3)}" in out
    assert f"validation accuracy: {round(history['val_accuracy'][-1], 3)}" in out
    assert f"test accuracy: {round(run.test_scores()['accuracy'], 3)}" in out


def test_the_page_trains_on_a_click_and_lists_the_run(tmp_path):
    """The run is listed by what runs are compared on (validation); its test score is said once,
    below the table, for the run kept — and the shown code prints the same numbers."""
    at = open_page("lessons/training.py", "ko")
    assert len(at.get("plotly_chart")) >= 2  # the empty curves and the workbook
    at.button(key="training.run.start").click().run()
    settle(at)
    run = session_runs(at)[0]
    validation, test = run.history()["val_accuracy"][-1], run.test_scores()["accuracy"]
    assert f"검증 정확도 **{validation:.3f}**" in at.info[0].value and "테스트 정확도" not in at.info[0].value
    table = at.dataframe[0].value
    assert list(table.columns) == [i18n.translate(f"training.col.{c}", "ko") for c in
                                   ("settings", "status", "epochs", "train", "validation", "seconds")]
    assert len(table) == 1 and table.iloc[0, 2] == 10 and table.iloc[0, 4] == round(validation, 3)
    label = training.run_label(run.job, "ko")
    assert [m.value for m in at.markdown if "테스트 정확도" in m.value] == [training.kept_text([label], [run], 0, "ko")]
    assert any(c.value == i18n.translate("training.test_why", "ko") for c in at.caption)
    out = run_snippet(shown_code(at), tmp_path)
    assert f"validation accuracy: {round(validation, 3)}" in out
    assert f"test accuracy: {round(test, 3)}" in out and f"**{test:.3f}**" in training.kept_text([label], [run], 0, "ko")


def test_the_run_kept_is_the_best_on_validation_unless_the_student_picks_another():
    at = open_page("lessons/training.py", query={"training.epochs": "3"})
    for rate in ("0.0001", "0.01"):  # a run that hardly learns, then one that does
        at.select_slider(key="training.lr").set_value(float(rate)).run()
        at.button(key="training.run.start").click().run()
        settle(at)
    runs = session_runs(at)
    labels = [training.run_label(r.job, "en") for r in runs]
    scores = training.last_validation(runs)
    assert scores[1] > scores[0]
    keep = next(box for box in at.selectbox if box.label == i18n.translate("training.choose", "en"))
    assert keep.value == 1  # the best on validation, by default
    said = [m.value for m in at.markdown if "test accuracy" in m.value]
    assert said == [training.kept_text(labels, runs, 1, "en")]
    assert f"**{runs[1].test_scores()['accuracy']:.3f}**" in said[0]
    assert f"{runs[0].test_scores()['accuracy']:.3f}" not in said[0]  # the other run's test stays unread
    keep.set_value(0).run()
    said = [m.value for m in at.markdown if "test accuracy" in m.value]
    assert said == [training.kept_text(labels, runs, 0, "en")]
    assert said[0].endswith(i18n.translate("training.not_best", "en", best=labels[1],
                                           best_validation=f"{scores[1]:.3f}"))


def test_every_control_of_the_training_page_works():
    at = open_page("lessons/training.py", query={"training.epochs": "2"})
    assert exercise_widgets(at, skip=("training.run.start",)) >= 6


def test_a_batch_larger_than_the_data_says_so():
    at = open_page("lessons/training.py", query={"training.test": "0.5", "training.batch": "1024"})
    assert at.error[0].value == i18n.translate("training.error.batch_too_big", "en", value=1024, n=718)
    assert at.button(key="training.run.start").disabled


def test_a_model_from_the_model_page_that_does_not_fit_says_what_to_change():
    at = open_page("lessons/model.py", "ko")  # the study note's model: 784 inputs
    at.switch_page("lessons/training.py")
    at.query_params.clear()
    at.query_params.update({"lang": "ko", "training.model": "built"})
    at.run()
    message = at.error[0].value
    assert "784" in message and "64" in message and not at.exception


@pytest.mark.parametrize("rate,state", [("10.0", "stuck"), ("100.0", "diverged")])
def test_a_learning_rate_far_too_large_is_explained_not_a_crash(rate, state):
    """Too large either wrecks the weights (stuck at chance) or makes the loss explode."""
    at = open_page("lessons/training.py", query={"training.optimizer": "SGD", "training.lr": rate, "training.epochs": "5"})
    at.button(key="training.run.start").click().run()
    settle(at)
    run = at.session_state["training.run.runs"][-1].run
    assert (run.status == "diverged") == (state == "diverged")
    said = " ".join(w.value for w in at.warning)
    if state == "stuck":  # the rule, said with the run's own numbers
        history = run.history()
        assert training.stuck_at_chance(history)
        stuck = i18n.translate("training.status.stuck", "en", rate="10", **training.chance_numbers(history))
        assert stuck in [w.value for w in at.warning]
    else:
        assert str(run.epochs_done()) in said and "{" not in said


def test_every_run_that_draws_nothing_or_stops_short_says_why_in_both_languages():
    job = training.Job(model=training.Stack(SEED, (64,)), data=training.Images("digits", reshape=(64,)))
    reports = [training.Epoch(0, k + 1, {"loss": loss}, 0.1) for k, loss in enumerate([2.3, 9e9])]
    cases = {"queued": (dict(queue_position=3), "info", "2"),
             "failed": (dict(error=training.Failure("worker", "gone")), "error", ""),
             "budget": (dict(epochs=reports[:1]), "warning", "20"),
             "diverged": (dict(epochs=reports), "warning", "9e+09")}
    try:
        for lang in i18n.LANGUAGES:
            ui.st.session_state["lang"] = lang
            for status, (fields, kind, number) in cases.items():
                notice = ui.run_notice(training.Run(job=job, id=1, status=status, **fields))
                assert notice[0] == kind and notice[1] and number in notice[1], (lang, status, notice)
            for status in ("running", "done", "stopped"):
                assert ui.run_notice(training.Run(job=job, id=1, status=status)) is None
    finally:
        ui.st.session_state["lang"] = i18n.DEFAULT_LANGUAGE


def test_two_students_with_the_same_settings_follow_one_run_and_one_can_leave_it():
    query = {"training.epochs": "100", "training.batch": "8"}
    a, b = open_page("lessons/training.py", query=query), open_page("lessons/training.py", query=query)
    a.button(key="training.run.start").click().run()
    b.button(key="training.run.start").click().run()
    run = a.session_state["training.run.runs"][-1].run
    assert b.session_state["training.run.runs"][-1].run is run and len(run.watchers) == 2
    a.run()
    assert run.active and any("1" in c.value and "classmate" in c.value for c in a.caption)
    assert b.button(key="training.run.stop").label == i18n.translate("training.leave", "en")
    b.button(key="training.run.stop").click().run()
    assert not b.session_state["training.run.runs"] and run.active  # b left; the run goes on for a
    a.run()
    assert a.button(key="training.run.stop").label == i18n.translate("training.stop", "en")
    a.button(key="training.run.stop").click().run()
    finish(run)
    assert run.status == "stopped"


def test_a_second_click_replaces_the_sessions_own_run_still_waiting():
    busy = training.runner().submit(training.classifier_job(dataset="digits", layers=SEED, input_shape=(64,),
                                                            epochs=100, batch_size=8, seed=5))
    at = open_page("lessons/training.py", query={"training.epochs": "3", "training.lr": "0.0003"})  # runs of its own
    at.button(key="training.run.start").click().run()
    first = at.session_state["training.run.runs"][-1].run
    assert first.status == "queued"
    at.slider(key="training.epochs").set_value(4).run()
    at.button(key="training.run.start").click().run()
    second = at.session_state["training.run.runs"][-1].run
    assert second is not first and first.status == "stopped" and second.status == "queued"
    assert [e.run for e in at.session_state["training.run.runs"]] == [second]
    busy.stop()
    settle(at)
    assert second.status == "done"


def test_a_rerun_while_the_only_run_is_training_waits_for_its_test_instead_of_crashing():
    """A slider moved while a run trains reruns the whole page: the run has epochs but no test yet,
    so there is nothing to keep; the page says so (it raised a TypeError: seen first under a
    100-student load test, where other nudges rerun pages during runs)."""
    at = open_page("lessons/training.py", "ko", query={"training.epochs": "100"})
    at.button(key="training.run.start").click().run()
    run = session_runs(at)[0]
    wait_until(lambda: run.epochs_done() >= 1 or not run.active, 180, "no epoch ended within 180 s")
    at.run()
    try:
        assert not at.exception, at.exception
        assert run.active and not run.test_scores()  # still training: the case this test is about
        assert any(c.value == i18n.translate("training.keep_waits", "ko") for c in at.caption)
        assert not [m.value for m in at.markdown if "테스트 정확도" in m.value]
    finally:
        run.stop()
        finish(run)
