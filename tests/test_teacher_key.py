"""The teacher's key (lib.classroom.teacher): where it comes from, that a wrong one is refused and
counted, and that a place that keeps guessing must wait longer and longer."""
import pytest

from lib.classroom import store as class_store
from lib.classroom import teacher


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_the_hosts_key_wins_else_one_made_once_for_the_whole_class():
    assert teacher.class_key(None, {"KERAS_CLASSROOM_TEACHER_KEY": "from-the-host"}) == ("from-the-host", False)
    assert teacher.class_key(None, {}, from_secrets="from-secrets") == ("from-secrets", False)
    shared = class_store.open_store("memory://")
    first, made = teacher.class_key(shared, {})
    assert made and len(first) == 12 and teacher.class_key(shared, {}) == (first, True)  # a second replica
    assert teacher.class_key(None, {})[0] != teacher.class_key(None, {})[0]


def test_the_right_key_passes_and_a_wrong_one_is_refused_and_counted():
    key = teacher.TeacherKey("correct horse battery")
    assert key.check("correct horse battery", "10.0.0.5")
    for wrong in ("correct horse batter", "", None, "correct horse battery ", "CORRECT HORSE BATTERY"):
        assert key.check(wrong, f"place {wrong!r}") is False
    assert key.wrong == 5 and "battery" not in repr(key)


def test_a_place_that_keeps_guessing_waits_longer_each_time_and_others_are_not_held_up():
    clock = Clock()
    key = teacher.TeacherKey("correct horse battery", clock=clock)
    for _ in range(teacher.FREE_TRIES):
        assert key.check("guess", "stranger") is False and key.wait_s("stranger") == 0
    waits = []
    for _ in range(8):
        assert key.check("guess", "stranger") is False
        waits.append(key.wait_s("stranger"))
        with pytest.raises(teacher.TeacherRefusal, match=r"too many wrong keys: try again in \d+ s") as refused:
            key.check("correct horse battery", "stranger")  # not even the right key, while it waits
        assert refused.value.code == "wait"
        clock.now += waits[-1]
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
    assert key.check("correct horse battery", "the teacher's laptop")  # another place: no wait
    assert key.check("correct horse battery", "stranger") and key.wait_s("stranger") == 0  # right: afresh


def test_a_key_too_short_to_be_safe_is_refused_at_start():
    with pytest.raises(teacher.TeacherRefusal, match="a teacher key needs at least 8 characters"):
        teacher.TeacherKey("1234")
