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
from tests.test_classroom import KEY, _open_with_key, fresh_class  # noqa: F401  (a fixture)


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


# --- On the pages: the teacher's room (AppTest); the student's side in tests/test_browser.py -----

def test_the_teachers_model_of_the_class_set_trains_on_four_fifths_and_is_scored_on_the_rest():
    clock = Clock()
    store = MemoryStore(clock=clock)
    digits = __import__("lib.data", fromlist=["x"]).load_dataset("mnist_5k")
    for k in range(40):  # forty real handwritten digits, as students would give them
        drawings.add(store, f"s{k % 13}", digits.x_test[k], int(digits.y_test[k]))
        clock.now += contract.MIN_DRAWING_GAP_S
    kept = drawings.ClassSet(store.drawings())
    assert drawings.can_train(kept)
    job = drawings.training_job(kept)
    x_train, y_train, _, _, x_test, y_test = job.data.arrays()
    train, test = kept.split()
    assert len(x_train) + len(x_test) == 40 and np.array_equal(y_test, kept.y[test])
    assert job.model.input_shape == (28, 28, 1) and job.fit.epochs == drawings.EPOCHS
    few = drawings.ClassSet(store.drawings()[:drawings.MIN_TO_TRAIN - 1])
    assert not drawings.can_train(few)


@pytest.fixture
def the_class(fresh_class):  # noqa: F811  (the fixture imported above)
    """The class's store of the app under test, a class of its own (tests/test_classroom.py)."""
    from lib.ui import classroom

    return classroom.the_store()


def _give(store, n):
    """`n` real handwritten digits (MNIST's test images) given by thirteen browsers, a person's pace apart."""
    from lib import data

    digits = data.load_dataset("mnist_5k")
    store.clock = Clock(store.clock())  # (each drawing later than the last by the gap a person needs)
    for k in range(n):
        store.clock.now += contract.MIN_DRAWING_GAP_S
        store.seen(f"s{k % 13}", "evaluate")  # (as the page does: a student who draws is seen)
        drawings.add(store, f"s{k % 13}", digits.x_test[k], int(digits.y_test[k]))


def test_the_teacher_trains_on_the_class_set_sees_its_confusions_and_hardest_and_deletes(the_class):
    from lib.ui import drawings as ui_drawings
    from tests.helpers import settle

    store = the_class

    _give(store, 40)
    at = _open_with_key(KEY)
    assert "**40** of at most 600" in " ".join(m.value for m in at.markdown)
    at.button(key="drawings.fit.start").click().run()
    settle(at)
    assert not at.exception, at.exception
    run = at.session_state["drawings.fit.runs"][-1].run
    assert run.status == "done", (run.status, run.error)
    kept = drawings.ClassSet(store.drawings())
    train, test = kept.split()
    said = [m.value for m in at.markdown if m.value.startswith("Trained on")]
    accuracy = run.test_scores()["accuracy"]
    assert said == [f"Trained on {len(train)} drawings, scored on {len(test)} it never saw: accuracy "
                    f"**{accuracy:.3f}**. Rows are the digit meant, columns the model's answer."]
    x_train, y_train, _, _, x_test, y_test = run.job.data.arrays()  # the drawings it trained and was scored on
    probabilities = np.asarray(run.model()(np.concatenate([x_train, x_test])))
    hardest = drawings.hardest(probabilities, np.concatenate([y_train, y_test]), ui_drawings.HARDEST)
    in_order = [kept.numbers[k] for k in np.concatenate([train, test])]
    assert [c.value for c in at.caption if c.value.startswith("#")] == [" · ".join(f"#{in_order[k]}" for k in hardest)]
    chosen = kept.numbers[:2]
    at.multiselect(key="drawings.chosen").set_value(chosen).run()
    at.button(key="drawings.delete").click().run()
    assert [n for n, _, _ in store.drawings()] == kept.numbers[2:]
    at.toggle(key=drawings.KEEP).set_value(True).run()
    assert store.setting(drawings.KEEP) == "1"
    ui_drawings.when_class_leaves()
    assert len(store.drawings()) == 38  # kept: the teacher said so
    at.toggle(key=drawings.KEEP).set_value(False).run()
    ui_drawings.when_class_leaves()
    assert store.drawings() == []  # the class has left, and nobody kept them
    assert not at.exception


def test_too_few_drawings_say_how_many_are_needed_and_the_button_waits(the_class):
    store = the_class
    _give(store, 5)
    at = _open_with_key(KEY)
    assert [i.value for i in at.info if "are needed" in i.value] == [
        f"To train, at least {drawings.MIN_TO_TRAIN} drawings are needed, of two digits or more, with one digit "
        "drawn at least twice (one is held out to score on)."]
    assert at.button(key="drawings.fit.start").disabled
    at.button(key="drawings.delete_all").click().run()
    assert store.drawings() == [] and not at.exception


def _giving_page():
    """A page with one drawing to give: a 7 drawn in black on the canvas's white."""
    import numpy as np
    from lib import ui

    rgba = np.full((280, 280, 4), 255, dtype="uint8")
    rgba[40:70, 60:220, :3] = 0  # the bar
    for k in range(40, 240):
        rgba[k:k + 30, 200 - (k - 40) // 2:230 - (k - 40) // 2, :3] = 0  # the stem
    ui.give_drawing(rgba)


def test_a_student_sees_what_is_sent_chooses_the_digit_and_a_drawing_given_is_not_sent_twice(the_class):
    store = the_class
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_giving_page, default_timeout=60).run()
    assert not at.exception, at.exception
    assert at.button(key="classroom.drawing.send").disabled  # no digit chosen yet: nothing can be sent
    assert len(at.get("image")) == 1 and at.expander[0].label == "Give this drawing to the class's set"
    store.put_setting(drawings.CLOSED, "1")  # the teacher takes no more
    at.segmented_control(key="classroom.drawing.digit").set_value(7).run()
    at.button(key="classroom.drawing.send").click().run()
    assert [w.value for w in at.warning] == ["Your teacher takes no more drawings for now."]
    assert store.drawings() == []
    store.put_setting(drawings.CLOSED, None)
    at.button(key="classroom.drawing.send").click().run()
    assert [s.value for s in at.success] == ["Thank you! Your 7 is in the class's set."]
    ((number, student, text),) = store.drawings()
    image, digit = drawings.decode(text)
    assert digit == 7 and image.shape == (28, 28) and image.max() == 1.0
    at.run()  # the page again, the same drawing: said given, no button to send it twice
    assert [s.value for s in at.success] == ["This drawing is in the class's set. Draw another to give it too."]
    assert not [b for b in at.button if b.key == "classroom.drawing.send"] and len(store.drawings()) == 1
    assert "classroom.drawing.digit" not in at.session_state  # the next drawing's digit is chosen anew


def test_the_set_goes_when_the_class_ends_unless_kept_and_with_replicas_only_when_nobody_is_seen():
    clock = Clock()
    one = MemoryStore(clock=clock)
    assert drawings.class_has_ended(one)
    one.put_setting(drawings.KEEP, "1")
    assert not drawings.class_has_ended(one)
    replicas = MemoryStore(clock=clock)
    replicas.shared_by_replicas = True  # (as RedisStore is)
    assert drawings.class_has_ended(replicas)
    replicas.seen("s1", "evaluate")
    assert not drawings.class_has_ended(replicas)  # a student on another server
    clock.now += drawings.STILL_HERE_S + 1
    replicas.put_setting(drawings.TEACHER_SEEN, str(clock.now))
    assert not drawings.class_has_ended(replicas)  # the teacher's room on another server
    clock.now += drawings.STILL_HERE_S + 1
    assert drawings.class_has_ended(replicas)
    replicas.put_setting(drawings.TEACHER_SEEN, "not a time")
    assert drawings.class_has_ended(replicas)


def test_a_set_a_class_left_behind_unwatched_goes_at_the_next_start_unless_kept_or_someone_is_here(the_class):
    from lib.ui import drawings as ui_drawings

    store = the_class
    _give(store, 3)
    assert not drawings.left_behind(store)  # a restart in the middle of the class: its students were just seen
    ui_drawings.when_server_starts()
    assert len(store.drawings()) == 3
    store.clock.now += drawings.STILL_HERE_S + 1  # the class ended, the server stopped before its class-left action ran
    store.put_setting(drawings.KEEP, "1")
    assert not drawings.left_behind(store)
    store.put_setting(drawings.KEEP, None)
    store.put_setting(drawings.TEACHER_SEEN, str(store.clock.now - 60))
    assert not drawings.left_behind(store)  # the teacher's room ran a minute ago
    store.clock.now += drawings.STILL_HERE_S
    assert drawings.left_behind(store)
    ui_drawings.when_server_starts()
    assert store.drawings() == []


def test_the_server_runs_its_start_actions_once_whoever_asks(monkeypatch):
    from lib import server, ui

    ran = []

    def start():
        ran.append("started")

    monkeypatch.setattr(server, "_done_once", set())
    for _ in range(3):  # the entry point asks at every script run
        server.once_at_start(start)
    assert ran == ["started"]
    assert "server.once_at_start(ui.drop_drawings_left_behind)" in (ui.ROOT / "streamlit_app.py").read_text()


def test_a_set_that_would_hold_nothing_out_cannot_train():
    kept = drawings.ClassSet([(k, f"s{k}", drawings.encode(a_drawing(k), k)) for k in range(10)])
    assert len(kept) == 10 and len(kept.split()[1]) == 0 and not drawings.can_train(kept)
    kept = drawings.ClassSet([(k, f"s{k}", drawings.encode(a_drawing(k), k % 5)) for k in range(10)])
    assert len(kept.split()[1]) == 5 and drawings.can_train(kept)
