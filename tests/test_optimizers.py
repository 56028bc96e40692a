"""lib.optimizers against each update rule written out in numpy (SGD, momentum, Nesterov, RMSprop,
Adam, Adagrad) on a surface with a known gradient; surfaces, summaries, refusals; the page."""
import io
import json
import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from lib import i18n, kept, optimizers, plots, snippets, ui
from tests.helpers import ROOT, exercise_widgets, finish, open_page, run_snippet, settle, shown_code


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


def test_the_facts_for_the_tasks_say_who_left_first_and_how_close_any_came():
    Summary = optimizers.Summary
    results = {"SGD": Summary(math.nan, math.nan, 7), "Nesterov": Summary(math.nan, math.nan, 2),
               "Adam": Summary(0.5, 0.25, None), "Adagrad": Summary(0.1, 0.125, None)}
    assert optimizers.race_facts(results) == {"off_map": 2, "first_off": "Nesterov", "closest": 0.125,
                                              "sgd_distance": None, "ended": {"Adam": 0.25, "Adagrad": 0.125}}
    calm = {"SGD": Summary(0.0, 0.001, None), "Saddle": Summary(-3.0, math.nan, None)}
    assert optimizers.race_facts(calm) == {"off_map": 0, "first_off": None, "closest": 0.001,
                                           "sgd_distance": 0.001, "ended": {"SGD": 0.001}}
    assert optimizers.race_facts({}) == {"off_map": 0, "first_off": None, "closest": None,
                                         "sgd_distance": None, "ended": {}}


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
    at = open_page("lessons/optimizers.py")
    assert not at.exception and len(at.get("plotly_chart")) == 1  # the race on the digits; the surface's are pictures
    race, *trio = [image.proto.imgs[0].url for image in at.get("image")]
    assert race.endswith(".png") and len(trio) == 3
    at.button(key="optimizers.play").click().run()  # Play: the race as a GIF, drawn now
    assert not at.exception and at.get("image")[0].proto.imgs[0].url.endswith(".gif")
    table = at.table[0].value
    out = run_snippet(shown_code(at), tmp_path)
    for _, row in table.iterrows():
        if isinstance(row.iloc[1], float) and not math.isnan(row.iloc[1]):
            printed = re.search(rf"{re.escape(row.iloc[0])}: loss ([-0-9.e+]+),", out).group(1)
            assert float(printed) == pytest.approx(row.iloc[1], rel=1e-3, abs=1e-6)


def test_every_control_works_in_both_languages():
    for lang in i18n.LANGUAGES:
        at = open_page("lessons/optimizers.py", lang, query={"optimizers.data_epochs": "2"})
        assert exercise_widgets(at, skip=("optimizers.race_run.start",)) >= 8


def test_a_start_outside_the_plot_starts_where_the_surface_does_and_an_enormous_rate_is_explained():
    at = open_page("lessons/optimizers.py", "ko", query={"optimizers.start_x": "9.0"})
    notice = i18n.translate("common.link_ignored", "ko", settings=ui.literal("optimizers.start_x=9.0"))
    assert not at.exception and [w.value for w in at.warning if w.value == notice]
    start, surface = at.number_input(key="optimizers.start_x"), optimizers.SURFACES[at.selectbox(key="optimizers.surface").value]
    assert start.value == surface.start[0] and start.max == surface.x_range[1] < 9.0
    at = open_page("lessons/optimizers.py", query={"optimizers.lr": "10.0"})
    assert not at.exception
    left = i18n.translate("optimizers.left_plot", "en", names="")  # the racers' names, then this
    assert any(w.value.endswith(left) and len(w.value) > len(left) for w in at.warning), [w.value for w in at.warning]


def test_the_data_race_trains_every_optimizer_from_the_same_start():
    at = open_page("lessons/optimizers.py", query={"optimizers.data_epochs": "3"})
    at.button(key="optimizers.race_run.start").click().run()
    settle(at)
    entry = at.session_state["optimizers.race_run.runs"][-1]
    run, labels = entry.run, entry.meta["labels"]
    assert run.status == "done" and len(run.result.test) == 6
    assert [run.epochs_done(k) for k in range(6)] == [3] * 6
    # the winner is named by validation, and only its test score is said
    finals = [run.history(k)["val_accuracy"][-1] if run.outcome(k) != "diverged" else -1 for k in range(6)]
    best = finals.index(max(finals))
    said = [c.value for c in at.caption if "test accuracy" in c.value]
    assert said == [i18n.translate("optimizers.race_result", "en", name=labels[best], validation=f"{finals[best]:.3f}",
                                   accuracy=f"{run.test_scores(best)['accuracy']:.3f}")]
    assert "Best on validation" in said[0]
    others = {f"{run.test_scores(k)['accuracy']:.3f}" for k in range(6)} - {f"{run.test_scores(best)['accuracy']:.3f}"}
    assert not any(f"**{number}**" in said[0] for number in others)


def test_the_race_code_prints_the_numbers_of_the_race(runner, tmp_path):
    racers = [("Adam", {}), ("SGD", {"momentum": 0.9})]
    job = optimizers.data_race_job(racers, learning_rate=0.01, epochs=2)
    run = finish(runner.submit(job))
    code = snippets.optimizer_race_snippet(job, "en", ["Adam", "SGD + momentum"])
    assert '"SGD + momentum": keras.optimizers.SGD(learning_rate=LEARNING_RATE, momentum=0.9)' in code
    assert "BATCH_SIZE = 32" in code and code.count(".evaluate(x_test") == 1  # the test, once
    out = run_snippet(code, tmp_path)
    for k, name in enumerate(["Adam", "SGD + momentum"]):
        printed = re.search(rf"{re.escape(name)}: validation accuracy ([0-9.]+)\n", out).group(1)
        assert float(printed) == round(run.history(k)["val_accuracy"][-1], 3)
    best = optimizers.race_winner(run)  # chosen on validation; the code's max() chooses the same
    winner = ["Adam", "SGD + momentum"][best]
    assert f"best on validation: {winner}, test accuracy {run.test_scores(best)['accuracy']:.3f}\n" in out
    assert out.count("test accuracy") == 1


def test_on_real_data_a_racer_that_diverges_is_marked_and_the_others_finish(runner, tmp_path):
    """At learning rate 3 on the digits RMSprop's loss explodes in the first epoch; plain SGD's does not."""
    job = optimizers.data_race_job([("SGD", {}), ("RMSprop", {})], learning_rate=3.0, epochs=4)
    run = finish(runner.submit(job))
    assert [run.outcome(k) for k in (0, 1)] == ["done", "diverged"] and run.status == "done"
    assert run.epochs_done(0) == 4 and run.epochs_done(1) == 1
    out = run_snippet(snippets.optimizer_race_snippet(job, "en"), tmp_path)
    assert "RMSprop: diverged at epoch 1" in out
    assert f"SGD: validation accuracy {run.history(0)['val_accuracy'][-1]:.3f}" in out
    assert optimizers.race_winner(run) == 0  # a racer that diverged is never chosen
    assert f"best on validation: SGD, test accuracy {run.test_scores(0)['accuracy']:.3f}" in out


def test_a_path_bouncing_between_two_points_is_called_oscillating():
    """SGD at learning rate 1 on x² + y²: each step is x − 2x = −x, so it hops between (x, y) and
    (−x, −y) forever; at 0.1 it reaches the bottom; at 0.95 it zig-zags inwards, still on its way."""
    def ended(lr, steps=200):
        return optimizers.summary(optimizers.trajectory("SGD", "bowl", learning_rate=lr, steps=steps), "bowl").outcome

    assert ended(1.0) == "oscillating" and ended(0.1) == "reached" and ended(0.95, steps=50) == "on_its_way"
    assert ended(3.0) == "left"
    path = optimizers.trajectory("SGD", "bowl", learning_rate=1.0, steps=4)
    np.testing.assert_allclose(path[1], -path[0], atol=1e-6)
    at = open_page("lessons/optimizers.py", query={"optimizers.surface": "bowl", "optimizers.lr": "0.1",
                                                 "optimizers.trio": "sgd"})
    trio = shown_trio(at)
    assert any("lr = 1 —" in label and i18n.translate("optimizers.outcome.oscillating", "en") in label for label in trio)


def shown_trio(at):
    """The captions of the learning-rate trio's three pictures."""
    return [image.caption for element in at.get("image") for image in element.proto.imgs if " · lr = " in image.caption]


def test_the_trio_is_three_pictures_of_its_paths_with_the_minimum_starred_and_a_flight_crossed():
    """Each picture: the landscape, the path drawn in its colour from the start to where it ended
    (or left the map: a red ✕ there), the minimum a yellow star."""
    from PIL import Image

    surface = optimizers.SURFACES["bowl"]
    background = plots.landscape_rgb(optimizers.landscape("bowl", 400), pixels=200)
    paths = [optimizers.trajectory("SGD", "bowl", learning_rate=0.1, steps=60),
             optimizers.trajectory("SGD", "bowl", learning_rate=1.1, steps=60, start=(0.3, 0.2))]  # ×-1.2 a step
    pictures, labels = plots.trio_pictures(surface, background, [("slow", paths[0], "#16a34a"),
                                                                ("away", paths[1], "#2563eb")])
    assert labels == ["slow", "away"]
    reached, flew = (np.asarray(Image.open(io.BytesIO(p)).convert("RGB")).astype(int) for p in pictures)
    assert reached.shape == flew.shape == (200, 200, 3)

    def pixel(x, y):  # a point of the bowl ((-2, 2) both ways) -> (row, column) of a 200-px picture
        return round((2 - y) / 4 * 199), round((x + 2) / 4 * 199)

    assert tuple(reached[pixel(*paths[0][0])]) == (0x16, 0xa3, 0x4a)  # each path from its start
    assert tuple(flew[pixel(*paths[1][0])]) == (0x25, 0x63, 0xeb)
    assert tuple(reached[pixel(0, 0)]) == (0xfa, 0xcc, 0x15)  # the star over where the path ended
    inside = paths[1][np.abs(paths[1]).max(axis=1) <= 2]  # the steps before it left the map
    assert 5 < len(inside) < 61
    row, col = pixel(*inside[-1])
    assert any(tuple(flew[r, c]) == (0xdc, 0x26, 0x26) for r in range(row - 3, row + 4) for c in range(col - 3, col + 4))
    assert not (reached == (0xdc, 0x26, 0x26)).all(axis=-1).any()  # no ✕ where the path stayed


def decoded(value):
    """A figure's dict with Plotly's base64 arrays (a checked figure sends its arrays so) as lists."""
    if isinstance(value, dict) and "bdata" in value:
        import base64
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    if isinstance(value, dict):
        return {k: decoded(v) for k, v in value.items()}
    return [decoded(v) for v in value] if isinstance(value, (list, tuple)) else value


def _pixel(picture, x, y):
    """The RGB of a landscape picture (an RGB array) at fractions (x, y) of its width and height
    from the top-left corner."""
    height, width = picture.shape[:2]
    return np.asarray(picture[round(y * (height - 1)), round(x * (width - 1))], dtype=int)


def test_the_landscape_picture_is_low_where_the_surface_is_low_and_the_right_way_up():
    """The saddle x² − y² is lowest at the top and bottom edges (|y| = 2) and highest at the left and
    right (|x| = 2): the picture's valley blue (#bfdbfe) must be there, not mirrored; the heights
    white; and a line between bands crosses the middle row once per band it climbs."""
    from lib import plots

    saddle = optimizers.SURFACES["saddle"]
    picture = plots.landscape_rgb(optimizers.landscape(saddle, 400), saddle.log_levels, pixels=200)
    assert picture.shape == (200, 200, 3) and picture.dtype == np.uint8
    valley, heights = np.array([0xbf, 0xdb, 0xfe]), np.array([0xff, 0xff, 0xff])
    for x, y, shade in ((0.5, 0.01, valley), (0.5, 0.99, valley), (0.01, 0.5, heights), (0.99, 0.5, heights)):
        assert np.abs(_pixel(picture, x, y) - shade).max() <= 12, (x, y, _pixel(picture, x, y))
    brightness = np.array([_pixel(picture, k / 199, 0.5).sum() for k in range(200)])  # y = 0: z = x²
    nearby = np.array([brightness[max(k - 3, 0):k + 4].max() for k in range(200)])
    on_a_line = (nearby - brightness >= 40).astype(int)  # a line (half a pixel wide, or more) darkens its pixel
    # 24 bands over z in [-4, 4]: from x = 0 (z = 0) to x = ±2 (z = 4) each side climbs 12 bands, 11 lines;
    # the middle is where the saddle's two zero lines cross.
    assert int((np.diff(on_a_line) == 1).sum()) == 2 * 11 + 1
    # Up is up: Rosenbrock's valley floor y = x² passes (0, 0) (z = 1), while (0, 2), straight above
    # it, is 401 high; mirrored, the two would swap. (x in -2 .. 2, y in -1 .. 3, from the top-left.)
    rosenbrock = optimizers.SURFACES["rosenbrock"]
    picture = plots.landscape_rgb(optimizers.landscape(rosenbrock, 400), rosenbrock.log_levels, pixels=200)
    width = 199  # the picture's last pixel; a band's own shade is the brightest near a point (lines are dark)
    floor, above = (max(_pixel(picture, 0.5 + dx / width, y + dy / width).sum()
                        for dx in range(-3, 4) for dy in range(-3, 4)) for y in (3 / 4, 1 / 4))
    assert floor <= above - 20, (floor, above)  # 729 against 758 (mirrored: 758 against 729)


def _frames(data):
    """Every frame of a picture (PNG or GIF bytes) as an RGB array, as a browser shows it."""
    import io

    from PIL import Image, ImageSequence

    frames = ImageSequence.Iterator(Image.open(io.BytesIO(data)))
    return [np.asarray(frame.convert("RGB"), dtype=int) for frame in frames]


def _rgb(color):
    return np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)])


def test_the_race_is_drawn_where_the_paths_go_and_play_steps_each_ball_along_its_own_path():
    """The race's picture: the map inside white margins, each path in its colour from the start's ring,
    its ball where it ended, a red ✕ where one left the map, the minimum starred. Play is a GIF that
    plays once: frame by frame each ball at its own path's point at that step (FRAMES steps from the
    first to the longest path's last), all at the same step, ending on the picture itself."""
    from lib import plots
    from lib.plots import optimizers as drawn

    name = "ravine"
    surface = optimizers.SURFACES[name]
    paths = [(label, optimizers.trajectory(label, name, learning_rate=rate, steps=60, start=(-1.8, 1.2)))
             for label, rate in (("SGD", 0.3), ("Adam", 0.1), ("SGD", 0.55))]
    backdrop = plots.race_backdrop(plots.landscape_rgb(optimizers.landscape(name, 200), pixels=120), surface)
    left, top, right, bottom = drawn.MARGIN
    assert (backdrop.width, backdrop.height) == (left + 120 + right, top + 120 + bottom)

    def pixel(x, y):  # a point of the ravine (-2..2 both ways) -> (row, column) of the picture
        return round(top + (2 - y) / 4 * 119), round(left + (x + 2) / 4 * 119)

    [picture] = _frames(plots.race_picture(surface, backdrop, paths))
    margins = np.concatenate([picture[:top].reshape(-1, 3), picture[:, -right:].reshape(-1, 3)])
    assert {tuple(c) for c in np.unique(margins, axis=0)} == {(255, 255, 255), (0x0f, 0x17, 0x2a)}  # white; the numbers
    inside = [p[:int(np.argmin(np.abs(p).max(axis=1) <= 2))] if (np.abs(p).max(axis=1) > 2).any() else p
              for _, p in paths]  # each path up to where it left the map
    assert len(inside[0]) == len(inside[1]) == 61 and 1 < len(inside[2]) < 61  # SGD at 0.55 left (y times -1.2 a step)

    def balls_at(frame, balls):  # each ball in its colour where it is, unless one drawn after it covers it
        for k, ball in enumerate(balls):
            if not [j for j in range(k + 1, 3) if np.abs(np.subtract(pixel(*balls[j]), pixel(*ball))).max() <= 8]:
                assert (frame[pixel(*ball)] == _rgb(plots.category_color(k))).all(), (k, ball)
        return True

    assert balls_at(picture, [points[-1] for points in inside])  # each where it ended
    row, col = pixel(*inside[2][-1])  # the one that left: a red ✕ over its last point inside
    assert (np.abs(picture[row - 7:row + 8, col - 7:col + 8] - _rgb("#dc2626")).sum(axis=2) == 0).sum() > 20
    row, col = pixel(0, 0)  # the minimum: a star (under a ball that reached it)
    assert (np.abs(picture[row - 11:row + 12, col - 11:col + 12] - _rgb("#facc15")).sum(axis=2) == 0).sum() > 20

    frames = _frames(plots.race_animation(surface, backdrop, paths, tag=1))
    steps = sorted(set(np.linspace(0, 60, drawn.FRAMES).astype(int)))
    assert len(frames) == len(steps) == drawn.FRAMES
    for frame, step in zip(frames, steps):
        assert balls_at(frame, [points[min(step, len(points) - 1)] for points in inside]), step
    assert (frames[-1] == picture).all()  # Play stops on the picture
    again = plots.race_animation(surface, backdrop, paths, tag=2)
    assert again != plots.race_animation(surface, backdrop, paths, tag=1)  # a new file: the browser plays it anew
    assert all((a == b).all() for a, b in zip(_frames(again), frames))


def test_the_race_legend_names_each_racer_in_its_paths_colour():
    from lib import plots

    legend = plots.race_legend(["SGD", "Adam <b>", "RMSprop ✕"], "ko")
    for k, label in enumerate(["SGD", "Adam &lt;b&gt;", "RMSprop ✕"]):
        assert f"background:{plots.category_color(k)}\"></span>{label}</span>" in legend
    assert "최소점" in legend and "시작점" in legend and "<b>" not in legend

def test_a_walk_asked_again_is_the_same_read_only_path():
    """A class moving one slider asks for the same walks: the server walks once and every page reads
    that path, which none can change under another's feet."""
    first = optimizers.trajectory("Adam", "himmelblau", learning_rate=0.05, steps=37, start=(0.5, -0.5))
    again = optimizers.trajectory("Adam", "himmelblau", learning_rate=0.05, steps=37, start=(0.5, -0.5))
    assert np.shares_memory(again, first) and first.shape == (38, 2)  # one walk, read twice
    shorter = optimizers.trajectory("Adam", "himmelblau", learning_rate=0.05, steps=20, start=(0.5, -0.5))
    assert np.shares_memory(shorter, first) and shorter.shape == (21, 2)  # its start
    with pytest.raises(ValueError, match="read-only"):
        first[0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        shorter[0, 0] = 1.0
    other = optimizers.trajectory("Adam", "himmelblau", learning_rate=0.05, steps=37, start=(0.5, -0.4))
    assert other is not first and not np.allclose(other[0], first[0])


def test_the_warm_up_walks_exactly_the_pages_first_view(monkeypatch):
    """lib.server runs optimizers.warm_up once Keras is imported, so the first student to open the
    page finds its walks compiled and made: the page's first view (its default racers, settings,
    steps and surface, and the trio) must then need no walk the warm-up did not make."""
    at = open_page("lessons/optimizers.py").run()
    assert list(at.multiselect(key="optimizers.racers").value) == list(optimizers.DEFAULT_RACERS)
    assert {name: at.select_slider(key=f"optimizers.{name}").value for name in optimizers.DEFAULT_SETTINGS} \
        == optimizers.DEFAULT_SETTINGS
    assert at.slider(key="optimizers.steps").value == optimizers.DEFAULT_STEPS
    optimizers.forget_walks()
    optimizers.warm_up()
    assert optimizers.walks_kept() == len(optimizers.DEFAULT_RACERS) + 2
    walked = _count_walks(monkeypatch)
    open_page("lessons/optimizers.py").run()
    assert walked == []  # every walk of the view was there


def _count_walks(monkeypatch):
    """The walks Keras makes from now on: (optimizer, learning rate, steps) each."""
    walked, real = [], optimizers._Walker.__call__

    def counted(self, start, learning_rate, steps):
        walked.append((self.optimizer.name, learning_rate, steps))
        return real(self, start, learning_rate, steps)
    monkeypatch.setattr(optimizers._Walker, "__call__", counted)
    return walked


def test_after_the_walk_around_the_first_views_rates_and_steps_need_no_new_walk(monkeypatch):
    """optimizers.walk_around walks the first view at every rate of the slider for MAX_STEPS: a
    nudge of the rate (any of them) or of the steps then finds every racer's and the trio's walk made."""
    at = open_page("lessons/optimizers.py").run()
    optimizers.forget_walks()
    optimizers.walk_around()
    walked = _count_walks(monkeypatch)
    at.select_slider(key="optimizers.lr").set_value(optimizers.LEARNING_RATES[-1]).run()
    at.slider(key="optimizers.steps").set_value(370).run()
    at.select_slider(key="optimizers.lr").set_value(optimizers.LEARNING_RATES[0]).run()
    assert not at.exception and walked == []
    at.slider(key="optimizers.steps").set_value(optimizers.MAX_STEPS).run()
    assert walked == []  # a walk of all MAX_STEPS is one of them too


def test_a_walk_of_fewer_steps_is_the_start_of_a_longer_one_exactly():
    """What lets the longest walk serve every shorter one (optimizers._named_walk), checked on walks
    made afresh: the same numbers, bit for bit, for every racer of the page, a diverging one too."""
    for name, options in [optimizers.racer(key, optimizers.DEFAULT_SETTINGS) for key in optimizers.RACERS]:
        walker = optimizers._walker(name, tuple(sorted(options.items())), "rosenbrock")
        for rate in (0.001, 0.3):
            long, short = walker((-1.5, 2.0), rate, 300), walker((-1.5, 2.0), rate, 37)
            np.testing.assert_array_equal(short, long[:38], err_msg=f"{name} at {rate}")


FIRST_VIEW_WITHOUT_KERAS = """
import json, sys
from lib import optimizers, server
server.prepare = lambda: None  # (the server's warm-up would import Keras beside the page)
from tests.helpers import open_page
at = open_page("lessons/optimizers.py")
walks = {f"{name} {rate}": optimizers.trajectory(name, optimizers._FIRST.name, learning_rate=rate,
                                               steps=optimizers.DEFAULT_STEPS, **options).tolist()
         for (name, options), rate in optimizers._first_view()}
print(json.dumps({"walks": walks, "tensorflow": "tensorflow" in sys.modules, "exceptions": len(at.exception),
                  "pictures": len(at.get("image"))}))
"""


def test_a_server_started_again_reads_the_walks_back_and_draws_the_first_view_without_tensorflow(tmp_path,
                                                                                                 monkeypatch):
    """The walks one server made are kept on this computer (optimizers.keep_walks, from its head
    starts): the next server reads them back, so a class link to the Optimizers page on a fresh
    server draws the race, the trio and the code without waiting for TensorFlow's import — and
    the paths are the ones Keras walks, bit for bit."""
    monkeypatch.setenv("KERAS_CLASSROOM_DATA", str(tmp_path))
    optimizers.forget_walks()
    optimizers.warm_up()  # the first server's head start: walks the first view and keeps it
    assert os.path.exists(optimizers.kept_walks_path())
    assert not optimizers.keep_walks()  # nothing walked since: nothing written again
    walked = {f"{name} {rate}": optimizers.trajectory(name, optimizers._FIRST.name, learning_rate=rate,
                                                      steps=optimizers.DEFAULT_STEPS, **options).tolist()
              for (name, options), rate in optimizers._first_view()}
    result = subprocess.run([sys.executable, "-c", FIRST_VIEW_WITHOUT_KERAS], cwd=ROOT, capture_output=True,
                            text=True, timeout=240, env=dict(os.environ, KERAS_CLASSROOM_DATA=str(tmp_path)))
    assert result.returncode == 0, result.stderr[-3000:]
    server_again = json.loads(result.stdout.strip().splitlines()[-1])
    assert server_again["tensorflow"] is False, "the page waited for TensorFlow"
    assert server_again["exceptions"] == 0 and server_again["pictures"] == 4  # the race, and the trio's three
    assert server_again["walks"] == walked  # JSON writes a float64 exactly


def test_a_kept_file_of_walks_this_module_could_not_have_written_is_not_read(tmp_path, monkeypatch, caplog):
    """The kept file is the server's own, but it is read as a stranger's: a walk it could not have
    walked, a path of another shape or from elsewhere, a pickle, a file others may write — then
    nothing is read, and the page walks anew."""
    monkeypatch.setenv("KERAS_CLASSROOM_DATA", str(tmp_path))
    optimizers.forget_walks()
    optimizers.trajectory("SGD", "bowl", learning_rate=0.1, steps=20)
    assert optimizers.keep_walks()
    path = optimizers.kept_walks_path()
    (key, walk), = optimizers.read_kept_walks(path).items()
    assert key == ("SGD", (), "bowl", optimizers.SURFACES["bowl"].start, 0.1) and walk.shape == (21, 2)
    entry = [key[0], [], key[2], list(key[3]), key[4]]

    def rewrite(entries, *walks):
        assert kept.write_arrays(path, entries, walks)

    for case, keys, walks in [("an unknown optimizer", [["Sophia", *entry[1:]]], [walk]),
                              ("a start outside the surface", [[*entry[:3], [9.0, 9.0], entry[4]]], [walk]),
                              ("a start in three numbers", [[*entry[:3], [*entry[3], 0.0], entry[4]]], [walk]),
                              ("a huge rate", [[*entry[:4], 1e6]], [walk]),
                              ("a path of another shape", [entry], [walk[:, :1]]),
                              ("a path from elsewhere", [entry], [walk + 0.5]),
                              ("a path without its walk", [entry], [walk, walk]),
                              ("a pickle", [entry], [np.array([{"x": 1}], dtype=object)])]:
        rewrite(keys, *walks)
        assert optimizers.read_kept_walks(path) == {}, case
    assert "could not be read" in caplog.text and "Sophia" in caplog.text
    rewrite([entry], walk)
    assert len(optimizers.read_kept_walks(path)) == 1  # whole again
    os.chmod(path, 0o666)
    assert optimizers.read_kept_walks(path) == {}  # anyone may write it
