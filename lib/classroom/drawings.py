"""The class's own handwriting: a student adds their drawing, with the digit they meant, to the
class's set (opt-in, in the class's store); the teacher trains a small model on the set and looks
at what it confuses. A drawing travels as 28x28 bytes (MNIST's size, whatever the class model's):
~1.1 kB of text, bounded per browser and per class by the store (lib.classroom.contract)."""
import base64
import json

import numpy as np

from lib.classroom.contract import MAX_DRAWINGS, DrawingRefused  # noqa: F401  (drawings.MAX_DRAWINGS)

SIDE = 28  # the drawing as MNIST's 28x28, ink 0..255 (lib.drawing.preprocess_drawing's (28, 28))
TEST_SHARE = 0.2  # of each digit's drawings, held out to score the teacher's model
MIN_TO_TRAIN = 10  # fewer drawings than this teach a model nothing worth a confusion matrix
# The class's settings (lib.classroom.contract's Store.setting): "1" when the teacher keeps the set
# past the class's end, and when the set takes no more drawings; when the teacher's room last ran.
KEEP, CLOSED, TEACHER_SEEN = "drawings.keep", "drawings.closed", "teacher.seen"
# With replicas (one Redis), one server's class leaving is not the class's end: the set stays while
# a browser or the teacher's room was seen by the store this recently.
STILL_HERE_S = 600


def encode(image, digit):
    """One drawing as the store keeps it: `image` a (28, 28) or (28, 28, 1) array of ink in [0, 1],
    `digit` the one the student meant (0-9). A DrawingRefused ("bad_digit", "bad_image", "blank")
    for anything else: a page's values, but a page's values come from a stranger."""
    if isinstance(digit, bool) or not isinstance(digit, (int, np.integer)) or not 0 <= int(digit) <= 9:
        raise DrawingRefused("bad_digit", f"the digit {digit!r} is not one of 0-9")
    image = np.asarray(image, dtype="float64")
    if image.shape not in ((SIDE, SIDE), (SIDE, SIDE, 1)) or not np.all(np.isfinite(image)):
        raise DrawingRefused("bad_image", f"a drawing of shape {image.shape}, not {SIDE}x{SIDE} numbers")
    pixels = np.round(np.clip(image.reshape(SIDE, SIDE), 0.0, 1.0) * 255).astype("uint8")
    if not pixels.any():
        raise DrawingRefused("blank", "a drawing with no ink")
    return json.dumps({"digit": int(digit), "pixels": base64.b64encode(pixels.tobytes()).decode("ascii")},
                      separators=(",", ":"))


def decode(text):
    """(image (28, 28) float32 in [0, 1], digit) of a kept drawing; None for text that is not one
    (a store is shared: what does not read as a drawing is skipped, never trusted)."""
    try:
        kept = json.loads(text)
        digit, raw = kept["digit"], base64.b64decode(kept["pixels"], validate=True)
    except (ValueError, TypeError, KeyError):
        return None
    if isinstance(digit, bool) or not isinstance(digit, int) or not 0 <= digit <= 9 or len(raw) != SIDE * SIDE:
        return None
    return np.frombuffer(raw, dtype="uint8").reshape(SIDE, SIDE).astype("float32") / 255.0, digit


def add(store, student, image, digit):
    """Add a student's drawing to the class's set; its number (DrawingRefused: why not, including
    `closed` when the teacher takes no more)."""
    text = encode(image, digit)
    if store.setting(CLOSED) == "1":
        raise DrawingRefused("closed", "the teacher takes no more drawings")
    return store.add_drawing(student, text)


def class_has_ended(store):
    """Whether the class's set may go now that this server's class has left: not when the teacher
    keeps it; on one server, yes; with replicas, only when the store has seen no browser and no
    teacher's room for STILL_HERE_S."""
    if store.setting(KEEP) == "1":
        return False
    return not getattr(store, "shared_by_replicas", False) or not _seen_lately(store)


def left_behind(store):
    """Whether the set was left by a class that ended while no server watched it leave (a crash, a
    stop: the class-left action never ran): not kept, and the store has seen no browser and no
    teacher's room for STILL_HERE_S. A server asks when it starts, before its first student is
    seen; a restart in the middle of a class keeps the set (its students were seen moments ago)."""
    return store.setting(KEEP) != "1" and not _seen_lately(store)


def _seen_lately(store):
    """Whether the store has seen a browser or the teacher's room within STILL_HERE_S."""
    try:
        teacher_at = float(store.setting(TEACHER_SEEN) or "-inf")
    except ValueError:
        teacher_at = float("-inf")
    return store.clock() - teacher_at <= STILL_HERE_S or bool(store.present(STILL_HERE_S))


class ClassSet:
    """The class's set as arrays: `numbers[k]` (to delete it), `students[k]`, `x[k]` (28, 28, 1),
    `y[k]` the digit meant."""

    def __init__(self, kept):
        rows = [(n, s, *d) for n, s, d in ((n, s, decode(t)) for n, s, t in kept) if d is not None]
        self.numbers = [n for n, _, _, _ in rows]
        self.students = [s for _, s, _, _ in rows]
        self.x = np.stack([image for _, _, image, _ in rows])[..., None] if rows else np.zeros((0, SIDE, SIDE, 1))
        self.y = np.array([digit for _, _, _, digit in rows], dtype="int64")

    def __len__(self):
        return len(self.numbers)

    def per_digit(self):
        """How many drawings of each digit, 0-9."""
        return np.bincount(self.y, minlength=10)

    def split(self, seed=0):
        """(train, test) index arrays: TEST_SHARE of each digit's drawings (at least one, when it
        has two or more) held out, the rest to train on; the same split for the same set."""
        rng = np.random.default_rng(seed)
        train, test = [], []
        for digit in range(10):
            where = rng.permutation(np.flatnonzero(self.y == digit))
            held = int(round(len(where) * TEST_SHARE)) or (1 if len(where) >= 2 else 0)
            test.extend(where[:held])
            train.extend(where[held:])
        return np.sort(np.array(train, dtype="int64")), np.sort(np.array(test, dtype="int64"))


def confusion(y_true, y_pred):
    """counts[true, predicted] over the ten digits."""
    counts = np.zeros((10, 10), dtype="int64")
    np.add.at(counts, (np.asarray(y_true, dtype="int64"), np.asarray(y_pred, dtype="int64")), 1)
    return counts


def hardest(probabilities, y_true, k=8):
    """Indices of the `k` drawings the model found hardest: the lowest probability given to the
    digit the student meant, lowest first."""
    p = np.asarray(probabilities)
    meant = p[np.arange(len(p)), np.asarray(y_true, dtype="int64")]
    return np.argsort(meant, kind="stable")[:k]


# The teacher's model of the class's handwriting: small, trained from scratch on the set, so what
# it confuses is what the class's own drawings teach (the class model learned from MNIST's).
LAYERS = ({"type": "Conv2D", "filters": 8, "kernel_size": 3, "padding": "same", "activation": "relu"},
          {"type": "MaxPooling2D", "pool_size": 2}, {"type": "Flatten"},
          {"type": "Dense", "units": 32, "activation": "relu"}, {"type": "Dense", "units": 10, "activation": "softmax"})
EPOCHS = 30


def training_job(class_set, *, epochs=EPOCHS, seed=0, budget_s=20.0):
    """The training runner's Job for the class's set: trained on the split's training part,
    scored once on its held-out part (the confusion matrix's drawings)."""
    from lib.training import Arrays, Compile, Fit, Job, Stack

    train, test = class_set.split(seed)
    x, y = class_set.x.astype("float32"), class_set.y
    return Job(model=Stack(LAYERS, (SIDE, SIDE, 1)), data=Arrays(x[train], y[train], x_test=x[test], y_test=y[test]),
               compile=Compile("Adam", 0.003), fit=Fit(epochs=epochs, batch_size=min(32, len(train))), seed=seed,
               budget_s=budget_s).checked()


def can_train(class_set):
    """True when the set has MIN_TO_TRAIN drawings, its split trains on two digits or more and
    holds at least one drawing out to score on."""
    if len(class_set) < MIN_TO_TRAIN:
        return False
    train, test = class_set.split()
    return len(test) >= 1 and len(np.unique(class_set.y[train])) >= 2
