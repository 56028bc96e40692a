"""The class's own handwriting (lib.classroom.drawings): a drawing as the store keeps it, refused
when it is not one, read back as the class's set; the split, the confusion matrix and the hardest
drawings checked against scikit-learn and numpy by hand."""
import base64
import json

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix

from lib.classroom import contract, drawings
from lib.classroom.store import MemoryStore
from tests.helpers import Clock


def a_drawing(seed=0):
    image = np.zeros((28, 28), dtype="float32")
    image[4:24, 10:18] = np.random.default_rng(seed).random((20, 8))
    return image


def test_a_drawing_travels_as_28_by_28_bytes_and_comes_back_to_the_nearest_255th():
    image = a_drawing()
    text = drawings.encode(image[..., None], 7)
    assert len(text) < 1200 and len(text.encode()) <= contract.MAX_RECORD_BYTES
    back, digit = drawings.decode(text)
    assert digit == 7 and back.shape == (28, 28) and back.dtype == np.float32
    np.testing.assert_allclose(back, np.round(image * 255) / 255, atol=1e-6)


@pytest.mark.parametrize("image,digit,code", [
    (a_drawing(), 10, "bad_digit"), (a_drawing(), -1, "bad_digit"), (a_drawing(), True, "bad_digit"),
    (a_drawing(), "7", "bad_digit"), (a_drawing(), 7.0, "bad_digit"),
    (np.zeros((8, 8)), 7, "bad_image"), (np.full((28, 28), np.nan), 7, "bad_image"),
    (np.full((28, 28), np.inf), 7, "bad_image"), (np.zeros((28, 28)), 7, "blank"), (-a_drawing(), 7, "blank")])
def test_what_is_not_a_drawing_of_a_digit_is_refused_with_its_reason(image, digit, code):
    with pytest.raises(contract.DrawingRefused) as refused:
        drawings.encode(image, digit)
    assert refused.value.code == code


@pytest.mark.parametrize("text", [
    "", "not json", "[]", "{}", '{"digit": 7}', '{"digit": 7, "pixels": "!!!"}',
    json.dumps({"digit": 7, "pixels": base64.b64encode(b"x" * 783).decode()}),
    json.dumps({"digit": 12, "pixels": base64.b64encode(b"x" * 784).decode()}),
    json.dumps({"digit": True, "pixels": base64.b64encode(b"x" * 784).decode()}),
    json.dumps({"digit": "7", "pixels": base64.b64encode(b"x" * 784).decode()})])
def test_what_does_not_read_as_a_drawing_is_skipped_not_trusted(text):
    assert drawings.decode(text) is None


def test_the_class_set_is_read_from_the_store_skipping_what_is_not_a_drawing():
    clock = Clock()
    store = MemoryStore(clock=clock)
    first = drawings.add(store, "s1", a_drawing(1), 3)
    clock.now += contract.MIN_DRAWING_GAP_S
    store.add_drawing("s1", "not a drawing")
    clock.now += contract.MIN_DRAWING_GAP_S
    third = drawings.add(store, "s2", a_drawing(2), 5)
    kept = drawings.ClassSet(store.drawings())
    assert len(kept) == 2 and kept.numbers == [first, third] and kept.students == ["s1", "s2"]
    assert kept.x.shape == (2, 28, 28, 1) and kept.y.tolist() == [3, 5]
    assert kept.per_digit().tolist() == [0, 0, 0, 1, 0, 1, 0, 0, 0, 0]
    assert len(drawings.ClassSet([])) == 0 and drawings.ClassSet([]).x.shape == (0, 28, 28, 1)


def test_the_split_holds_out_a_fifth_of_each_digit_and_is_the_same_for_the_same_set():
    y = np.repeat(np.arange(10), [10, 5, 2, 1, 0, 10, 10, 10, 10, 10])
    kept = drawings.ClassSet([])
    kept.y = y
    train, test = kept.split()
    assert sorted(train.tolist() + test.tolist()) == list(range(len(y)))  # every drawing, once
    held = np.bincount(y[test], minlength=10)
    assert held.tolist() == [2, 1, 1, 0, 0, 2, 2, 2, 2, 2]  # a fifth, at least one of two or more
    again = kept.split()
    assert np.array_equal(train, again[0]) and np.array_equal(test, again[1])


def test_the_confusion_matrix_counts_what_scikit_learn_counts():
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 10, 200), rng.integers(0, 10, 200)
    np.testing.assert_array_equal(drawings.confusion(y_true, y_pred),
                                  confusion_matrix(y_true, y_pred, labels=range(10)))


def test_the_hardest_drawings_are_those_given_the_least_to_the_digit_meant():
    p = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.5, 0.5]])
    p = np.pad(p, ((0, 0), (0, 8)))
    y = np.array([0, 0, 1, 1])
    meant = [p[k, y[k]] for k in range(4)]  # 0.9, 0.2, 0.4, 0.5
    assert drawings.hardest(p, y, k=3).tolist() == sorted(range(4), key=lambda k: meant[k])[:3] == [1, 2, 3]
