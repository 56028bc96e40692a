"""The shared training runner: typed jobs, real Keras on small data in worker processes — streaming
per epoch, stop, time budget, divergence per racer, the server-wide limit on simultaneous runs,
refusals, recovery."""
import dataclasses
import importlib
import itertools
import os
import signal

import numpy as np
import pytest

from lib import data, i18n, training, ui
from lib.training import Arrays, Builder, Compile, Fit, Images, Job, Stack
from tests.helpers import finish, wait_until

MLP = [{"type": "Dense", "units": 16, "activation": "relu"}, {"type": "Dense", "units": 10, "activation": "softmax"}]


SEEDS = itertools.count(100)  # a new seed for every job: a run is trained, not shared with an earlier test's


def job(**changes):
    """A small digits job. Its budget is the most a run may have: only the budget's own tests (which
    set theirs) are about it, and a busy machine must not turn another test's run into a budget stop."""
    base = dict(model=Stack(MLP, (64,)), data=Images("digits", reshape=(64,)), compile=Compile("Adam", 0.01),
                fit=Fit(epochs=5, batch_size=64), budget_s=training.MAX_SECONDS, seed=next(SEEDS))
    base.update(changes)
    return Job(**base)


@pytest.fixture(scope="module")
def runner():
    """A runner of this file's own with one slot: one run at a time, the rest wait."""
    return training.Runner(slots=1)


def line_points():
    x = np.linspace(-1, 1, 20, dtype="float32")[:, None]
    return Arrays(x, 3 * x + 1, x_test=x, y_test=3 * x + 1)


def test_the_parts_of_a_job_have_their_defaults_in_one_place():
    plain = Job(model=Stack(MLP, (64,)), data=Images("digits"))
    assert plain.compile == Compile() and plain.fit == Fit() and plain.compiles == (Compile(),)
    assert Compile().loss == "sparse_categorical_crossentropy" and Fit().early_stopping is None
    assert training.EarlyStop().restore_best_weights is False  # Keras's own default


def test_equal_jobs_have_equal_keys_and_any_change_makes_another():
    assert job(seed=0).key == job(seed=0).key
    assert job(seed=0).key != job(seed=1).key
    assert job(seed=0).key != job(seed=0, compile=Compile("Adam", 0.011)).key
    assert job(seed=0).key != job(seed=0, fit=Fit(epochs=5, batch_size=32)).key
    x = np.zeros((4, 1), "float32")
    assert job(seed=0, data=Arrays(x, x)).key == job(seed=0, data=Arrays(x.copy(), x)).key
    assert job(seed=0, data=Arrays(x, x)).key != job(seed=0, data=Arrays(x + 1, x)).key


def test_images_hold_out_a_validation_slice_before_taking_training_samples():
    digits = data.load_dataset("digits")
    x_train, y_train, x_val, y_val, x_test, y_test = Images("digits", train_samples=100, validation=287).arrays()
    assert x_train.shape == (100, 8, 8) and x_val.shape == (287, 8, 8) and x_test.shape == (360, 8, 8)
    np.testing.assert_array_equal(x_val, digits.x_train[-287:])
    np.testing.assert_array_equal(x_train, digits.x_train[:100])
    assert not set(map(bytes, x_train)) & set(map(bytes, x_val))  # no image in both


def test_a_run_streams_its_epochs_and_ends_with_its_weights_and_test_scores(runner):
    run = runner.submit(job(fit=Fit(epochs=6, batch_size=64, validation_split=0.2)))
    seen = []

    def ended():
        seen.append(run.epochs_done())
        return not run.active

    wait_until(ended, 180, lambda: f"run still {run.status} after 180 s", interval=0.01)
    assert run.status == "done", run.error
    assert 0 < len([n for n in set(seen) if 0 < n < 6])  # some epochs were visible before the end
    history = run.history()
    assert len(history["loss"]) == 6 and history["loss"][-1] < history["loss"][0]
    assert {"val_loss", "val_accuracy"} <= set(history)
    assert run.test_scores()["accuracy"] > 0.8
    digits = data.load_dataset("digits")
    accuracy = (run.model().predict(digits.x_test.reshape(-1, 64), verbose=0).argmax(1) == digits.y_test).mean()
    assert accuracy == pytest.approx(run.test_scores()["accuracy"], abs=1e-6)


def test_the_same_job_gives_the_same_numbers(runner):
    """Trained twice, by two runners (one runner would share the first run): the same numbers."""
    a, b = finish(runner.submit(job(seed=0))), finish(training.Runner(slots=1).submit(job(seed=0)))
    assert a is not b and a.history()["loss"] == b.history()["loss"]
    assert finish(runner.submit(job(seed=1))).history()["loss"] != a.history()["loss"]


def test_batch_losses_are_reported_per_step_when_asked(runner):
    run = finish(runner.submit(job(fit=Fit(epochs=2, batch_size=256), batch_losses=True)))
    assert len(run.batch_losses()) == 2 * -(-1437 // 256)
    assert run.batch_losses()[-1] == pytest.approx(run.epochs[-1].batch_losses[-1])
    assert finish(runner.submit(job(fit=Fit(epochs=1, batch_size=256)))).batch_losses() == []


def test_stop_ends_a_run_early_and_keeps_what_it_learned(runner):
    run = runner.submit(job(fit=Fit(epochs=200, batch_size=8)))
    wait_until(lambda: run.epochs_done() >= 2, 180, "two epochs never came", interval=0.01)
    run.stop()
    finish(run)
    assert run.status == "stopped" and 2 <= run.epochs_done() < 200
    assert run.model() is not None and run.test_scores()["accuracy"] > 0.5


def test_the_time_budget_stops_a_runaway_run_which_says_so_and_keeps_its_weights(runner):
    """500 epochs of one image per step would take many minutes: the 2 s budget stops the run
    (not the runner's grace period killing a worker, not the end of its epochs), and the page says
    so. How soon after the budget it stops is bench's to time; finish's deadline only guards."""
    run = finish(runner.submit(job(fit=Fit(epochs=500, batch_size=1), budget_s=2)))
    assert run.status == "budget" and run.result.stopped == "budget" and run.error is None
    assert 1 <= run.epochs_done() < 500 and run.result.weights and run.test_scores()
    assert ui.run_notice(run) == ("warning", i18n.translate("common.run.budget", "en", budget="2",
                                                                  epoch=run.epochs_done()))


def test_runs_wait_in_line_one_slot_at_a_time(runner):
    runs = [runner.submit(job(fit=Fit(epochs=3, batch_size=64)))]
    wait_until(lambda: runs[0].status != "queued", 180, "the first run never left the line", interval=0.005)
    runs += [runner.submit(job(fit=Fit(epochs=3, batch_size=64))) for _ in (1, 2)]
    assert [r.queue_position for r in runs[1:]] == [1, 2]  # the first one is with the only worker
    for run in runs:
        finish(run)
    spans = sorted((r.started, r.finished) for r in runs)
    assert all(a[1] <= b[0] + 0.05 for a, b in zip(spans, spans[1:]))  # never two at once
    assert all(r.status == "done" for r in runs)


@pytest.mark.timeout(900)  # a second worker's start (TensorFlow's import) under load, then an idle period
def test_one_worker_waits_ready_and_the_others_start_for_waiting_runs_and_stop_when_idle(monkeypatch):
    runner_module = importlib.import_module("lib.training.runner")  # the module: `runner` is also a function
    monkeypatch.setattr(runner_module, "EXTRA_WORKER_IDLE_S", 2.0)
    pool = training.Runner(slots=2)
    wait_until(lambda: pool.workers() >= 1, 180, "the first worker never became ready")
    # Between classes: one worker, ready for a lone student's click; the other slot has none and
    # waits for a run (it starts a worker only for one).
    assert pool.workers() == 1 and pool._workers.get(1) is None
    # Long runs, more than two: whichever slot is still starting its worker (TensorFlow's import,
    # slow on a busy machine), the other keeps training, each run up to its budget.
    runs = [pool.submit(job(fit=Fit(epochs=500, batch_size=8))) for _ in range(4)]
    wait_until(lambda: sum(r.status == "running" and r.epochs_done() >= 1 for r in runs) == 2, 240,
               lambda: f"two runs never trained side by side: {[(r.status, r.epochs_done()) for r in runs]}")
    assert pool.workers() == 2  # the second trained beside the first (in a worker of its own), not after it
    for run in runs:
        run.stop()
    for run in runs:
        finish(run)
    assert all(r.status in ("stopped", "budget") and r.error is None for r in runs)  # ended early, cleanly
    wait_until(lambda: pool.workers() == 1 and pool._workers.get(1) is None, runner_module.EXTRA_WORKER_IDLE_S + 120,
               lambda: f"{pool.workers()} workers still alive: the extra one did not stop once idle")
    assert pool._workers[0].alive()  # the first one is kept
    assert finish(pool.submit(job())).status == "done"  # the kept worker still trains


def test_a_worker_that_has_grown_too_much_is_replaced_after_its_run(monkeypatch):
    runner_module = importlib.import_module("lib.training.runner")
    pool = training.Runner(slots=1)
    assert finish(pool.submit(job())).status == "done"
    first = pool._workers[0]
    monkeypatch.setattr(runner_module, "RECYCLE_GROWTH_BYTES", first.grown() + 10_000_000)
    assert finish(pool.submit(job())).status == "done" and pool._workers[0] is first  # not grown enough
    monkeypatch.setattr(runner_module, "RECYCLE_GROWTH_BYTES", -1)  # any size is too much now
    assert finish(pool.submit(job())).status == "done"
    wait_until(lambda: pool._workers[0] not in (first, None) and pool.workers() == 1, 180,
               "the grown worker was not replaced by a fresh one")
    assert not first.alive()
    assert finish(pool.submit(job())).status == "done"  # the new worker trains


def test_a_grown_worker_is_replaced_by_a_fresh_one_once_idle(monkeypatch):
    runner_module = importlib.import_module("lib.training.runner")
    monkeypatch.setattr(runner_module, "EXTRA_WORKER_IDLE_S", 1.0)
    pool = training.Runner(slots=1)
    monkeypatch.setattr(runner_module, "IDLE_RECYCLE_BYTES", 10 ** 12)  # nothing has grown that much
    calls, next_run = [], pool._next  # [how long the slot waits for a run (None: for ever), the run it got]

    def spy(timeout=None):
        calls.append(call := [timeout, None])
        call[1] = next_run(timeout)
        return call[1]

    def waits_after(run):
        """The waits the slot asked for once it had been given `run` (its last run)."""
        given = next((k for k, (_, got) in enumerate(calls) if got is run), -1)
        return [timeout for timeout, _ in calls[given + 1:]]

    monkeypatch.setattr(pool, "_next", spy)
    kept = finish(pool.submit(job()))
    assert kept.status == "done"
    first = pool._workers[0]
    wait_until(lambda: waits_after(kept), 60, "the slot never went back to waiting for a run")
    assert waits_after(kept) == [None] and pool._workers[0] is first  # idle, but not grown: kept, no idle deadline
    monkeypatch.setattr(runner_module, "IDLE_RECYCLE_BYTES", -1)  # now any worker counts as grown
    grown = finish(pool.submit(job()))
    assert grown.status == "done"
    wait_until(lambda: pool._workers[0] is not first, 180, "the grown worker was not replaced once idle")
    assert waits_after(grown)[0] == runner_module.EXTRA_WORKER_IDLE_S  # replaced after waiting that long for a run
    monkeypatch.setattr(runner_module, "IDLE_RECYCLE_BYTES", 10 ** 12)  # the fresh one stays
    assert pool._workers[0] is not None and pool._workers[0] is not first and not first.alive()
    assert finish(pool.submit(job())).status == "done"


def test_stopping_a_waiting_run_takes_it_out_of_the_line(runner):
    first = runner.submit(job(fit=Fit(epochs=30, batch_size=8)))
    second = runner.submit(job())
    assert second.status == "queued"
    second.stop()
    assert second.status == "stopped" and not second.epochs
    first.stop()
    finish(first)


def test_a_learning_rate_that_is_far_too_big_diverges_without_a_crash(runner):
    run = finish(runner.submit(job(compile=Compile("SGD", 1e6), fit=Fit(epochs=20, batch_size=64))))
    assert run.status == "diverged" and run.epochs_done() < 20 and run.outcome() == "diverged"


def test_one_racer_that_diverges_stops_alone_and_the_race_goes_on(runner):
    """SGD at learning rate 5 on y = 3x + 1 blows up at once; Adam beside it learns the line."""
    racers = (Compile("SGD", 5.0, loss="mse", metrics=()), Compile("Adam", 0.1, loss="mse", metrics=()))
    run = finish(runner.submit(Job(model=Builder("lib.losses:line_model"), data=line_points(), racers=racers,
                                   fit=Fit(epochs=30, batch_size=20))))
    assert run.status == "done"
    assert run.outcome(0) == "diverged" and run.outcome(1) == "done"
    assert run.epochs_done(0) < 5 and run.epochs_done(1) == 30
    assert run.history(1)["loss"][-1] < 0.5 * run.history(1)["loss"][0]
    one_after_another = finish(runner.submit(dataclasses.replace(run.job, lockstep=False)))
    assert [one_after_another.outcome(k) for k in (0, 1)] == ["diverged", "done"]
    assert one_after_another.history(1)["loss"] == pytest.approx(run.history(1)["loss"], rel=1e-5)  # whatever the order


def test_when_every_racer_diverges_the_run_did(runner):
    racers = (Compile("SGD", 5.0, loss="mse", metrics=()), Compile("SGD", 8.0, loss="mse", metrics=()))
    run = finish(runner.submit(Job(model=Builder("lib.losses:line_model"), data=line_points(), racers=racers,
                                   fit=Fit(epochs=30, batch_size=20))))
    assert run.status == "diverged" and [run.outcome(k) for k in (0, 1)] == ["diverged", "diverged"]


@pytest.mark.parametrize("changes,code", [
    (dict(fit=Fit(epochs=0)), "no_epochs"), (dict(fit=Fit(epochs=10_000)), "too_many_epochs"),
    (dict(fit=Fit(epochs=2, batch_size=0)), "bad_batch"), (dict(compile=Compile(learning_rate=0)), "bad_learning_rate"),
    (dict(compile=Compile(learning_rate=float("nan"))), "bad_learning_rate"), (dict(budget_s=3600), "bad_budget"),
    (dict(racers=(Compile(), Compile(learning_rate=-1.0))), "bad_learning_rate")])
def test_impossible_jobs_are_refused_before_they_queue(runner, changes, code):
    with pytest.raises(training.TrainingError) as caught:
        runner.submit(job(**changes))
    assert caught.value.code == code


def test_a_batch_larger_than_the_data_fails_with_a_reason(runner):
    run = finish(runner.submit(job(data=Images("digits", train_samples=50, reshape=(64,)), fit=Fit(2, batch_size=100))))
    assert run.status == "failed" and run.error.code == "batch_too_big"
    assert run.error.details == {"value": 100, "n": 50}


def test_racers_one_after_another_each_get_their_share_of_the_budget(runner):
    racers = (Compile("SGD", 0.01), Compile("Adam", 0.001))
    run = finish(runner.submit(job(racers=racers, lockstep=False, fit=Fit(epochs=500, batch_size=1), budget_s=3)))
    assert run.status == "budget" and run.result.stopped == "budget" and run.error is None
    assert len(run.result.weights) == 2 and all(run.test_scores(k) for k in (0, 1))  # the second one trained too
    assert all(1 <= run.epochs_done(k) < 500 for k in (0, 1))


def test_a_race_stopped_before_a_racers_turn_says_so_without_a_crash(runner):
    racers = (Compile("SGD", 0.01), Compile("Adam", 0.001))
    run = runner.submit(job(racers=racers, lockstep=False, fit=Fit(epochs=200, batch_size=8)))
    wait_until(lambda: run.epochs_done(0) >= 2, 180, "the first racer never trained two epochs", interval=0.01)
    run.stop()
    finish(run)
    assert run.status == "stopped" and run.test_scores(0) and run.model(0) is not None
    assert run.test_scores(1) == {} and run.outcome(1) == "stopped" and run.model(1) is None


def test_a_race_trains_one_model_per_optimizer_from_the_same_start(runner):
    run = finish(runner.submit(job(racers=(Compile("SGD", 0.1), Compile("Adam", 0.01)), fit=Fit(3, batch_size=64))))
    assert run.status == "done"
    assert [run.epochs_done(k) for k in (0, 1)] == [3, 3]
    assert run.history(0)["loss"] != run.history(1)["loss"]
    assert len(run.result.weights) == 2 and len(run.histories()) == 2


def test_probes_are_predicted_as_training_goes(runner):
    grid = np.random.default_rng(0).random((5, 64)).astype("float32")
    run = finish(runner.submit(job(probes={"grid": grid}, probe_every=2, fit=Fit(epochs=4, batch_size=64))))
    epoch, probes = run.latest_probes()
    assert epoch == 4 and probes["grid"].shape == (5, 10)
    np.testing.assert_allclose(probes["grid"], run.model()(grid), atol=1e-5)


def test_a_dead_worker_is_replaced_and_only_its_run_fails(runner):
    run = runner.submit(job(fit=Fit(epochs=200, batch_size=4)))
    wait_until(lambda: run.epochs, 180, "no epoch came", interval=0.01)
    for pid in os.popen(f"pgrep -P {os.getpid()} -f lib.training.worker").read().split():  # this test's workers only
        os.kill(int(pid), signal.SIGKILL)
    finish(run)
    assert run.status == "failed" and run.error.code == "worker"
    assert finish(runner.submit(job())).status == "done"


def test_every_refusal_has_a_message_in_both_languages():
    details = {"value": 1, "n": 2, "limit": 3, "model": "(None, 784)", "images": "8×8", "numbers": 64,
               "output": "(None, 5)", "message": "boom", "needs": "600", "budget": "512", "batch": 32}
    for code in ("batch_too_big", "input_mismatch", "not_ten_outputs", "no_softmax", "no_epochs", "too_many_epochs",
                 "bad_batch", "bad_learning_rate", "bad_budget", "error", "worker", "too_much_memory", "out_of_memory"):
        for lang in i18n.LANGUAGES:
            assert "{" not in i18n.translate(f"training.error.{code}", lang, **details)


# --- Shared runs: a class pressing Train together costs one run ---------------------------------

def test_an_identical_job_shares_the_run_queued_running_or_done(runner):
    same = dict(fit=Fit(epochs=3, batch_size=64), seed=7)
    first = runner.submit(job(**same), session="a")
    again = runner.submit(job(**same), session="b")
    assert again is first and set(first.watchers) == {"a", "b"}
    finish(first)
    assert runner.submit(job(**same), session="c") is first  # recently done
    assert runner.submit(job(**{**same, "seed": 9}), session="c") is not first
    assert runner.submit(job(**{**same, "fit": Fit(epochs=3, batch_size=32)}), session="c") is not first


def test_a_stopped_or_failed_run_is_not_shared_but_trained_again(runner):
    stopped = runner.submit(job(fit=Fit(epochs=200, batch_size=8), seed=11), session="a")
    wait_until(lambda: stopped.epochs_done() >= 1, 180, "no epoch came", interval=0.01)
    stopped.stop()
    finish(stopped)
    assert stopped.status == "stopped"
    fresh = runner.submit(job(fit=Fit(epochs=200, batch_size=8), seed=11), session="b")
    assert fresh is not stopped
    fresh.stop()
    finish(fresh)


def test_a_run_stops_only_when_the_last_one_watching_leaves(runner):
    run = runner.submit(job(fit=Fit(epochs=200, batch_size=8), seed=3), session="a")
    runner.submit(job(fit=Fit(epochs=200, batch_size=8), seed=3), session="b")
    wait_until(lambda: run.epochs_done() >= 1, 180, "no epoch came", interval=0.01)
    run.seen("b")  # b's page redraws the run as it trains (a watcher unseen for 5 s no longer counts)
    run.leave("a")
    assert run.active and run.watching() == 1 and not run._stop.is_set()  # not told to stop
    done = run.epochs_done()
    wait_until(lambda: run.epochs_done() > done, 180, "the run stopped training when one of two watchers left",
               interval=0.01)
    assert run.active
    run.leave("b")
    finish(run)
    assert run.status == "stopped"


def test_finished_runs_are_kept_within_their_count_and_bytes(runner, monkeypatch):
    runner_module = importlib.import_module("lib.training.runner")  # the module, not the function of that name

    monkeypatch.setattr(runner_module, "KEEP_RUNS", 2)
    small = runner  # (its earlier runs are the oldest: the first new one already forgets them)
    runs = [finish(small.submit(job(fit=Fit(epochs=1, batch_size=256), seed=k))) for k in range(4)]
    assert small.shared()[0] == 2
    assert small.submit(job(fit=Fit(epochs=1, batch_size=256), seed=3)) is runs[3]  # the newest is kept
    assert small.submit(job(fit=Fit(epochs=1, batch_size=256), seed=0)) is not runs[0]  # the oldest forgotten
    monkeypatch.setattr(runner_module, "KEEP_BYTES", 1)
    finish(small.submit(job(fit=Fit(epochs=1, batch_size=256), seed=7)))
    assert small.shared()[0] == 0  # every finished run holds weights: over one byte, none is kept


def test_a_waiting_run_gets_an_estimate_from_the_runs_before_it(runner):
    finish(runner.submit(job(fit=Fit(epochs=2, batch_size=64), seed=21)))
    busy = runner.submit(job(fit=Fit(epochs=50, batch_size=8), seed=22))
    waiting = runner.submit(job(fit=Fit(epochs=2, batch_size=64), seed=23))
    assert waiting.status == "queued" and runner.estimated_wait(waiting) > 0
    wait_until(lambda: busy.status != "queued", 180, "the busy run never started", interval=0.01)
    assert runner.estimated_wait(busy) is None  # a run that trains waits for nothing
    for run in (waiting, busy):
        run.stop()
        finish(run)


def test_what_training_mode_hides_is_reported_when_a_job_asks(runner):
    """`final_scores`: the final model evaluated with Dropout off on the examples fit trained on
    and on the ones it validated on — Keras's own split of `validation_split` (the last 20 %);
    `data_loss`: the losses without a regularizer's penalty (none here: the same as Keras's)."""
    dropout = [{"type": "Dense", "units": 32, "activation": "relu"}, {"type": "Dropout", "rate": 0.5}, MLP[-1]]
    run = finish(runner.submit(job(model=Stack(dropout, (64,)), fit=Fit(epochs=3, batch_size=64, validation_split=0.2),
                                   final_scores=True, data_loss=True)))
    history, final, model = run.history(), run.final_scores(), run.model()
    x, y = data.load_dataset("digits").x_train.reshape(-1, 64), data.load_dataset("digits").y_train
    cut = int(len(x) * 0.8)
    for (xs, ys), part in (((x[:cut], y[:cut]), "train"), ((x[cut:], y[cut:]), "validation")):
        answers = np.asarray(model(xs, training=False)).argmax(axis=1)
        assert final[part]["accuracy"] == pytest.approx((answers == ys).mean(), abs=1e-6), part
    assert final["validation"]["loss"] == pytest.approx(history["val_loss"][-1], rel=1e-5)
    assert final["penalty"] == 0.0 and history["penalty"] == [0.0] * 3
    assert history["data_loss"] == pytest.approx(history["loss"], rel=1e-6)
    assert history["val_data_loss"] == pytest.approx(history["val_loss"], rel=1e-6)
    plain = finish(runner.submit(job(fit=Fit(epochs=1, batch_size=64))))  # asked for nothing: nothing more
    assert plain.final_scores() == {} and set(plain.history()) == {"loss", "accuracy"}
