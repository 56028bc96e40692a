"""lib.losses against numpy formulas (MSE, MAE, Huber, cross-entropy), the loss-vs-metric races,
and the Loss & metrics page with the code it shows."""
import re

import numpy as np
import pytest

from lib import i18n, losses
from tests.helpers import exercise_widgets, finish, open_page, run_snippet, shown_code


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
    trained_with_mse, trained_with_mae = run.result["test"]
    assert trained_with_mse["mse"] < trained_with_mae["mse"]
    assert trained_with_mae["mae"] < trained_with_mse["mae"]
    assert set(trained_with_mse) == {"loss", "mae", "mse"}  # the study note's loss, mae, mse


def test_the_classifier_race_reports_the_same_metrics_for_both_losses(runner):
    run = finish(runner.submit(losses.race_job("moons", epochs=10)))
    assert [set(scores) for scores in run.result["test"]] == [{"loss", "mae", "mse", "accuracy"}] * 2
    assert all(0.5 < scores["accuracy"] <= 1 for scores in run.result["test"])


def test_an_unknown_experiment_is_refused():
    with pytest.raises(losses.LossError):
        losses.race_job("tides")


def test_the_page_shows_the_losses_its_code_prints_and_the_race(tmp_path):
    at = open_page("pages/losses.py", "ko", query={"outlier": "true", "slope": "2.0", "intercept": "1.0"})
    shown = [m.value for m in at.metric]
    at.button(key="train").click().run(timeout=120)
    assert not at.exception
    table = at.dataframe[0].value
    out = run_snippet(shown_code(at), tmp_path)
    for name, value in zip(("MSE", "MAE", "Huber"), shown):
        assert f"{name}: {float(value)}" in out
    for _, row in table.iterrows():
        printed = re.search(rf"trained with {row.iloc[0]}: loss ([0-9.]+), mae ([0-9.]+), mse ([0-9.]+)", out).groups()
        assert [float(v) for v in printed] == pytest.approx([row["loss"], row["mae"], row["mse"]], abs=1e-3)


def test_every_control_of_the_page_works():
    for lang in i18n.LANGUAGES:
        at = open_page("pages/losses.py", lang)
        assert exercise_widgets(at, skip=("train",)) >= 5
