"""lib.optimizers against each update rule written out in numpy (SGD, momentum, Nesterov, RMSprop,
Adam, Adagrad) on a surface with a known gradient; surfaces, summaries, refusals; the page."""
import math
import re

import numpy as np
import pytest

from lib import i18n, optimizers, snippets
from tests.helpers import exercise_widgets, finish, open_page, run_snippet, shown_code


def ravine(x, y):
    return 0.05 * x * x + 2.0 * y * y


def ravine_gradient(p):
    return np.array([0.1 * p[0], 4.0 * p[1]])


def by_hand(rule, steps, lr, start=(-1.8, 1.2), **o):
    """The update rules as the textbook (and Keras's source) write them, in float64."""
    p, path = np.array(start, float), [np.array(start, float)]
    m, v, acc = np.zeros(2), np.zeros(2), np.full(2, 0.1)  # Keras's Adagrad starts its sum at 0.1
    eps = 1e-7
    for t in range(1, steps + 1):
        g = ravine_gradient(p)
        if rule == "sgd":
            p = p - lr * g
        elif rule in ("momentum", "nesterov"):
            mu = o["momentum"]
            m = mu * m - lr * g
            p = p + (mu * m - lr * g if rule == "nesterov" else m)
        elif rule == "rmsprop":
            rho = o.get("rho", 0.9)
            v = rho * v + (1 - rho) * g * g
            p = p - lr * g / np.sqrt(v + eps)
        elif rule == "adam":
            b1, b2 = o.get("beta_1", 0.9), o.get("beta_2", 0.999)
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            p = p - alpha * m / (np.sqrt(v) + eps)
        elif rule == "adagrad":
            acc = acc + g * g
            p = p - lr * g / np.sqrt(acc + eps)
        path.append(p.copy())
    return np.array(path)


@pytest.mark.parametrize("rule,name,options,lr", [
    ("sgd", "SGD", {}, 0.3),
    ("momentum", "SGD", {"momentum": 0.9}, 0.05),
    ("nesterov", "SGD", {"momentum": 0.9, "nesterov": True}, 0.05),
    ("rmsprop", "RMSprop", {"rho": 0.8}, 0.05),
    ("adam", "Adam", {"beta_1": 0.8, "beta_2": 0.99}, 0.1),
    ("adagrad", "Adagrad", {}, 0.5),
])
def test_each_optimizer_follows_its_update_rule(rule, name, options, lr):
    keras_path = optimizers.trajectory(name, "ravine", learning_rate=lr, steps=60, **options)
    assert keras_path.shape == (61, 2) and keras_path[0].tolist() == pytest.approx([-1.8, 1.2])
    np.testing.assert_allclose(keras_path, by_hand(rule, 60, lr, **options), rtol=2e-4, atol=2e-5)


def test_a_function_surface_needs_a_start_and_matches_the_named_one():
    named = optimizers.trajectory("Adam", "ravine", learning_rate=0.1, steps=20)
    custom = optimizers.trajectory("Adam", ravine, learning_rate=0.1, steps=20, start=(-1.8, 1.2))
    np.testing.assert_allclose(named, custom, atol=1e-6)
    with pytest.raises(optimizers.OptimizerError) as caught:
        optimizers.trajectory("Adam", ravine, learning_rate=0.1, steps=5)
    assert caught.value.code == "needs_start"


def test_walks_do_not_leak_momentum_into_each_other():
    first = optimizers.trajectory("SGD", "bowl", learning_rate=0.05, steps=30, momentum=0.9)
    again = optimizers.trajectory("SGD", "bowl", learning_rate=0.05, steps=30, momentum=0.9)
    np.testing.assert_array_equal(first, again)
    other_rate = optimizers.trajectory("SGD", "bowl", learning_rate=0.01, steps=30, momentum=0.9)
    assert not np.allclose(first, other_rate)


@pytest.mark.parametrize("kwargs,code", [
    (dict(learning_rate=0.0), "bad_learning_rate"), (dict(learning_rate=-1.0), "bad_learning_rate"),
    (dict(learning_rate=float("inf")), "bad_learning_rate"), (dict(learning_rate=1e6), "huge_learning_rate"),
    (dict(learning_rate=0.1, steps=0), "bad_steps"), (dict(learning_rate=0.1, steps=5000), "bad_steps"),
    (dict(learning_rate=0.1, start=(9.0, 0.0)), "start_outside"),
    (dict(learning_rate=0.1, momentum=1.5), "bad_option"),
])
def test_impossible_requests_are_refused_with_a_reason(kwargs, code):
    kwargs.setdefault("steps", 10)
    with pytest.raises(optimizers.OptimizerError) as caught:
        optimizers.trajectory("SGD", "bowl", **kwargs)
    assert caught.value.code == code
    for lang in i18n.LANGUAGES:
        assert "{" not in i18n.translate(f"optimizers.error.{code}", lang, **caught.value.details)


def test_a_learning_rate_too_large_leaves_the_plot_and_the_summary_says_when():
    path = optimizers.trajectory("SGD", "bowl", learning_rate=1.5, steps=50)
    result = optimizers.summary(path, "bowl")
    assert result.left_at is not None and 1 <= result.left_at < 10 and math.isnan(result.final_loss)
    good = optimizers.summary(optimizers.trajectory("SGD", "bowl", learning_rate=0.1, steps=100), "bowl")
    assert good.left_at is None and good.distance < 1e-6 and good.final_loss < 1e-12


def test_every_surface_has_its_minima_where_the_function_is_lowest():
    for surface in optimizers.SURFACES.values():
        xs, ys, z = optimizers.landscape(surface, 201)
        assert z.shape == (201, 201) and surface.contains(surface.start)
        for m in surface.minima:
            assert surface(*m) == pytest.approx(0.0, abs=1e-6)
        if surface.minima:
            assert z.min() >= -1e-9
    assert optimizers.SURFACES["saddle"](0.0, 1.0) < 0 < optimizers.SURFACES["saddle"](1.0, 0.0)


# --- The page ---------------------------------------------------------------------------------

def test_the_page_draws_the_race_and_its_code_prints_the_table(tmp_path):
    at = open_page("pages/optimizers.py")
    assert not at.exception and len(at.get("plotly_chart")) >= 2
    table = at.dataframe[0].value
    out = run_snippet(shown_code(at), tmp_path)
    for _, row in table.iterrows():
        if isinstance(row.iloc[1], float) and not math.isnan(row.iloc[1]):
            printed = re.search(rf"{re.escape(row.iloc[0])}: loss ([-0-9.e+]+),", out).group(1)
            assert float(printed) == pytest.approx(row.iloc[1], rel=1e-3, abs=1e-6)


def test_every_control_works_in_both_languages():
    for lang in i18n.LANGUAGES:
        at = open_page("pages/optimizers.py", lang, query={"data_epochs": "2"})
        assert exercise_widgets(at, skip=("race",)) >= 8


def test_a_start_outside_the_plot_and_an_enormous_rate_are_explained():
    at = open_page("pages/optimizers.py", "ko", query={"start_x": "9.0"})
    assert any("9" in e.value for e in at.error) and not at.exception
    at = open_page("pages/optimizers.py", query={"lr": "10.0"})
    assert not at.exception
    assert any("left" in w.value or "diverged" in w.value.lower() for w in at.warning)


def test_the_data_race_trains_every_optimizer_from_the_same_start():
    at = open_page("pages/optimizers.py", query={"data_epochs": "3"})
    at.button(key="race").click().run(timeout=180)
    assert not at.exception
    run = at.session_state["optimizer_race"]["run"]
    assert run.status == "done" and len(run.result["test"]) == 6
    assert [len(run.history(k)["loss"]) for k in range(6)] == [3] * 6
    assert any("test accuracy" in c.value for c in at.caption)


def test_the_race_code_prints_the_numbers_of_the_race(runner, tmp_path):
    racers = [("Adam", {}), ("SGD", {"momentum": 0.9})]
    run = finish(runner.submit(optimizers.data_race_job(racers, learning_rate=0.01, epochs=2)))
    code = snippets.optimizer_race_snippet(racers, 0.01, 2, "en")
    assert "keras.optimizers.SGD(learning_rate=0.01, momentum=0.9)" in code
    out = run_snippet(code, tmp_path)
    for k, (name, _) in enumerate(racers):
        printed = re.search(rf"{name}: validation accuracy ([0-9.]+), test accuracy ([0-9.]+)", out).groups()
        assert float(printed[0]) == round(run.history(k)["val_accuracy"][-1], 3)
        assert float(printed[1]) == round(run.result["test"][k]["accuracy"], 3)
