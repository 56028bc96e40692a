"""The class model's mock exam is graded by Keras once per computer and read back by the next server
without TensorFlow (lib/class_exam.py): the same numbers to the bit, never from a file the module
could not have written, and a class link to Evaluate draws it before TensorFlow is imported."""
import json
import logging
import os
import subprocess
import sys

import numpy as np
import pytest

from lib import class_exam, class_model, data, evaluate, kept
from tests.helpers import ROOT, page_without_tensorflow

grade = class_exam._graded.__wrapped__  # what a new server process does: no exam in memory yet


@pytest.fixture
def folder(monkeypatch, tmp_path):
    """An empty app folder of this test's own."""
    monkeypatch.setenv("KERAS_CLASSROOM_DATA", str(tmp_path / "app"))
    return tmp_path / "app"


def same(a, b):
    """Two Reports with the same numbers, to the bit."""
    assert a.probabilities.dtype == b.probabilities.dtype == np.float32
    assert a.probabilities.tobytes() == b.probabilities.tobytes()
    assert a.scores == b.scores
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.matrix, b.matrix)
    return True


READ_BACK = """
import json, sys
from lib import class_exam
report = class_exam.graded("digits")
print(json.dumps({"tensorflow": "tensorflow" in sys.modules, "probabilities": report.probabilities.tobytes().hex(),
                  "scores": list(map(float, vars(report.scores).values())), "matrix": report.matrix.tolist()}))
"""


def test_the_exam_is_kerass_and_the_next_server_reads_it_back_to_the_bit_without_tensorflow(folder):
    d = data.load_dataset("digits")
    first = grade("digits")  # the first server on this computer: graded by Keras, and kept
    path = class_exam.exam_path("digits")
    assert os.path.dirname(path) == str(folder / "class-exam") and os.path.exists(path)
    by_keras = evaluate.report(class_model.class_model("digits").model, d.x_test, d.y_test)
    assert same(first, by_keras)
    assert same(grade("digits"), by_keras)  # read back in this process
    result = subprocess.run([sys.executable, "-c", READ_BACK], cwd=ROOT, capture_output=True, text=True,
                            timeout=240, env=dict(os.environ))
    assert result.returncode == 0, result.stderr[-3000:]
    again = json.loads(result.stdout.strip().splitlines()[-1])
    assert again["tensorflow"] is False, "the kept exam waited for TensorFlow"
    assert bytes.fromhex(again["probabilities"]) == by_keras.probabilities.tobytes()
    assert again["scores"] == [by_keras.scores.loss, by_keras.scores.accuracy, by_keras.scores.mae,
                               by_keras.scores.mse]
    assert again["matrix"] == by_keras.matrix.tolist()


def test_the_exam_is_named_by_the_kept_model_and_the_code_that_grades_it(folder, monkeypatch):
    path = class_exam.exam_path("digits")
    assert path == class_exam.exam_path("digits") and os.path.basename(path).startswith("digits-")
    assert class_exam.exam_path("mnist_5k") != path
    monkeypatch.setattr(class_model, "_kept_name", lambda dataset: "digits-another-model.keras")
    assert class_exam.exam_path("digits") != path


def test_a_kept_exam_the_module_could_not_have_written_is_not_read_and_is_graded_anew(folder, caplog):
    d = data.load_dataset("digits")
    report = grade("digits")
    path = class_exam.exam_path("digits")
    p, scores = report.probabilities, np.array([getattr(report.scores, s) for s in class_exam.SCORES])
    nan, over_one, wrong_accuracy = p.copy(), p.copy(), scores.copy()
    nan[0, 0], over_one[0, 0], wrong_accuracy[1] = np.nan, 1.5, 0.5
    cases = [("answers for fewer images", ["probabilities", "scores"], [p[:-1], scores]),
             ("a number that is not one", ["probabilities", "scores"], [nan, scores]),
             ("a probability over 1", ["probabilities", "scores"], [over_one, scores]),
             ("float64 answers", ["probabilities", "scores"], [p.astype("float64"), scores]),
             ("an accuracy these answers do not have", ["probabilities", "scores"], [p, wrong_accuracy]),
             ("three scores", ["probabilities", "scores"], [p, scores[:3]]),
             ("no scores", ["probabilities"], [p]),
             ("a part it never writes", ["probabilities", "scores", "weights"], [p, scores, scores]),
             ("a pickle", ["probabilities", "scores"], [np.array([{"x": 1}], dtype=object), scores])]
    with caplog.at_level(logging.WARNING):
        for case, entries, arrays in cases:
            assert kept.write_arrays(path, entries, arrays)
            assert class_exam.read_kept(path, d.y_test) is None, case
    assert "could not be read" in caplog.text and "an accuracy of 0.5" in caplog.text
    assert same(grade("digits"), report)  # graded anew, and kept whole over the foreign file
    assert same(class_exam.read_kept(path, d.y_test), report)
    os.chmod(path, 0o666)  # anyone could have written it: not read
    assert class_exam.read_kept(path, d.y_test) is None
    os.chmod(path, 0o600)
    assert same(class_exam.read_kept(path, d.y_test), report)


def test_a_class_link_to_evaluate_draws_the_exam_and_its_confusion_matrix_before_tensorflow_is_imported():
    """With TensorFlow made unimportable, a fresh server still draws Evaluate's exam, its confusion
    matrix and the per-class accuracy from what this computer kept: the first thing that needs Keras
    is the one image followed through the model, below them (the only error here)."""
    report = class_exam.graded()  # kept by this run's first server (the app's folder of the test run)
    page, printed = page_without_tensorflow("lessons/evaluate.py")
    exam = list(page["tables"][0].values())[1]  # model.evaluate's numbers, in the table's second column
    assert exam == [round(report.scores.loss, 4), round(report.scores.accuracy, 4)]
    assert page["charts"] == 3  # the confusion matrix, the per-class accuracy, the surest mistakes
    assert page["exceptions"] == 1
    assert "lessons/evaluate.py" in printed and "in follow_section" in printed
    assert "ImportError: keras imported before the page drew what it keeps" in printed
