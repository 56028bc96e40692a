"""lib.regression against numpy and scikit-learn (the split, the Normalization, evaluate's three
numbers), and the Regression page: its numbers are model.evaluate's, its code prints them, a
hostile link falls back to the defaults, and it speaks Korean."""
import re

import numpy as np
import pytest
from sklearn.metrics import mean_absolute_error, mean_squared_error
from streamlit.testing.v1 import AppTest

from lib import i18n, regression, ui
from tests.helpers import (ROOT, exercise_widgets, open_page, page_without_tensorflow, run_snippet, session_runs,
                           settle, shown_code)

PAGE = "lessons/regression.py"
# Until the page is in the menu (lib/ui/pages.py), the test opens it the way the entry point does:
# language, the page, then the one-line notice of what a link asked for and did not get.
FRAME = f"""
import runpy
import streamlit as st
from lib import ui
ui.choose_language()
notice = st.empty()
try:
    runpy.run_path({str(ROOT / PAGE)!r}, run_name="__main__")
finally:
    ui.ignored_in_link(notice)
"""


def open_regression(lang="en", query=None):
    if ui.is_available("regression"):
        return open_page(PAGE, lang, query=query)
    at = AppTest.from_string(FRAME, default_timeout=120)
    at.query_params["lang"] = lang
    for name, value in (query or {}).items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, at.exception
    return at


# --- The data ---------------------------------------------------------------------------------

def test_the_cars_are_the_seeds_392_split_three_ways_with_origin_one_hot():
    from mlxtend.data import autompg_data

    x, _ = autompg_data()
    assert x.shape == (392, 8) and np.isnan(x[:, 7]).all()  # the names column is empty: dropped
    table = regression.car_table(regression.COLUMNS)
    assert list(table.columns) == [*regression.COLUMNS[:-1], "Europe", "Japan", "USA", "MPG"]
    assert not table.isna().any().any()
    assert (table[["Europe", "Japan", "USA"]].sum(axis=1) == 1).all()
    np.testing.assert_array_equal(table["Japan"], x[:, 6] == 3)
    train, validation, test = regression.split_cars(table)
    assert (len(train), len(validation), len(test)) == (251, 63, 78)
    assert set(train.index).isdisjoint(validation.index) and set(train.index).isdisjoint(test.index)
    assert set(validation.index).isdisjoint(test.index)
    assert len(set(train.index) | set(validation.index) | set(test.index)) == 392


def test_normalization_is_adapted_on_the_training_part_only():
    """Mean and variance (ddof 0) of the 251 training cars, by numpy; every part scaled with them."""
    data = regression.cars()
    train, validation, test = regression.split_cars(regression.car_table(regression.COLUMNS))
    features = [part.drop(columns="MPG").to_numpy("float64") for part in (train, validation, test)]
    mean, std = features[0].mean(axis=0), features[0].std(axis=0)
    np.testing.assert_allclose(data.mean, mean, rtol=1e-5)
    np.testing.assert_allclose(np.sqrt(data.variance), std, rtol=1e-5)
    for normed, raw in zip((data.x_train, data.x_val, data.x_test), features):
        np.testing.assert_allclose(normed, (raw - mean) / std, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(data.x_train.mean(axis=0), 0, atol=1e-5)
    assert np.abs(data.x_test.mean(axis=0)).max() > 0.05  # the test cars were not part of the mean
    np.testing.assert_array_equal(data.y_test, test["MPG"].to_numpy("float32"))


def test_the_choice_of_inputs_is_checked_and_put_in_the_datas_order():
    assert regression.checked_inputs(["weight", "cylinders"]) == ("cylinders", "weight")
    assert regression.cars(["weight", "origin"]).columns == ("weight", "Europe", "Japan", "USA")
    for inputs, code in (([], "no_inputs"), (None, "no_inputs"), (["weight", "colour"], "unknown_input")):
        with pytest.raises(regression.RegressionError) as caught:
            regression.checked_inputs(inputs)
        assert caught.value.code == code
        for lang in i18n.LANGUAGES:
            assert i18n.translate(f"regression.error.{code}", lang, **caught.value.details)
    with pytest.raises(regression.RegressionError, match="hidden"):
        regression.layers((64,) * (regression.MAX_HIDDEN + 1))


def test_the_job_is_the_notes_model_and_compile():
    job = regression.regression_job()
    assert job.model.input_shape == (9,)  # six numbers and origin as three columns
    assert list(job.model.layers) == [{"type": "Dense", "units": 64, "activation": "relu"}] * 2 + [
        {"type": "Dense", "units": 1}]
    assert (job.compile.optimizer, job.compile.learning_rate) == ("RMSprop", 0.001)
    assert (job.compile.loss, job.compile.metrics) == ("mse", ("mae", "mse"))
    assert regression.hidden_of(regression.regression_job(hidden=(8, 16, 32), epochs=5)) == (8, 16, 32)


# --- evaluate: the three numbers --------------------------------------------------------------

def seeded_model(width=8):
    from lib import models

    return models.build_sequential(regression.layers((width,)), (9,), seed=3)


def test_evaluate_returns_loss_mae_mse_equal_to_scikit_learn_on_predict():
    data = regression.cars()
    scores = regression.evaluate(seeded_model(), data)
    assert scores.truth.shape == scores.predictions.shape == (78,)
    assert scores.mae == pytest.approx(mean_absolute_error(data.y_test, scores.predictions), rel=1e-5)
    assert scores.mse == pytest.approx(mean_squared_error(data.y_test, scores.predictions), rel=1e-5)
    assert scores.loss == pytest.approx(scores.mse, rel=1e-6)  # the loss is MSE
    assert scores.by_hand == pytest.approx((scores.mae, scores.mse), rel=1e-5)
    assert scores.mse > scores.mae ** 2  # the mean of squares is not the square of the mean


def test_evaluate_names_its_numbers_in_compiles_order_whatever_you_call_them():
    """The page's claim: [loss, *metrics] in compile's order; swap the metrics and the note's
    `loss, mae, mse = ...` silently calls the MSE "mae"."""
    data = regression.cars()
    model = seeded_model()
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mse", "mae"])
    _, mae, mse = model.evaluate(data.x_test, data.y_test, verbose=0)
    predictions = model.predict(data.x_test, verbose=0).flatten()
    assert mae == pytest.approx(mean_squared_error(data.y_test, predictions), rel=1e-5)
    assert mse == pytest.approx(mean_absolute_error(data.y_test, predictions), rel=1e-5)


def test_the_run_tested_is_the_lowest_validation_mae():
    histories = [{"mae": [3.0], "val_mae": [2.5]}, {"mae": [1.0], "val_mae": [2.9]}, {},
                 {"mae": [2.0], "val_mae": [2.1]}]
    assert regression.chosen(histories) == 3
    assert regression.chosen([{}, {"mae": [1.0]}]) is None
    assert regression.chosen([{"val_mae": [float("nan")]}, {"val_mae": [9.0]}]) == 1  # a NaN never wins


# --- The page -----------------------------------------------------------------------------------

def test_the_cars_are_normalised_as_kerass_normalization_does_to_the_bit_for_every_choice_of_inputs():
    """lib.regression normalises in NumPy (no TensorFlow on the page): the same bits as the shown
    code's `keras.layers.Normalization(axis=-1)` adapted on the training part, every part."""
    import itertools

    import keras

    choices = [c for k in range(1, len(regression.COLUMNS) + 1) for c in itertools.combinations(regression.COLUMNS, k)]
    checked = [(c, regression.SPLIT_SEED) for c in choices] + [(regression.COLUMNS, seed) for seed in (1, 7)]
    for inputs, seed in checked:
        data = regression.cars(inputs, seed)
        parts = regression.split_cars(regression.car_table(inputs), seed)
        features = [part.drop(columns="MPG").to_numpy("float32") for part in parts]
        normalizer = keras.layers.Normalization(axis=-1)
        normalizer.adapt(features[0])
        for ours, raw in zip((data.x_train, data.x_val, data.x_test), features):
            theirs = np.asarray(normalizer(raw))
            assert ours.dtype == theirs.dtype == np.float32
            assert np.array_equal(ours.view(np.uint32), theirs.view(np.uint32)), (inputs, seed)
        assert np.array_equal(data.mean, np.asarray(normalizer.mean).ravel()), (inputs, seed)
        assert np.array_equal(data.variance, np.asarray(normalizer.variance).ravel()), (inputs, seed)
    assert len(checked) == 2 ** len(regression.COLUMNS) + 1


def test_a_constant_column_is_divided_by_kerass_epsilon_not_by_zero():
    features = np.array([[1.0, 5.0], [3.0, 5.0]], dtype="float32")
    mean, variance = features.mean(axis=0), features.var(axis=0)
    normed = regression.normalize(features, mean, variance)
    np.testing.assert_array_equal(normed, np.array([[-1.0, 0.0], [1.0, 0.0]], dtype="float32"))
    assert regression.normalize(np.array([[6.0, 6.0]], "float32"), mean, variance)[0, 1] == np.float32(1.0 / 1e-7)


def test_a_class_link_to_the_page_draws_it_without_waiting_for_tensorflow():
    """Nothing the page shows before Train needs Keras: on a fresh server its first chart does not
    wait for TensorFlow's import (~4 s; the training workers import it in their own processes)."""
    page, printed = page_without_tensorflow("lessons/regression.py")
    assert (page["charts"], page["exceptions"]) == (1, 0), printed[-3000:]


def page_numbers(at):
    """(loss, mae, mse) of the page's metrics, and the MAE of its printed line."""
    shown = {m.label: float(m.value) for m in at.metric}
    printed = [m.value for m in at.markdown if "MPG**" in m.value and "Mean Abs Error" in m.value]
    assert len(printed) == 1, [m.value[:80] for m in at.markdown]
    return (shown["loss"], shown["mae"], shown["mse"]), re.search(r"\*\*([0-9.]+) MPG\*\*", printed[0]).group(1)


def test_the_pages_numbers_are_evaluates_and_scikit_learns_and_its_code_prints_them(tmp_path):
    at = open_regression(query={"regression.epochs": "20", "regression.inputs": ["weight", "model_year"]})
    at.button(key="regression.run.start").click().run()
    settle(at)
    (loss, mae, mse), printed = page_numbers(at)
    run = session_runs(at)[-1]
    assert run.status == "done" and run.epochs_done() == 20
    data = regression.cars(("weight", "model_year"))
    model = run.model()
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae", "mse"])
    expected = model.evaluate(data.x_test, data.y_test, verbose=0)
    predictions = model.predict(data.x_test, verbose=0).flatten()
    assert [loss, mae, mse] == pytest.approx(expected, abs=6e-5)  # shown with 4 decimals
    assert mae == pytest.approx(mean_absolute_error(data.y_test, predictions), abs=6e-5)
    assert mse == pytest.approx(mean_squared_error(data.y_test, predictions), abs=6e-5)
    assert printed == f"{expected[1]:.2f}"
    code = shown_code(at)
    assert "loss, mae, mse = model.evaluate(normed_test_data, test_labels, verbose=2)" in code
    assert "model.predict(normed_test_data).flatten()" in code
    out = run_snippet(code, tmp_path, timeout=600)
    validation = at.dataframe[-1].value.iloc[0]  # the runs table: the one run, its validation MAE
    assert f"validation MAE: {validation.iloc[5]:.2f} MPG" in out
    assert f"Testing set Mean Abs Error: {float(printed):5.2f} MPG" in out
    numbers = re.search(r"loss ([0-9.]+), mae ([0-9.]+), mse ([0-9.]+)", out).groups()
    assert [float(v) for v in numbers] == pytest.approx([loss, mae, mse], abs=2e-4)


def test_no_input_chosen_is_said_and_nothing_trains():
    at = open_regression()
    at.multiselect(key="regression.inputs").set_value([]).run()
    assert not at.exception
    assert [e.value for e in at.error] == [i18n.translate("regression.error.no_inputs", "en")]
    assert at.button(key="regression.run.start").disabled


BAD_LINKS = {"regression.inputs": ["weight", "colour"], "regression.depth": "9", "regression.width": "7",
             "regression.epochs": "1e309"}


@pytest.mark.parametrize("name,value", [*BAD_LINKS.items(), ("regression.epochs", "nan"),
                                        ("regression.depth", "0"), ("regression.inputs", "")])
def test_a_bad_value_in_a_link_starts_at_the_default_and_is_named(name, value):
    defaults = {"regression.inputs": list(regression.COLUMNS), "regression.depth": len(regression.HIDDEN),
                "regression.width": regression.HIDDEN[0], "regression.epochs": regression.EPOCHS}
    at = open_regression(query={name: value})
    widget = next(w for kind in ("slider", "select_slider", "multiselect") for w in getattr(at, kind)
                  if w.key == name)
    assert widget.value == defaults[name]
    notice = i18n.translate("common.link_ignored", "en", settings="")
    said = [w.value for w in at.warning if w.value.startswith(notice)]
    assert len(said) == 1 and ui.literal(name) + "=" in said[0]


def test_every_control_works_in_both_languages():
    for lang in i18n.LANGUAGES:
        at = open_regression(lang)
        assert exercise_widgets(at, skip=("regression.run.start", "regression.run.stop")) >= 4


def test_the_korean_page_speaks_korean_with_the_house_terms():
    at = open_regression("ko")
    assert at.title[0].value == i18n.translate("regression.title", "ko")
    text = " ".join(m.value for m in at.markdown)
    assert "학습 데이터" in text and "검증 데이터" in text and "테스트 데이터" in text
    assert not any(term in text for term in ("검증 세트", "테스트 세트", "학습 세트", "훈련 데이터"))
    assert "테스트 데이터의 평균 절대 오차" in shown_code(at)
