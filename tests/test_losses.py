"""lib.losses against numpy formulas (MSE, MAE, Huber, cross-entropy), the loss-vs-metric races,
and the Loss & metrics page with the code it shows."""
import re

import numpy as np
import pytest

from lib import i18n, losses
from tests.helpers import exercise_widgets, finish, open_page, run_snippet, settle, shown_code


def huber(error, delta=1.0):
    error = np.abs(error)
    return np.where(error <= delta, 0.5 * error ** 2, delta * error - 0.5 * delta ** 2)


@pytest.mark.parametrize("outlier", [False, True])
@pytest.mark.parametrize("slope,intercept", [(2.0, 1.0), (0.5, -1.0), (3.5, 2.0)])
def test_line_losses_match_the_formulas(outlier, slope, intercept):
    x, y = losses.points(outlier)
    error = (slope * x + intercept - y).ravel()
    values = losses.line_losses(slope, intercept, x, y)
    assert values["mse"] == pytest.approx(np.mean(error ** 2), rel=1e-5)
    assert values["mae"] == pytest.approx(np.mean(np.abs(error)), rel=1e-5)
    assert values["huber"] == pytest.approx(np.mean(huber(error)), rel=1e-5)
    shares = losses.per_point(y, slope * x + intercept)
    np.testing.assert_allclose(shares["mse"], error ** 2, rtol=1e-5)
    np.testing.assert_allclose(shares["huber"], huber(error), rtol=1e-5, atol=1e-7)
    assert len(x) == (11 if outlier else 10)


def test_an_outlier_weighs_most_in_mse_and_least_in_mae():
    x, y = losses.points(True)
    shares = losses.per_point(y, 2 * x + 1)
    part = {name: shares[name][-1] / shares[name].sum() for name in shares}
    assert part["mse"] > part["huber"] > part["mae"]


def test_cross_entropy_explodes_for_a_confident_wrong_answer():
    p = np.array([0.99, 0.5, 0.01], dtype="float32")
    curves = losses.confidence_curves(p)
    np.testing.assert_allclose(curves["binary_crossentropy"], -np.log(p), rtol=1e-4)
    np.testing.assert_allclose(curves["categorical_crossentropy"], -np.log(p), rtol=1e-4)
    np.testing.assert_allclose(curves["mse"], (1 - p) ** 2, rtol=1e-4)
    assert curves["binary_crossentropy"][-1] > 4 > curves["mse"][-1]


def test_each_model_wins_the_metric_that_matches_its_loss(runner):
    run = finish(runner.submit(losses.race_job("line", outlier=True)))
    trained_with_mse, trained_with_mae = run.test_scores(0), run.test_scores(1)
    assert trained_with_mse["mse"] < trained_with_mae["mse"]
    assert trained_with_mae["mae"] < trained_with_mse["mae"]
    assert set(trained_with_mse) == {"loss", "mae", "mse"}  # the study note's loss, mae, mse


def test_the_classifier_race_reports_the_same_metrics_for_both_losses(runner):
    run = finish(runner.submit(losses.race_job("moons", epochs=10)))
    scores = [run.test_scores(k) for k in (0, 1)]
    assert [set(s) for s in scores] == [{"loss", "mae", "mse", "accuracy"}] * 2
    assert all(0.5 < s["accuracy"] <= 1 for s in scores)
    assert {"val_mae", "val_mse", "val_accuracy"} <= set(run.history(0))  # watched on the validation points


def test_an_unknown_experiment_is_refused():
    with pytest.raises(losses.LossError) as caught:
        losses.race_job("tides")
    assert caught.value.code == "unknown" and caught.value.details == {"name": "tides"}


def test_the_page_shows_the_losses_its_code_prints_and_the_race(tmp_path):
    at = open_page("lessons/losses.py", "ko", query={"losses.outlier": "true", "losses.slope": "2.0",
                                                   "losses.intercept": "1.0"})
    shown = [m.value for m in at.metric]
    at.button(key="losses.race_run.start").click().run()
    settle(at)
    table = at.dataframe[-1].value
    out = run_snippet(shown_code(at), tmp_path)
    for name, value in zip(("MSE", "MAE", "Huber"), shown):
        assert f"{name}: {float(value)}" in out
    for _, row in table.iterrows():
        printed = re.search(rf"trained with {row.iloc[0]}: loss ([0-9.]+), mae ([0-9.]+), mse ([0-9.]+)", out).groups()
        assert [float(v) for v in printed] == pytest.approx([row["loss"], row["mae"], row["mse"]], abs=1e-3)


def test_every_control_of_the_page_works():
    for lang in i18n.LANGUAGES:
        at = open_page("lessons/losses.py", lang)
        assert exercise_widgets(at, skip=("losses.race_run.start",)) >= 5


# --- The study note's compile line ------------------------------------------------------------------

def test_the_three_cross_entropies_of_the_same_predictions_match_their_formulas():
    """sparse and categorical: mean of −log p(true class); binary on one-hot: the mean over the ten
    outputs of −(y log p + (1 − y) log(1 − p)) — written out here in numpy."""
    import keras

    from lib import data, models

    check = losses.seed_compile_check()
    model = models.build_sequential(models.PRESETS["seed"][1], (64,), seed=0)
    digits = data.load_dataset("digits")
    p = np.clip(np.asarray(model(digits.x_test.reshape(-1, 64))).astype("float64"), 1e-7, 1 - 1e-7)
    y = np.eye(10)[digits.y_test]
    categorical = -np.log(p[np.arange(len(p)), digits.y_test]).mean()
    binary = -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean()
    assert check.losses["sparse_categorical_crossentropy"] == pytest.approx(categorical, rel=1e-4)
    assert check.losses["categorical_crossentropy"] == pytest.approx(categorical, rel=1e-4)
    assert check.losses["binary_crossentropy"] == pytest.approx(binary, rel=1e-4)
    assert "same rank" in check.refusal and keras.__version__ >= "3.15"


def test_the_notes_compile_line_runs_and_prints_the_numbers_the_page_shows(tmp_path):
    at = open_page("lessons/losses.py")
    code = [c.value for c in at.code if "binary_crossentropy" in c.value and "refused" in c.value][0]
    assert 'model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])' in code
    out = run_snippet(code, tmp_path)
    table = at.dataframe[0].value
    for _, row in table.iterrows():
        assert f"{row.iloc[0]}: {row.iloc[2]}" in out
    assert f"refused: {losses.seed_compile_check().refusal}" in out


def test_the_seed_race_trains_binary_and_categorical_cross_entropy_from_the_same_start(tmp_path):
    at = open_page("lessons/losses.py", query={"losses.experiment": "seed"})
    at.button(key="losses.race_run.start").click().run()
    settle(at)
    run = at.session_state["losses.race_run.runs"][-1].run
    assert [c.loss for c in run.job.racers] == ["binary_crossentropy", "categorical_crossentropy"]
    assert run.status == "done" and all(run.test_scores(k)["accuracy"] > 0.5 for k in (0, 1))
    table = at.dataframe[-1].value
    out = run_snippet(shown_code(at), tmp_path)
    for _, row in table.iterrows():
        printed = re.search(rf"trained with {row.iloc[0]}: loss ([0-9.]+), accuracy ([0-9.]+)", out).groups()
        assert [float(v) for v in printed] == pytest.approx([row["loss"], row["accuracy"]], abs=1e-3)
