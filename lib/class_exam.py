"""The class model on its mock exam, graded by Keras once per computer: `graded(dataset)` is the
`lib.evaluate.report` of `class_model(dataset)` on the data set's test split, kept in the app's
folder ("class-exam/") beside the kept model and read back by the next server without importing
TensorFlow, so a class link to Evaluate & predict draws the exam and the confusion matrix while
the import (4 s here) still runs.

The kept file is named by the kept model's file (itself named by everything the training depends
on, lib.class_model) and by the code that grades it (this module, lib.evaluate, lib.passes,
lib.cost): a change to any of them grades anew. It is read as a stranger's file would be (no
pickle, bounded, private, every number checked against what the module could have written).
"""
import dataclasses
import functools
import logging
import os
import threading

import numpy as np

from lib import class_model, cost, data, evaluate, kept, passes

SCORES = tuple(field.name for field in dataclasses.fields(evaluate.Scores))  # in the kept file's order
LARGEST_BYTES = 8 * 2 ** 20  # a kept exam of MNIST's 10,000 test images is 0.4 MB
_grading = threading.Lock()


def graded(dataset=None):
    """The class model's Report on its test split (`dataset` None: the class data set): read back
    when an earlier server graded the same model with the same code, else graded and kept. Once
    per process; the first caller grades, the others wait for the same Report."""
    with _grading:
        return _graded(dataset or class_model.class_dataset())


@functools.lru_cache(maxsize=2)
def _graded(dataset):
    d = data.load_dataset(dataset)
    path = exam_path(dataset)
    report = read_kept(path, d.y_test)
    if report is None:
        report = evaluate.report(class_model.class_model(dataset).model, d.x_test, d.y_test)
        keep(path, report)
    return report


def exam_path(dataset):
    """Where the exam of `class_model(dataset)` is kept: "class-exam/<data set>-<digest>.npz"."""
    return class_model.kept_beside(dataset, "class-exam", [__file__, evaluate.__file__, passes.__file__, cost.__file__])


def keep(path, report):
    """Write the report's probabilities and scores, whole; the data set's older exams go."""
    numbers = np.array([getattr(report.scores, name) for name in SCORES], dtype="float64")
    replaces = os.path.basename(path).split("-")[0] + "-"
    return kept.write_arrays(path, ["probabilities", "scores"], [report.probabilities, numbers], replaces=replaces)


def read_kept(path, labels, classes=10):
    """The Report kept at `path` for the answer key `labels`, or None when there is none to trust:
    missing, not private, torn, or any number `keep` could not have written (logged)."""
    parts = kept.read_arrays(path, _checked_part, most=2, largest_bytes=LARGEST_BYTES)
    if set(parts) != {"probabilities", "scores"}:
        return None
    probabilities, numbers = parts["probabilities"], parts["scores"]
    labels = np.asarray(labels).reshape(-1)
    predictions = probabilities.argmax(axis=1)
    if len(probabilities) != len(labels) or probabilities.shape[1] != classes:
        return _refused(path, f"{probabilities.shape} answers for {len(labels)} labels")
    if abs(np.mean(predictions == labels) - numbers[1]) > 1e-6:  # Keras's accuracy, in float32
        return _refused(path, f"an accuracy of {numbers[1]} for these answers")
    probabilities.flags.writeable = False
    matrix = evaluate.confusion_matrix(labels, predictions, classes)
    return evaluate.Report(probabilities, labels, evaluate.Scores(*map(float, numbers)), matrix)


def _checked_part(entry, array):
    """(entry, array) when it is a kept exam's part as `keep` writes it; else ValueError."""
    if entry == "probabilities" and array.dtype == np.float32 and array.ndim == 2 and array.size \
            and np.isfinite(array).all() and array.min() >= 0 and array.max() <= 1:
        return entry, array
    if entry == "scores" and array.dtype == np.float64 and array.shape == (len(SCORES),) \
            and np.isfinite(array).all() and array.min() >= 0 and array[1:].max() <= 1:
        return entry, array
    raise ValueError(f"not a kept exam's part: {entry!r}, {array.dtype} {array.shape}")


def _refused(path, why):
    logging.getLogger(__name__).warning("%s could not be read: %s", path, why)
    return None
