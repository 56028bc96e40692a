"""lib.evaluate against references written here: counting by np.add.at, sorting by hand, Keras
sub-models for every layer's output, the Dense arithmetic in numpy, model.evaluate itself for the
scores, and drawings made with PIL for the canvas preprocessing."""
import io
import json
import re

import keras
import numpy as np
import pytest
from PIL import Image, ImageDraw

from lib import activations, data, evaluate, i18n, models

# --- Confusion matrix, per-class accuracy, confident mistakes ---------------------------------


@pytest.mark.parametrize("classes,n", [(2, 50), (3, 7), (10, 360)])
def test_the_confusion_matrix_counts_each_answer_key_and_prediction_pair(classes, n):
    rng = np.random.default_rng(classes)
    y_true, y_pred = rng.integers(0, classes, n), rng.integers(0, classes, n)
    expected = np.zeros((classes, classes), dtype=int)
    np.add.at(expected, (y_true, y_pred), 1)
    got = evaluate.confusion_matrix(y_true, y_pred, classes)
    np.testing.assert_array_equal(got, expected)
    assert got.sum() == n and np.issubdtype(got.dtype, np.integer)


def test_rows_are_the_answer_key_and_columns_the_prediction():
    # Three 7s read as 1, one 1 read as 7: the 3 sits in row 7, column 1.
    matrix = evaluate.confusion_matrix([7, 7, 7, 1, 1], [1, 1, 1, 7, 1], 10)
    assert matrix[7, 1] == 3 and matrix[1, 7] == 1 and matrix[1, 1] == 1 and matrix.sum() == 5


def test_the_confusion_matrix_refuses_labels_outside_the_classes():
    with pytest.raises(ValueError):
        evaluate.confusion_matrix([0, 3], [0, 1], 3)
    with pytest.raises(ValueError):
        evaluate.confusion_matrix([0, 1], [0], 3)


def test_per_class_accuracy_is_the_diagonal_over_each_row():
    matrix = np.array([[5, 1, 0], [2, 6, 2], [0, 0, 0]])
    got = evaluate.per_class_accuracy(matrix)
    np.testing.assert_allclose(got[:2], [5 / 6, 6 / 10])
    assert np.isnan(got[2])  # no example of class 2: no accuracy, rather than a misleading 0


def _probabilities(n, classes, seed):
    logits = np.random.default_rng(seed).normal(0, 2, (n, classes))
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype("float32")


@pytest.mark.parametrize("k", [0, 1, 5, 1000])
def test_confident_mistakes_are_the_surest_wrong_answers_first(k):
    p = _probabilities(200, 10, 0)
    y = np.random.default_rng(1).integers(0, 10, 200)
    wrong = [i for i in range(200) if p[i].argmax() != y[i]]
    expected = sorted(wrong, key=lambda i: (-p[i].max(), i))[:k]
    assert evaluate.confident_mistakes(p, y, k).tolist() == expected


def test_equal_confidences_keep_the_data_order_and_right_answers_never_count():
    p = np.array([[0.1, 0.9], [0.9, 0.1], [0.2, 0.8], [0.1, 0.9], [0.6, 0.4]], dtype="float32")
    y = np.array([0, 0, 0, 0, 1])  # 1 is right; 0 and 3 tie at 0.9
    assert evaluate.confident_mistakes(p, y, 10).tolist() == [0, 3, 2, 4]
    assert evaluate.confident_mistakes(p[1:2], y[1:2], 3).tolist() == []


# --- Scores: what model.evaluate reports --------------------------------------------------------


@pytest.fixture(scope="module")
def digits_mlp():
    """A small untrained MLP on the digits and its predictions on the mock exam (test set)."""
    model = models.build_sequential([{"type": "Dense", "units": 16, "activation": "relu"},
                                     {"type": "Dense", "units": 10, "activation": "softmax"}], (64,),
                                    seed=3, name="scores_mlp")
    digits = data.load_dataset("digits")
    x = digits.x_test.reshape(-1, 64)
    return model, x, digits.y_test, np.asarray(model(x, training=False))


def test_the_tasks_read_the_surest_mistakes_band_and_the_followed_image():
    probabilities = np.array([[0.9, 0.1, 0.0], [0.02, 0.97, 0.01], [0.3, 0.3, 0.4], [0.001, 0.0, 0.999]])
    labels = np.array([0, 0, 2, 0])
    report = evaluate.Report(probabilities, labels, None, evaluate.confusion_matrix(labels, probabilities.argmax(1), 3))
    facts = evaluate.task_facts(report, 3)
    assert facts["surest_mistake"] == "over_99"  # image 3: 0.999 sure of 2, the answer key says 0
    assert (facts["image_label"], facts["image_answer"], facts["image_confidence"]) == (0, 2, 0.999)
    assert facts["image_loss"] == pytest.approx(-np.log(0.001), rel=1e-4)
    assert evaluate.task_facts(report)["surest_mistake"] == "over_99" and "image_label" not in evaluate.task_facts(report)
    assert facts["costliest_image"] == 3  # the right class's probabilities: 0.9, 0.02, 0.4, 0.001
    report = evaluate.Report(probabilities[:3], labels[:3], None, report.matrix)
    assert evaluate.task_facts(report)["surest_mistake"] == "90_99"  # image 1: 0.97
    right_only = evaluate.Report(probabilities[2:3], labels[2:3], None, report.matrix)
    assert evaluate.task_facts(right_only) == {"costliest_image": 0}  # no mistake: no band, its one image


def test_scores_are_what_model_evaluate_reports_on_one_hot_answers(digits_mlp):
    model, x, y, p = digits_mlp
    got = evaluate.scores(p, y)
    one_hot = np.eye(10)[y]
    assert got.loss == pytest.approx(np.mean(-np.log(p[np.arange(len(y)), y])), rel=1e-5)
    assert got.accuracy == pytest.approx(np.mean(p.argmax(axis=1) == y))
    assert got.mae == pytest.approx(np.mean(np.abs(p - one_hot)), rel=1e-5)
    assert got.mse == pytest.approx(np.mean((p - one_hot) ** 2), rel=1e-5)
    model.compile(loss="categorical_crossentropy", metrics=["accuracy", "mae", "mse"])
    reported = model.evaluate(x, one_hot, batch_size=32, verbose=0)
    np.testing.assert_allclose([got.loss, got.accuracy, got.mae, got.mse], reported, rtol=1e-5)


def test_the_loss_is_model_evaluates_even_below_the_clip_of_keras_losses():
    """model.evaluate reads the logits behind a softmax, so a p(true class) below 1e-7 is not
    clipped to it (keras.losses on bare probabilities would say 16.12 for it)."""
    model = models.build_sequential([{"type": "Dense", "units": 10, "activation": "softmax"}], (2,), seed=0,
                                    name="surely_wrong")
    kernel = np.zeros((2, 10), "float32")
    kernel[0, 0] = 30.0  # the first input: class 0 by a logit gap of 30, so p(3) = 1 / (e^30 + 9)
    model.set_weights([kernel, np.zeros(10, "float32")])
    x, y = np.array([[1, 0], [0, 1]], "float32"), np.array([3, 3])
    z = x @ kernel
    by_hand = -(z - np.log(np.exp(z).sum(axis=1, keepdims=True)))[np.arange(2), y].mean()  # log-softmax
    got = evaluate.report(model, x, y).scores.loss
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    reported, _ = model.evaluate(x, y, verbose=0)
    assert got == pytest.approx(by_hand, rel=1e-5) and got == pytest.approx(reported, rel=1e-5)
    assert got > 16  # (30 + ln 10) / 2, not (16.12 + ln 10) / 2


def test_a_models_l2_penalty_is_in_the_loss_as_model_evaluate_reports_it():
    import keras

    from lib import data

    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Flatten()(keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs))
    outputs = keras.layers.Dense(10, activation="softmax", kernel_regularizer=keras.regularizers.L2(0.05))(x)
    model = keras.Model(inputs, outputs)  # a Functional model with an L2, as a student may upload
    d = data.load_dataset("digits")
    got = evaluate.report(model, d.x_test, d.y_test).scores
    model.compile(loss="categorical_crossentropy", metrics=["accuracy", "mae", "mse"])
    reported = model.evaluate(d.x_test.reshape(-1, 8, 8, 1), np.eye(10)[d.y_test], batch_size=32, verbose=0)
    np.testing.assert_allclose([got.loss, got.accuracy, got.mae, got.mse], reported, rtol=1e-5)
    penalty = 0.05 * sum(float(np.sum(w ** 2)) for w in [model.layers[-1].get_weights()[0]])
    assert penalty > 0.01 and got.loss == pytest.approx(evaluate.scores(
        evaluate.report(model, d.x_test, d.y_test).probabilities, d.y_test).loss + penalty, rel=1e-5)


def test_with_integer_labels_keras_broadcasts_the_label_against_every_probability(digits_mlp):
    model, x, y, p = digits_mlp
    mae, mse = evaluate.broadcast_errors(p, y)
    assert mae == pytest.approx(np.mean(np.abs(y[:, None] - p)), rel=1e-5)  # |label - p_j| for all j
    assert mse == pytest.approx(np.mean((y[:, None] - p) ** 2), rel=1e-5)
    assert mae > 1  # about the mean label: no error of a probability can be above 1
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy", "mae", "mse"])
    _, _, reported_mae, reported_mse = model.evaluate(x, y[:, None], batch_size=32, verbose=0)
    assert (mae, mse) == pytest.approx((reported_mae, reported_mse), rel=1e-5)


def test_flat_integer_labels_make_keras_mae_fail(digits_mlp):
    """Why the page evaluates on one-hot answers: labels shaped (n,) meet (n, 10) probabilities."""
    model, x, y, _ = digits_mlp
    model.compile(loss="sparse_categorical_crossentropy", metrics=["mae"])
    with pytest.raises(Exception, match="[Ii]ncompatible shapes|must be equal"):
        model.evaluate(x, y, batch_size=32, verbose=0)


def test_cross_entropy_is_minus_the_log_of_the_true_class_probability():
    p = _probabilities(6, 10, 4)
    p[5] = np.eye(10)[3]  # certain and wrong: -log(0) is clipped, as Keras does
    y = np.array([0, 1, 2, 3, 4, 5])
    expected = -np.log(np.clip(p[np.arange(6), y], 1e-7, 1.0))
    np.testing.assert_allclose(evaluate.cross_entropy(p, y), expected, rtol=1e-5)
    one = evaluate.cross_entropy(p[0], 0)
    assert isinstance(one, float) and one == pytest.approx(activations.cross_entropy(p[0], 0))
    assert evaluate.cross_entropy(p[5], 5) == pytest.approx(-np.log(1e-7), rel=1e-4)


# --- Inside the model ---------------------------------------------------------------------------


def _submodel_outputs(model, x):
    """Every layer's output the slow, obvious way: one Keras sub-model per layer."""
    return [(layer.name, keras.Model(model.inputs, layer.output).predict(x, verbose=0)) for layer in model.layers]


def _assert_same_outputs(model, x):
    got = evaluate.layer_outputs(model, x)
    expected = _submodel_outputs(model, x)
    assert [name for name, _ in got] == [layer.name for layer in model.layers]
    for (name, out), (_, reference) in zip(got, expected):
        assert out.shape == reference.shape, name
        np.testing.assert_allclose(out, reference, rtol=1e-5, atol=1e-6, err_msg=name)
    return got


def test_layer_outputs_of_the_digits_cnn_are_its_submodels_outputs():
    shape, layers = models.PRESETS["digits_cnn"]
    model = models.build_sequential(layers, shape, seed=0, name="outputs_cnn")
    x = data.load_dataset("digits").x_test[:5, :, :, None]
    got = _assert_same_outputs(model, x)
    assert [out.shape for _, out in got] == [(5, 8, 8, 8), (5, 4, 4, 8), (5, 128), (5, 32), (5, 10)]
    np.testing.assert_allclose(got[-1][1].sum(axis=1), 1, rtol=1e-5)  # softmax at the end


def test_layer_outputs_of_the_seed_mlp_with_activation_layers():
    shape, layers = models.PRESETS["seed"]
    model = models.build_sequential(layers, shape, seed=1, name="outputs_seed")
    x = np.random.default_rng(2).random((3, 784)).astype("float32")
    got = _assert_same_outputs(model, x)
    np.testing.assert_array_equal(got[1][1], np.maximum(got[0][1], 0))  # Activation("relu") after Dense


def test_dropout_and_random_translation_pass_the_input_through_at_inference():
    layers = [{"type": "RandomTranslation", "factor": 0.2},
              {"type": "Conv2D", "filters": 4, "kernel_size": 3, "activation": "relu"},
              {"type": "AveragePooling2D", "pool_size": 2}, {"type": "Flatten"},
              {"type": "Dropout", "rate": 0.5}, {"type": "Dense", "units": 10, "activation": "softmax"}]
    model = models.build_sequential(layers, (8, 8, 1), seed=2, name="outputs_augmented")
    x = data.load_dataset("digits").x_test[:4, :, :, None]
    got = _assert_same_outputs(model, x)
    np.testing.assert_array_equal(got[0][1], x)
    np.testing.assert_array_equal(got[4][1], got[3][1])
    again = evaluate.layer_outputs(model, x)
    for (_, first), (_, second) in zip(got, again):
        np.testing.assert_array_equal(first, second)  # nothing random at inference


def test_layer_outputs_of_a_model_with_maxout():
    model = keras.Sequential([keras.Input((64,), name="input"), activations.Maxout(12, 3, name="maxout_1"),
                              keras.layers.Dense(10, activation="softmax", name="dense_2")], name="outputs_maxout")
    x = data.load_dataset("digits").x_test[:6].reshape(-1, 64)
    got = _assert_same_outputs(model, x)
    kernel, bias = model.layers[0].get_weights()
    pieces = (x @ kernel + bias).reshape(6, 12, 3)
    np.testing.assert_allclose(got[0][1], pieces.max(axis=2), rtol=1e-5, atol=1e-6)


def test_layer_outputs_wants_a_sequential_model():
    inputs = keras.Input((4,), name="input")
    functional = keras.Model(inputs, keras.layers.Dense(2, name="dense_f")(inputs), name="functional")
    with pytest.raises(TypeError, match="Sequential"):
        evaluate.layer_outputs(functional, np.zeros((1, 4), "float32"))


def test_images_are_reshaped_to_what_the_model_takes():
    images = np.random.default_rng(0).random((3, 8, 8)).astype("float32")
    cnn = models.build_sequential(models.PRESETS["digits_cnn"][1], (8, 8, 1), name="input_cnn")
    mlp = models.build_sequential([{"type": "Dense", "units": 10}], (64,), name="input_mlp")
    np.testing.assert_array_equal(evaluate.model_input(cnn, images), images[:, :, :, None])
    np.testing.assert_array_equal(evaluate.model_input(mlp, images), images.reshape(3, 64))
    with pytest.raises(ValueError, match="takes"):
        evaluate.model_input(mlp, np.zeros((1, 28, 28)))


@pytest.mark.parametrize("activation", ["linear", "relu", "sigmoid", "tanh", "softmax"])
def test_one_dense_unit_written_out_is_what_the_layer_outputs(activation):
    rng = np.random.default_rng(5)
    layer = keras.layers.Dense(7, activation=activation, name=f"dense_unit_{activation}")
    layer.build((None, 12))
    kernel, bias = rng.normal(size=(12, 7)).astype("float32"), rng.normal(size=7).astype("float32")
    layer.set_weights([kernel, bias])
    x = rng.normal(size=12).astype("float32")
    outputs = np.asarray(layer(x[None]))[0]
    for unit in range(7):
        got = evaluate.dense_unit(x, kernel, bias, activation, unit, top=4)
        terms = x * kernel[:, unit]
        order = sorted(range(12), key=lambda i: -abs(terms[i]))[:4]
        assert [i for i, *_ in got.terms] == order
        assert [t for *_, t in got.terms] == pytest.approx(terms[order].tolist())
        assert sum(t for *_, t in got.terms) + got.rest == pytest.approx(float(terms.sum()), abs=1e-5)
        assert got.z == pytest.approx(float(x @ kernel[:, unit] + bias[unit]), abs=1e-5)
        assert got.output == pytest.approx(float(outputs[unit]), rel=1e-5, abs=1e-6)
    assert "=" in repr(got)


# --- A digit drawn on a canvas --------------------------------------------------------------------

SIDE, PEN = evaluate.CANVAS_SIDE, evaluate.STROKE_WIDTH
INK = (0, 0, 0, 255)


def _drawing(strokes, *, scale=1.0, shift=(0, 0), background=(0, 0, 0, 0), ink=INK, side=SIDE):
    """A canvas (side, side, 4) uint8 with polylines on it, as the page's canvas gives it; the
    drawing scaled (pen included) about the top-left corner and shifted, in canvas pixels."""
    image = Image.new("RGBA", (side, side), background)
    pen = ImageDraw.Draw(image)
    for points in strokes:
        moved = [(x * scale + shift[0], y * scale + shift[1]) for x, y in points]
        pen.line(moved, fill=ink, width=max(1, round(PEN * scale)), joint="curve")
        for x, y in (moved[0], moved[-1]):  # round pen ends, like the canvas's brush
            r = PEN * scale / 2
            pen.ellipse([x - r, y - r, x + r, y + r], fill=ink)
    return np.asarray(image)


def _ellipse(cx, cy, rx, ry, n=40):
    angles = np.linspace(0, 2 * np.pi, n + 1)
    return [(cx + rx * np.sin(a), cy - ry * np.cos(a)) for a in angles]


SEVEN = [[(85, 50), (195, 50), (125, 240)]]
ONE = [[(120, 80), (150, 45), (150, 240)]]
ZERO = [_ellipse(140, 140, 60, 95)]


@pytest.mark.parametrize("shape", [(8, 8), (28, 28)])
def test_a_drawing_becomes_one_image_of_the_data_set(shape):
    digit = evaluate.preprocess_drawing(_drawing(SEVEN), shape)
    assert digit.shape == shape and digit.dtype == np.float32
    assert digit.min() == 0 and digit.max() == pytest.approx(1)  # the brightest pixel is 1, as 16/16
    rows = np.flatnonzero(digit.max(axis=1) > 0.1)
    if shape == (8, 8):
        assert (rows.min(), rows.max()) == (0, 7)  # like every digit of the set: ink in all 8 rows
    else:
        cols = np.flatnonzero(digit.max(axis=0) > 0.1)
        assert rows.max() - rows.min() < 20 and cols.max() - cols.min() < 20  # MNIST's 20x20 box
        centre = np.array([(np.indices(shape)[k] * digit).sum() / digit.sum() for k in (0, 1)])
        assert np.abs(centre - 13.5).max() <= 0.5  # its centre of mass in the middle of 28x28


@pytest.mark.parametrize("strokes", [SEVEN, ONE, ZERO], ids=["seven", "one", "zero"])
def test_where_and_how_big_the_digit_is_drawn_does_not_matter(strokes):
    centred = {shape: evaluate.preprocess_drawing(_drawing(strokes), shape) for shape in [(8, 8), (28, 28)]}
    for scale, shift in [(0.5, (120, 10)), (0.4, (-20, 150)), (0.7, (70, 70))]:
        small = _drawing(strokes, scale=scale, shift=shift)
        difference = np.abs(evaluate.preprocess_drawing(small, (8, 8)) - centred[(8, 8)])
        assert difference.max() < 0.15 and difference.mean() < 0.03
        # At 28x28 a stroke's edge moves by a fraction of a pixel, so one pixel may differ by a
        # third: compare the whole images instead.
        moved = evaluate.preprocess_drawing(small, (28, 28))
        assert np.abs(moved - centred[(28, 28)]).mean() < 0.02
        assert np.corrcoef(moved.ravel(), centred[(28, 28)].ravel())[0, 1] > 0.98


def test_area_averaging_is_the_mean_of_each_block():
    pattern = np.random.default_rng(7).integers(0, 17, (8, 8)) / 16
    pattern[0, 0] = pattern[7, 7] = 1.0  # ink in the corners: the crop is the whole 80x80 pattern
    alpha = np.zeros((200, 200), dtype=np.uint8)
    alpha[60:140, 30:110] = np.round(np.kron(pattern, np.ones((10, 10))) * 255).astype(np.uint8)
    canvas = np.zeros((200, 200, 4), dtype=np.uint8)
    canvas[:, :, 3] = alpha
    expected = alpha[60:140, 30:110].reshape(8, 10, 8, 10).mean(axis=(1, 3)) / 255
    np.testing.assert_allclose(evaluate.preprocess_drawing(canvas, (8, 8)), expected / expected.max(), atol=1e-5)


def test_black_on_white_white_on_black_and_transparent_canvases_agree():
    transparent = evaluate.preprocess_drawing(_drawing(SEVEN), (8, 8))
    on_white = evaluate.preprocess_drawing(_drawing(SEVEN, background=(255, 255, 255, 255)), (8, 8))
    on_black = evaluate.preprocess_drawing(_drawing(SEVEN, background=(0, 0, 0, 255), ink=(255, 255, 255, 255)), (8, 8))
    np.testing.assert_allclose(on_white, transparent, atol=1e-5)
    np.testing.assert_allclose(on_black, transparent, atol=1e-5)
    coloured = evaluate.preprocess_drawing(_drawing(SEVEN, ink=(30, 120, 250, 255)), (8, 8))
    np.testing.assert_allclose(coloured, transparent, atol=1e-5)  # on a transparent canvas only alpha counts


@pytest.mark.parametrize("background", [(0, 0, 0, 0), (255, 255, 255, 255)])
def test_a_blank_canvas_is_empty(background):
    blank = np.asarray(Image.new("RGBA", (SIDE, SIDE), background))
    with pytest.raises(evaluate.EmptyDrawing) as caught:
        evaluate.preprocess_drawing(blank, (8, 8))
    assert caught.value.code == "empty"
    faint = blank.copy()
    faint[100:200, 100:200, 3] = 10  # a smudge far below the ink threshold
    with pytest.raises(evaluate.EmptyDrawing):
        evaluate.preprocess_drawing(faint if background[3] == 0 else blank, (28, 28))
    with pytest.raises(evaluate.EmptyDrawing) as caught:
        evaluate.preprocess_drawing(None, (28, 28))  # the canvas before its first stroke
    assert caught.value.code == "empty"


def test_a_dot_is_too_small_to_be_a_digit():
    dot = _drawing([[(140, 140), (140, 140)]])  # a click without moving: one round pen mark
    with pytest.raises(evaluate.EmptyDrawing) as caught:
        evaluate.preprocess_drawing(dot, (8, 8))
    assert caught.value.code == "too_small"
    assert caught.value.details["minimum"] > max(caught.value.details["height"], caught.value.details["width"])
    assert isinstance(caught.value, ValueError)
    evaluate.preprocess_drawing(_drawing(SEVEN, scale=0.3, shift=(100, 100)), (8, 8))  # small, but a digit


def test_only_the_data_sets_shapes_are_offered():
    with pytest.raises(ValueError, match="shape"):
        evaluate.preprocess_drawing(_drawing(SEVEN), (16, 16))
    with pytest.raises(ValueError, match="RGBA"):
        evaluate.preprocess_drawing(np.zeros((10, 10)), (8, 8))


def test_drawn_digits_are_read_right_by_the_small_digits_cnn():
    """End to end: PIL drawings with the page's canvas and pen, through the preprocessing, into
    the class model's recipe trained on the 8x8 digits (still there for the pages that use them)."""
    shared = evaluate.class_model("digits")
    model, accuracy = shared.model, shared.accuracy
    assert accuracy > 0.9
    drawings = {0: ZERO, 1: ONE, 7: SEVEN}
    for label, strokes in drawings.items():
        for scale, shift in [(1.0, (0, 0)), (0.5, (120, 10))]:
            digit = evaluate.preprocess_drawing(_drawing(strokes, scale=scale, shift=shift), (8, 8))
            p = np.asarray(model(evaluate.model_input(model, digit[None]), training=False))[0]
            assert p.argmax() == label, f"{label} drawn at {scale}x read as {p.argmax()} ({p.max():.2f})"


# --- The class model, the report, the cells -------------------------------------------------------

def test_the_class_model_is_trained_once_and_shared():
    first, again = evaluate.class_model(), evaluate.class_model()
    assert first is again and first.dataset == data.offline_mnist() and first.input_shape == (28, 28, 1)
    assert first is evaluate.class_model(first.dataset)  # one model, however it is asked for
    digits = evaluate.class_model("digits")  # the same recipe on the 8x8 digits: another model
    assert digits.dataset == "digits" and digits.train_samples == 1437 and digits.input_shape == (8, 8, 1)
    assert digits.accuracy > 0.9 and digits is not first


def test_a_report_is_the_model_on_the_whole_test_set():
    shared = evaluate.class_model()
    d = data.load_dataset(shared.dataset)
    report = evaluate.report(shared.model, d.x_test, d.y_test)
    p = np.asarray(shared.model(d.x_test[..., None], training=False))
    np.testing.assert_allclose(report.probabilities, p, atol=1e-6)
    assert report.scores.accuracy == pytest.approx((p.argmax(1) == d.y_test).mean(), abs=1e-6)
    assert report.scores.accuracy == pytest.approx(shared.accuracy, abs=1e-6)
    assert report.matrix.sum() == len(d.y_test)
    assert report.right == np.trace(report.matrix) == (p.argmax(1) == d.y_test).sum()


def test_a_cell_lists_its_images_surest_first_and_counts_them():
    probabilities = np.array([[0.9, 0.1], [0.3, 0.7], [0.2, 0.8], [0.6, 0.4], [0.45, 0.55]])
    labels = np.array([0, 0, 0, 1, 1])
    report = evaluate.Report(probabilities, labels, None, evaluate.confusion_matrix(labels, probabilities.argmax(1), 2))
    assert evaluate.cell_examples(report, 0, 1) == ([2, 1], 2)  # key 0 taken for 1: the surer one first
    assert evaluate.cell_examples(report) == ([2, 1, 3], 3)  # every mistake
    assert evaluate.cell_examples(report, 1, 1) == ([4], 1)  # a cell of the diagonal: right answers
    assert evaluate.cell_examples(report, 1, None, k=1) == ([3], 1)
    assert [evaluate.shows_mistakes(*cell) for cell in [(0, 1), (None, None), (1, 1), (1, None), (None, 0)]] == \
        [True, True, False, True, True]  # only a cell of the diagonal lists right answers


def test_the_most_confused_pair_is_the_largest_mistake_and_none_without_mistakes():
    matrix = np.array([[5, 2, 0], [3, 6, 3], [0, 1, 9]])
    assert evaluate.most_confused(matrix) == (1, 0, 3)  # a tie (row 1: 3 and 3): the first in row order
    assert evaluate.most_confused(np.diag([4, 0, 7])) is None  # no mistakes, not "a 0 taken for a 0"
    assert evaluate.most_confused(np.zeros((10, 10), int)) is None


def test_a_model_that_does_not_fit_is_told_apart_from_one_that_is_not_a_classifier():
    from lib import models

    with pytest.raises(evaluate.ModelUnfit) as caught:
        evaluate.dataset_for(models.build_sequential([{"type": "Dense", "units": 10, "activation": "softmax"}], (100,)))
    assert caught.value.code == "input_mismatch" and caught.value.details["numbers"] == 64
    with pytest.raises(evaluate.ModelUnfit) as caught:
        evaluate.dataset_for(models.build_sequential([{"type": "Dense", "units": 10}], (64,)))
    assert caught.value.code == "not_classifier"
    with pytest.raises(evaluate.ModelUnfit) as caught:
        evaluate.dataset_for(models.build_sequential([{"type": "Dense", "units": 3, "activation": "softmax"}], (64,)))
    assert caught.value.code == "not_classifier" and caught.value.details["output"] == "3"
    mnist_sized = models.build_sequential([{"type": "Dense", "units": 10, "activation": "softmax"}], (784,))
    assert evaluate.dataset_for(mnist_sized) == data.offline_mnist()  # 28x28 digits are at hand, offline too
    assert evaluate.dataset_for(evaluate.class_model().model) == evaluate.class_model().dataset
    assert evaluate.dataset_for(evaluate.class_model("digits").model) == "digits"


def test_the_logits_are_what_the_softmax_turns_into_the_probabilities():
    from lib import data, models

    for model in (evaluate.class_model().model, models.build_sequential(models.PRESETS["seed"][1], (784,), seed=1)):
        batch = evaluate.model_input(model, data.load_dataset(data.offline_mnist()).x_test[:3])
        outputs = evaluate.layer_outputs(model, batch)
        z = evaluate.logits(model, outputs, batch)
        e = np.exp(z - z.max(axis=1, keepdims=True))
        np.testing.assert_allclose(e / e.sum(axis=1, keepdims=True), outputs[-1][1], atol=1e-5)


def test_mnist_counts_as_cached_only_when_its_file_is_in_the_keras_cache(tmp_path, monkeypatch):
    from lib import data

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert not data.is_cached("mnist")
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "mnist.npz").write_bytes(b"")
    assert data.is_cached("mnist") and not data.is_cached("fashion_mnist")


# --- The page ------------------------------------------------------------------------------------

def canvas_state(rgba):
    """What the drawing canvas sends to the server after a stroke (its session-state value)."""
    import base64
    import io

    buffer = io.BytesIO()
    Image.fromarray(rgba).save(buffer, format="PNG")
    data_url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    return {"drawing": {"raw": {"objects": [{}]}, "data": data_url}, "backgroundFit": None}


def code_prints_the_exam_table(at, tmp_path, report=None):
    """Run the page's code in a fresh Python; it must print the exam table's loss and accuracy,
    how many test images it holds, and (given the page's Report) its confusion matrix."""
    from tests.helpers import run_snippet, shown_code

    table = at.dataframe[0].value
    values = dict(zip(table.iloc[:, 0], table.iloc[:, 1]))
    assert list(values) == ["loss", "accuracy"]  # MAE and MSE belong to a regression (the Regression page)
    out = run_snippet(shown_code(at), tmp_path)
    loss, accuracy, n = re.search(r"loss ([0-9.]+), accuracy ([0-9.]+) on (\d+) test images", out).groups()
    assert [float(loss), float(accuracy)] == pytest.approx([values["loss"], values["accuracy"]], abs=2e-4)
    if report is not None:
        assert int(n) == len(report.labels) and f"mistakes: {len(report.labels) - report.right}" in out
        rows = re.findall(r"\[\s*((?:\d+\s+){9}\d+)\]", out)
        assert np.array([row.split() for row in rows[:10]], int).tolist() == report.matrix.tolist()
    return out


def test_the_page_grades_the_class_model_and_its_code_prints_the_same_numbers(tmp_path):
    from lib import ui
    from tests.helpers import open_page

    at = open_page("lessons/evaluate.py", query={"evaluate.image": "5"})
    assert not at.exception and len(at.get("plotly_chart")) >= 4  # matrix, per class, mistakes, flat layers
    assert "probabilities (softmax)" in at.get("html")[0].proto.body  # the answer, a row a class
    scales = [c.value for c in at.caption if c.value.startswith("Maps shown: 8 of 8. White is zero;")]
    assert len(scales) == 2  # the class model's Conv2D and its pooling, each a picture of its maps
    out = code_prints_the_exam_table(at, tmp_path, ui.models.class_exam(evaluate.class_model().dataset))
    answer = next(re.search(r"answers \*\*(\d)\*\*", m.value) for m in at.markdown if "answers **" in m.value).group(1)
    assert f"predicted: {answer} answer key: " in out


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_choosing_a_cell_shows_its_images_and_says_whether_they_are_mistakes(lang):
    from tests.helpers import figures, open_page

    def said():
        return " ".join([m.value for m in at.markdown] + [i.value for i in at.info])

    at = open_page("lessons/evaluate.py", lang)
    report = evaluate.report(evaluate.class_model().model, *_test_set())
    mistakes = len(report.labels) - report.right
    assert i18n.translate("evaluate.gallery_mistakes", lang, n=f"{mistakes:,}", shown=min(mistakes, 8)) in said()
    truth, guess, n = evaluate.most_confused(report.matrix)
    at.selectbox(key="evaluate.truth").set_value(truth).run()
    at.selectbox(key="evaluate.guess").set_value(guess).run()
    assert not at.exception
    assert i18n.translate("evaluate.gallery_mistakes", lang, n=n, shown=min(n, 8)) in said()
    caption = i18n.translate("evaluate.fig.mistake", lang, label=truth, answer=guess, p="")[:-2]  # without "()"
    gallery = next(f for f in figures(at)
                   if any(caption in a.get("text", "") for a in f["layout"].get("annotations", [])))
    assert len([t for t in gallery["data"] if t["type"] == "heatmap"]) == min(n, 8)
    at.selectbox(key="evaluate.guess").set_value(truth).run()  # the diagonal: its right answers
    right = int(report.matrix[truth, truth])
    assert not at.exception
    assert i18n.translate("evaluate.gallery_right", lang, n=right, shown=min(right, 8), digit=truth) in said()
    empty = next((r, c) for r, c in zip(*np.nonzero(report.matrix == 0)) if r != c)
    at.selectbox(key="evaluate.truth").set_value(int(empty[0])).run()
    at.selectbox(key="evaluate.guess").set_value(int(empty[1])).run()
    assert not at.exception and i18n.translate("evaluate.empty_mistakes", lang) in said()


def _test_set():
    d = data.load_dataset(evaluate.class_model().dataset)
    return d.x_test, d.y_test


def test_your_model_from_the_training_page_is_graded_on_its_own_test_set(tmp_path):
    from tests.helpers import open_page, run_snippet, settle, shown_code

    at = open_page("lessons/evaluate.py", query={"evaluate.source": "yours"})
    assert any(i18n.translate("evaluate.none.yours", "en")[:40] in i.value for i in at.info)  # no run yet: the class model
    at.switch_page("lessons/training.py")
    at.query_params.update({"training.epochs": "3"})
    at.run()
    at.button(key="training.run.start").click().run()
    settle(at)
    run = at.session_state["training.run.runs"][-1].run
    at.switch_page("lessons/evaluate.py")
    at.query_params.update({"evaluate.source": "yours"})
    at.run()
    assert not at.exception and not at.info
    table = at.dataframe[0].value
    values = dict(zip(table.iloc[:, 0], table.iloc[:, 1]))
    assert values["accuracy"] == pytest.approx(run.test_scores()["accuracy"], abs=1e-4)
    assert values["loss"] == pytest.approx(run.test_scores()["loss"], abs=1e-3)
    out = run_snippet(shown_code(at), tmp_path)
    assert f"accuracy {values['accuracy']:.4f}" in out


def test_a_loaded_model_that_does_not_fit_is_explained_and_the_class_model_graded():
    from lib import models, saving, ui
    from tests.helpers import open_page

    at = open_page("lessons/evaluate.py", query={"evaluate.source": "loaded"})
    assert any(i18n.translate("evaluate.none.loaded", "en")[:40] in i.value for i in at.info)
    wide = models.build_sequential([{"type": "Dense", "units": 10, "activation": "softmax"}], (100,))
    at.session_state[ui.LOADED_MODEL] = saving.open_upload(saving.to_bytes(wide), "wide.keras")
    at.run()
    assert not at.exception and "100" in at.warning[0].value and "64" in at.warning[0].value
    assert at.dataframe[0].value.iloc[1, 1] == pytest.approx(evaluate.class_model().accuracy, abs=1e-4)


def functional_digits_model(heads=1):
    """A Functional model as a student writes one at home: one chain of layers (or two heads)."""
    import keras

    inputs = keras.Input((8, 8, 1), name="pixels")
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")(inputs)
    x = keras.layers.Flatten(name="flat")(keras.layers.MaxPooling2D(2, name="pool")(x))
    outputs = [keras.layers.Dense(10, activation="softmax", name=f"probs{k}")(x) for k in range(heads)]
    return keras.Model(inputs, outputs if heads > 1 else outputs[0], name="student")


def test_a_functional_chain_is_followed_as_the_sequential_of_its_layers():
    from lib import data

    model = functional_digits_model()
    chain = evaluate.as_sequential(model)
    assert [layer.name for layer in chain.layers] == ["conv", "pool", "flat", "probs0"]
    assert evaluate.as_sequential(model) is chain  # built once per model
    x = data.load_dataset("digits").x_test[:16].reshape(-1, 8, 8, 1)
    np.testing.assert_allclose(np.asarray(chain(x)), np.asarray(model(x)), rtol=1e-6)
    outputs = evaluate.layer_outputs(chain, x)
    submodel = keras.Model(model.inputs, [model.get_layer(n).output for n in ("conv", "pool", "flat", "probs0")])
    for (name, got), want in zip(outputs, submodel(x)):
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-6, err_msg=name)
    assert evaluate.as_sequential(model) is chain and model.get_layer("conv").input is model.inputs[0]  # untouched
    with pytest.raises(evaluate.ModelUnfit) as e:
        evaluate.as_sequential(functional_digits_model(heads=2))
    assert e.value.code == "not_a_chain"
    assert i18n.translate("evaluate.unfit.not_a_chain", "ko", **e.value.details)


def test_a_loaded_functional_model_is_graded_and_followed_on_the_page():
    from lib import saving, ui
    from tests.helpers import open_page

    model = functional_digits_model()
    at = open_page("lessons/evaluate.py", query={"evaluate.source": "loaded"})
    at.session_state[ui.LOADED_MODEL] = saving.open_upload(saving.to_bytes(model), "home.keras")
    at.run()
    assert not at.exception and not at.warning
    d = data.load_dataset("digits", test_size=0.2)
    want = evaluate.report(model, d.x_test, d.y_test).scores.accuracy
    assert at.dataframe[0].value.iloc[1, 1] == pytest.approx(want, abs=1e-4)
    titles = [note.get("text") for chart in at.get("plotly_chart")
              for note in json.loads(chart.proto.spec)["layout"].get("annotations", [])]
    assert "**conv → 8×8×4**" in [m.value for m in at.markdown] and "flat → 64" in titles  # layer by layer


def test_a_loaded_models_code_loads_its_file_and_prints_the_pages_numbers(tmp_path):
    from lib import saving, ui
    from tests.helpers import open_page, shown_code

    model = functional_digits_model()
    (tmp_path / "home model.keras").write_bytes(saving.to_bytes(model))
    at = open_page("lessons/evaluate.py", query={"evaluate.source": "loaded", "evaluate.image": "3"})
    at.session_state[ui.LOADED_MODEL] = saving.open_upload(saving.to_bytes(model), "home model.keras")
    at.run()
    assert not at.exception and "home model.keras" in shown_code(at)
    code_prints_the_exam_table(at, tmp_path)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_drawing_is_predicted_and_an_empty_canvas_or_a_dot_says_what_to_do(lang):
    from tests.helpers import open_page

    at = open_page("lessons/evaluate.py", lang, query={"evaluate.input": "draw"})
    assert i18n.translate("evaluate.drawing.empty", lang)[:20] in at.info[-1].value
    at.session_state["evaluate.canvas"] = canvas_state(_drawing(SEVEN, background=(255, 255, 255, 255)))
    at.run()
    assert not at.exception
    verdict = [m.value for m in at.markdown if "**7**" in m.value]
    assert verdict and i18n.translate("evaluate.verdict.unlabelled", lang, answer=7, p="P", label=None, loss="")[:12] \
        in verdict[0]
    dot = np.full((SIDE, SIDE, 4), 255, np.uint8)
    dot[140:150, 140:150, :3] = 0
    at.session_state["evaluate.canvas"] = canvas_state(dot)
    at.run()
    assert not at.exception and "10×10" in at.info[-1].value


def test_with_mnist_in_the_cache_its_recipe_is_the_same_28x28_cnn(monkeypatch):
    """MNIST cannot be downloaded here: a small stand-in with MNIST's shapes and dtype plays it."""
    from lib import class_model

    before = evaluate.class_model()
    rng = np.random.default_rng(0)
    fake = ((rng.integers(0, 256, (600, 28, 28), dtype=np.uint8), rng.integers(0, 10, 600, dtype=np.uint8)),
            (rng.integers(0, 256, (100, 28, 28), dtype=np.uint8), rng.integers(0, 10, 100, dtype=np.uint8)))
    monkeypatch.setattr(data, "_download", lambda name, timeout: fake)
    monkeypatch.setattr(data, "is_cached", lambda name: name == "mnist")
    try:
        shared = evaluate.class_model("mnist")
        assert shared.input_shape == (28, 28, 1) and shared.train_samples == 600 and 0 <= shared.accuracy <= 1
        assert tuple(shared.model.inputs[0].shape[1:]) == (28, 28, 1) and shared.layers == before.layers
        assert evaluate.dataset_for(shared.model) == "mnist"
        assert evaluate.class_model() is before  # MNIST fetched mid-lesson: still the one class model
    finally:
        class_model._train_class_model.cache_clear()
        data._load.cache_clear()


def test_a_long_layer_output_is_drawn_as_its_first_bars_and_says_how_many_of_how_many():
    from lib import plots

    figure = plots.layers_figure([("flatten → 224000", np.arange(224_000, dtype="float32")),
                                  ("dense → 10", np.ones(10))])
    assert len(figure.data[0].y) == 256 and figure.data[0].y[-1] == 255
    assert [note.text for note in figure.layout.annotations] == ["flatten → 224000  (0–255 / 224,000)", "dense → 10"]
    assert len(figure.data[1].y) == 10


def test_the_layers_are_one_figure_a_row_each_with_every_map_where_its_hover_says():
    """Maps side by side in one heatmap on one scale, NaN between them, each cell's (map, row,
    column) in its hover data; a flat layer as bars, a long one cut with its title saying so."""
    from lib import plots

    rng = np.random.default_rng(0)
    maps, flat = rng.normal(size=(4, 4, 10)), rng.normal(size=300)
    figure = plots.layers_figure([("pool → 4×4×10", maps), ("flat → 300", flat)])
    heat, bars = figure.data
    z, where = np.array(heat.z, dtype=float), np.array(heat.customdata)
    assert z.shape == (2 * 4 + 1, 8 * 4 + 7)  # ten maps, eight across, a one-cell gap between
    for k in range(10):
        top, left = (k // 8) * 5, (k % 8) * 5
        assert np.allclose(z[top:top + 4, left:left + 4], np.round(maps[..., k], 4))
        assert (where[top + 2, left + 3] == [k + 1, 2, 3]).all()
    assert np.isnan(z[4]).all() and np.isnan(z[:, 4]).all() and heat.hoverongaps is False
    assert heat.zmax == pytest.approx(np.abs(maps).max(), abs=1e-4) and heat.zmin == -heat.zmax
    assert len(bars.y) == 256 and bars.y[-1] == pytest.approx(flat[255], abs=1e-4)
    titles = [note.text for note in figure.layout.annotations]
    assert titles == ["pool → 4×4×10", "flat → 300  (0–255 / 300)"]
    assert figure.layout.yaxis.domain[0] > figure.layout.yaxis2.domain[1]  # the first layer on top


def test_a_layers_maps_are_one_picture_on_its_scale_and_the_input_dark_ink_on_white():
    from lib import plots
    from lib.plots.base import paint

    maps = np.random.default_rng(1).normal(size=(4, 4, 20))
    picture, shown, limit = plots.maps_picture(maps, width=100)
    assert (shown, limit) == (16, pytest.approx(np.abs(maps[..., :16]).max()))  # the first 16 of 20
    drawn = np.asarray(Image.open(io.BytesIO(picture)).convert("RGB"))
    assert drawn.shape == (2 * 4 * 3 + 3, 8 * 4 * 3 + 7 * 3, 3)  # 8 across, a cell between, each pixel 3×3
    for k in range(16):
        top, left = (k // 8) * 5 * 3, (k % 8) * 5 * 3
        np.testing.assert_array_equal(drawn[top:top + 12:3, left:left + 12:3],
                                      paint(maps[..., k], signed=True, limit=limit))
    assert (drawn[12:15] == 255).all() and (drawn[:, 12:15] == 255).all()  # white between the maps
    ink = np.zeros((28, 28))
    ink[10:18, 13:15] = 1.0
    digit = np.asarray(Image.open(io.BytesIO(plots.input_picture(ink))).convert("L"))
    assert digit.shape == (224, 224) and digit[0, 0] == 255 and digit[14 * 8, 13 * 8] == 0  # paper white, ink black


def test_the_answer_is_a_row_a_class_its_score_and_probability_drawn_to_scale_and_the_key_framed():
    from lib import plots

    logits = np.array([-4.0, 1.0, 8.0, 0.0, -2.0])
    probabilities = np.exp(logits) / np.exp(logits).sum()
    drawn = plots.answer_table(logits, probabilities, 1, "ko")
    rows = drawn.split("</table>")[0].split("<tr")[2:]  # after the heading's row
    assert len(rows) == 5 and "확률 (softmax)" in drawn and "정답지 (원-핫)" in drawn
    for k, row in enumerate(rows):
        score_bar, probability_bar = re.findall(r"left:([0-9.]+)%;width:([0-9.]+)%", row)[0], \
            re.search(r"width:([0-9.]+)%;height:100%;background:(#[0-9a-f]+)", row).groups()
        half = 50 * abs(logits[k]) / 8  # the widest score reaches the track's end
        assert [float(v) for v in score_bar] == pytest.approx([50 - half if logits[k] < 0 else 50, half], abs=0.01)
        assert float(probability_bar[0]) == pytest.approx(100 * probabilities[k], abs=0.01)
        assert probability_bar[1] == ("#ea580c" if k == 2 else "#2563eb")  # the answer orange, the rest blue
        assert f">{logits[k]:.2f}<" in row and f">{probabilities[k]:.3f}<" in row
        assert ("outline:2px solid #16a34a" in row) == (k == 1)  # the answer key's row framed
    assert "원-핫" not in plots.answer_table(logits, probabilities, None, "ko")  # a drawing has no key


def test_a_dense_units_largest_terms_are_a_stable_sorts_first_five_without_sorting_them_all():
    """The order numpy's stable argsort gives (largest |x·w| first, ties by input index), on inputs
    with many ties, and on a Dense layer after a wide Flatten."""
    rng = np.random.default_rng(0)
    for n in [*range(1, 12), 64, 224_000]:
        x = rng.integers(-2, 3, n).astype("float32")
        kernel = rng.integers(-2, 3, (n, 3)).astype("float32")
        terms = x * kernel[:, 1]
        unit = evaluate.dense_unit(x, kernel, np.zeros(3, "float32"), "linear", 1)
        assert [i for i, *_ in unit.terms] == np.argsort(-np.abs(terms), kind="stable")[:5].tolist()
        assert unit.weighted_sum == pytest.approx(float(terms.sum(dtype="float64")))


# --- What the page claims ----------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_classifier_is_graded_by_loss_and_accuracy_and_mae_mse_are_left_to_the_regression(lang):
    """MAE and MSE stay off a classifier's table; the page says what they are, with Keras's numbers."""
    from tests.helpers import open_page

    at = open_page("lessons/evaluate.py", lang)
    assert not at.exception and list(at.dataframe[0].value.iloc[:, 0]) == ["loss", "accuracy"]
    said = " ".join(m.value for m in at.markdown)
    assert i18n.translate("evaluate.no_mae", lang) in said
    errors = np.array([[1.0, 3.0]]), np.zeros((1, 2))  # the text's two errors, 1 and 3
    mae, mse = float(keras.metrics.mean_absolute_error(*errors)[0]), float(keras.metrics.mean_squared_error(*errors)[0])
    assert (mae, mse) == (2.0, 5.0) and mse != mae ** 2  # the mean of squares, not MAE squared
    assert "**2**" in i18n.translate("evaluate.no_mae", lang) and "**5**" in i18n.translate("evaluate.no_mae", lang)
    shared = evaluate.class_model()  # "on a classifier MAE is only (1 − mean p(true class)) ÷ 5"
    d = data.load_dataset(shared.dataset)
    p = np.asarray(shared.model(d.x_test[..., None], training=False))
    keras_mae = keras.metrics.MeanAbsoluteError()
    keras_mae.update_state(np.eye(10)[d.y_test], p)
    assert float(keras_mae.result()) == pytest.approx((1 - p[np.arange(len(p)), d.y_test].mean()) / 5, rel=1e-4)
    right = f"{int((p.argmax(axis=1) == d.y_test).sum()):,}"
    assert i18n.translate("evaluate.exam_idea", lang, n=f"{len(d.x_test):,}", right=right) in said


def memorised_digits_model():
    """A model whose weights were fitted on the digits' own test images (as a file from elsewhere
    may have been): a softmax layer with a logistic regression's weights, every test image right."""
    from sklearn.linear_model import LogisticRegression

    d = data.load_dataset("digits")
    fitted = LogisticRegression(C=100, max_iter=5000).fit(d.x_test.reshape(-1, 64), d.y_test)
    model = models.build_sequential([{"type": "Dense", "units": 10, "activation": "softmax"}], (64,), seed=0,
                                    name="memorised")
    model.set_weights([fitted.coef_.T.astype("float32"), fitted.intercept_.astype("float32")])
    return model


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_loaded_model_is_scored_on_our_test_images_and_without_mistakes_the_page_says_so(lang):
    from lib import saving, ui
    from tests.helpers import open_page

    at = open_page("lessons/evaluate.py", lang, query={"evaluate.source": "loaded"})
    at.session_state[ui.LOADED_MODEL] = saving.open_upload(saving.to_bytes(memorised_digits_model()), "perfect.keras")
    at.run()
    assert not at.exception and not at.warning and at.dataframe[0].value.iloc[1, 1] == 1.0
    said = " ".join(m.value for m in at.markdown)
    digits = i18n.translate("evaluate.datasets.digits", lang)
    assert i18n.translate("evaluate.about.loaded_exam", lang, dataset=digits) in said  # not "never trained on"
    assert "never trained on" not in said and "한 번도 학습하지 않은" not in said
    assert i18n.translate("evaluate.no_mistakes", lang, n="360") in [c.value for c in at.caption]
    assert i18n.translate("evaluate.empty_mistakes", lang) in [i.value for i in at.info]
    at.selectbox(key="evaluate.truth").set_value(3).run()
    at.selectbox(key="evaluate.guess").set_value(3).run()  # a cell of the diagonal: its right answers
    right = int(np.sum(data.load_dataset("digits").y_test == 3))
    assert i18n.translate("evaluate.gallery_right", lang, n=right, shown=8, digit=3) in \
        " ".join(m.value for m in at.markdown)
