"""Choose on validation everywhere: the one rule (lib.training.best_on_validation) and what each
page that compares runs says with it — the winner named by its validation score, the test score
said once, for the chosen one only. Runs are built by hand here, so every case is exact; the
pages' real runs are tested in their own files."""
import math

import pytest

from lib import i18n, optimizers, overfitting, training
from lib.training import Epoch, Result, Run

SEED = [{"type": "Dense", "units": 8, "activation": "relu"}, {"type": "Dense", "units": 10, "activation": "softmax"}]


def made_run(histories, tests, outcomes=None, racers=1):
    """A finished Run whose racers had these histories ({metric: [per epoch]}) and test scores."""
    job = training.Job(model=training.Stack(SEED, (64,)), data=training.Images("digits", reshape=(64,)),
                       racers=tuple(training.Compile() for _ in range(racers)) if racers > 1 else ())
    epochs = [Epoch(k, e + 1, {m: values[e] for m, values in history.items()}, 0.1)
              for k, history in enumerate(histories) for e in range(len(next(iter(history.values()))))]
    outcomes = tuple(outcomes or ["done"] * len(histories))
    return Run(job=job, id=1, status="done", epochs=epochs,
               result=Result(weights=(), test=tuple(tests), outcomes=outcomes))


@pytest.mark.parametrize("scores", [[0.5, 0.9, 0.7], [0.9, 0.9, 0.1], [None, 0.2, math.nan, 0.3], [0.1]])
def test_the_rule_is_pythons_max_over_the_scores_that_exist(scores):
    """The shown code picks with max(...) over the finished racers: a tie goes to the first, and
    a racer without a number (diverged, not yet validated) never wins."""
    real = {k: s for k, s in enumerate(scores) if s is not None and not math.isnan(s)}
    assert training.best_on_validation(scores) == max(real, key=real.get)
    assert training.best_on_validation([]) is None and training.best_on_validation([None, math.nan]) is None


def test_the_race_is_won_on_validation_and_only_the_winner_is_tested():
    """The racer best on the test data (SGD, 0.99) is not the one chosen: Adam is best on
    validation; the sentence gives Adam's test score and no other."""
    histories = [{"loss": [1.0], "val_accuracy": [0.80]}, {"loss": [0.5], "val_accuracy": [0.93]},
                 {"loss": [9e9], "val_accuracy": [0.99]}]
    tests = [{"accuracy": 0.99}, {"accuracy": 0.91}, {"accuracy": 0.10}]
    run = made_run(histories, tests, ["done", "done", "diverged"], racers=3)
    assert optimizers.race_winner(run) == 1  # the diverged racer's 0.99 does not count
    for lang in i18n.LANGUAGES:
        said = optimizers.race_result(run, ["SGD", "Adam", "RMSprop"], lang)
        assert said == i18n.translate("optimizers.race_result", lang, name="Adam", validation="0.930",
                                      accuracy="0.910")
        assert "0.990" not in said and "0.100" not in said
    assert "validation" in optimizers.race_result(run, ["SGD", "Adam", "RMSprop"], "en")
    assert "검증 데이터" in optimizers.race_result(run, ["SGD", "Adam", "RMSprop"], "ko")


def test_the_training_page_keeps_the_best_on_validation_and_tests_that_one_once():
    runs = [made_run([{"accuracy": [0.9], "val_accuracy": [0.88]}], [{"accuracy": 0.97}]),
            made_run([{"accuracy": [0.95], "val_accuracy": [0.91]}], [{"accuracy": 0.90}])]
    labels = ["lr=0.01", "lr=0.001"]
    assert training.best_on_validation(training.last_validation(runs)) == 1
    assert training.kept_text(labels, runs, 1, "en") == i18n.translate(
        "training.chosen", "en", label="lr=0.001", validation="0.910", accuracy="0.900")
    other = training.kept_text(labels, runs, 0, "ko")  # the student picked the other one: it says so
    assert other.startswith(i18n.translate("training.chosen", "ko", label="lr=0.01", validation="0.880",
                                           accuracy="0.970"))
    assert other.endswith(i18n.translate("training.not_best", "ko", best="lr=0.001", best_validation="0.910"))
    table = training.runs_table(runs, labels, "en")
    assert "test" not in table and table["validation"] == [0.88, 0.91]


def test_overfitting_runs_are_compared_on_the_validation_accuracy_of_the_epoch_they_keep():
    """The kept epoch is the lowest val_loss (ModelCheckpoint's); the runs are compared on the
    validation accuracy there, not on val_loss (an L2 run's carries its penalty)."""
    plain = made_run([{"loss": [1.0, 0.5, 0.2], "accuracy": [0.5, 0.8, 1.0], "val_loss": [0.9, 0.6, 0.8],
                       "val_accuracy": [0.6, 0.80, 0.85]}], [{"accuracy": 0.79}])
    with_l2 = made_run([{"loss": [1.5, 1.2, 1.1], "accuracy": [0.5, 0.8, 0.9], "val_loss": [1.4, 1.1, 1.0],
                         "val_accuracy": [0.6, 0.82, 0.84]}], [{"accuracy": 0.83}])
    assert [overfitting.kept_accuracy(r.history()) for r in (plain, with_l2)] == [0.80, 0.84]
    assert overfitting.chosen([plain, with_l2]) == 1  # its val_loss (1.0) is the higher one: no matter
    said = overfitting.choice_text("L2 0.001", with_l2, "en")
    assert said == i18n.translate("overfitting.chosen", "en", label="L2 0.001", kept="0.840", epoch=3,
                                  test=overfitting.TEST_IMAGES, accuracy="0.830")
    assert "0.790" not in said
    running = made_run([{"loss": [1.0], "accuracy": [0.5], "val_loss": [0.9], "val_accuracy": [0.99]}], [])
    assert overfitting.chosen([plain, running]) == 0  # a run without a test score has not ended
