"""The teacher's room, its pure parts: the teacher's key (where it comes from, a wrong one refused
and counted, a place that keeps guessing waits longer and longer), nicknames made harmless, and
what the class view counts."""
import pytest

from lib.classroom import store as class_store
from lib.classroom import teacher
from tests.helpers import Clock


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


# --- Nicknames -----------------------------------------------------------------------------------
from lib.classroom import names  # noqa: E402


@pytest.mark.parametrize("typed, kept", [
    ("Minji", "Minji"),
    ("  김 민지  ", "김 민지"),
    ("<b>bold</b><script>alert(1)</script>", "<b>bold</b><script>a"),  # kept as text, cut at 20
    ("**big** [link](http://x)", "**big** [link](http:"),
    ("a\x00b\x1bc\u202ed\u200be\nf\tg", "a b c d e f g"),
    ("x" * 10_000, "x" * 20),
    ("\x00\x01\u200b  \n", None),
    (None, None),
    (12, None),
])
def test_a_nickname_keeps_printable_text_only_cut_to_twenty(typed, kept):
    assert names.clean(typed) == kept


def test_a_student_without_a_nickname_is_a_short_number():
    assert names.shown("3f9a0c" + "0" * 26, {}) == "#3f9a"
    assert names.shown("3f9a0c" + "0" * 26, {"3f9a0c" + "0" * 26: "Minji"}) == "Minji"


# --- The class view ------------------------------------------------------------------------------
from lib.classroom.view import class_view  # noqa: E402


def test_the_class_view_counts_pages_tasks_results_and_who_is_quiet():
    present = {"a" * 32: ("pooling", 2.0), "b" * 32: ("pooling", 9.0), "c" * 32: ("training", 1.0),
               "d" * 32: ("optimizers", 4.0)}
    everyone = {
        "a" * 32: {"training.high": {"status": "done", "facts": {"val_accuracy": 0.962, "params": 4810}, "at": 990.0},
                   "pooling.quarter": {"status": "tried", "at": 995.0}},
        "b" * 32: {"training.high": {"status": "done", "facts": {"val_accuracy": 0.951, "params": 5000}, "at": 500.0}},
        "c" * 32: {"training.high": {"status": "tried", "at": 100.0}, "unknown.task": {"status": "done"}},
        "e" * 32: {"pooling.quarter": {"status": "done", "facts": {"width_factor": 4.0}, "at": 10.0}},  # gone
    }
    view = class_view(["training.high", "pooling.quarter", "losses.far"], present, everyone,
                      {"c" * 32: "Minji"}, now=1000.0, quiet_s=300)
    assert (view.here, view.pages) == (4, {"pooling": 2, "training": 1, "optimizers": 1})
    assert view.tasks == {"training.high": (2, 1), "pooling.quarter": (1, 1), "losses.far": (0, 0)}
    assert view.results == {"training.high": {"val_accuracy": [0.962, 0.951], "params": [4810, 5000]},
                            "pooling.quarter": {"width_factor": [4.0]}}
    assert view.quiet == ["#bbbb", "Minji"] and view.idle == ["#dddd"]


def test_the_class_view_charts_every_students_results_not_only_the_done_ones():
    present = {"a" * 32: ("training", 2.0), "b" * 32: ("optimizers", 9.0)}
    everyone = {
        "a" * 32: {"training.results": {"status": "result", "facts": {"val_accuracy": 0.91}, "at": 990.0}},
        "b" * 32: {"training.results": {"status": "result", "facts": {"val_accuracy": 0.5}, "at": 990.0},
                   "optimizers.results": {"status": "result", "at": 990.0,
                                          "facts": {"ended": {"SGD": 0.2, "Adam": 0.01, "x": "far"}, "off_map": 1}}},
    }
    view = class_view(["training.high"], present, everyone, {}, now=1000.0,
                      result_ids={"training.results", "optimizers.results"})
    assert view.results == {"training.results": {"val_accuracy": [0.91, 0.5]},
                            "optimizers.results": {"ended": {"SGD": [0.2], "Adam": [0.01]}, "off_map": [1]}}
    assert view.tasks == {"training.high": (0, 0)}  # a result is not a task tried
    assert view.idle == ["#aaaa", "#bbbb"]  # (nor a task: "no task tried yet") ...
    assert view.quiet == []  # ... but a move: training again and again is not being stuck


def test_a_students_result_keeps_the_best_or_the_last_and_says_when_it_changed():
    from lib import tasks as catalogue

    assert catalogue.kept_results("training", None, {"val_accuracy": 0.8, "epochs": 5}) == {"val_accuracy": 0.8}
    assert catalogue.kept_results("training", {"val_accuracy": 0.8}, {"val_accuracy": 0.7}) is None  # the best kept
    assert catalogue.kept_results("training", {"val_accuracy": 0.8}, {"val_accuracy": 0.93}) == {"val_accuracy": 0.93}
    assert catalogue.kept_results("training", {"val_accuracy": 0.8}, {}) is None  # no run has ended
    race = {"ended": {"SGD": 0.5, "Adam": 0.01}, "off_map": 2}
    assert catalogue.kept_results("optimizers", None, race) == race
    assert catalogue.kept_results("optimizers", race, {"ended": {"SGD": 0.4}, "off_map": 0}) == {
        "ended": {"SGD": 0.4}, "off_map": 0}  # the last race, whatever it did
    assert catalogue.kept_results("pooling", None, {"width_factor": 4.0}) is None  # a page with no results


# --- Through the pages (AppTest: every session of a test shares the server's store) ---------------
from lib import ui  # noqa: E402
from lib.classroom import lessons  # noqa: E402
from lib.ui import classroom, task_panel  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from tests.helpers import ROOT, open_page  # noqa: E402

KEY = "correct horse battery"


@pytest.fixture
def fresh_class(monkeypatch):
    monkeypatch.setenv("KERAS_CLASSROOM_TEACHER_KEY", KEY)
    kept = (classroom.the_store, classroom.teacher_key, task_panel.progress)  # each test: a class of its own
    for cached in kept:
        cached.clear()
    yield
    for cached in kept:
        cached.clear()


def _open_with_key(key):
    """The teacher's page opened by its address, as a teacher does (not from another page first)."""
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.switch_page("lessons/teacher.py")
    at.run()
    at.text_input(key="teacher.key").input(key)
    at.button(key="teacher.open").click()
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_teacher_page_is_in_no_menu_and_a_wrong_key_is_refused(fresh_class):
    at = _open_with_key("a guess")
    assert [e.value for e in at.error] == ["That is not the teacher's key."]
    assert not at.metric and classroom.teacher_key()[0].wrong == 1
    assert "teacher" not in [link.proto.page for link in open_page().get("page_link")]


def test_the_class_view_counts_the_students_their_pages_and_tasks_with_nicknames_as_text(fresh_class):
    named = open_page("lessons/pooling.py")
    named.sidebar.text_input(key="classroom.nickname").input("<b>Min</b>\x00ji **x**").run()
    trying = open_page("lessons/losses.py")
    trying.sidebar.button(key="tasks.open.losses.heaviest").click()
    trying.run()
    assert classroom.the_store().names() == {named.session_state[classroom.STUDENT][0]: "<b>Min</b> ji **x**"}
    at = _open_with_key(KEY)
    assert [(m.label, m.value) for m in at.metric] == [("Students here", "2"), ("Tasks done", "0"),
                                                       ("No task tried yet", "1"), ("Quiet for 5 min", "0")]
    # the one who has not tried a task yet, by the nickname they typed: as text, never as markup
    assert [text.value for text in at.text] == ["<b>Min</b> ji **x**"]
    assert not [m for m in at.markdown if "Min" in m.value]


def _current_page(at):
    return at.session_state["classroom.seen"][0] if "classroom.seen" in at.session_state else None


def test_the_teacher_brings_the_class_to_a_page_with_its_settings_and_a_student_goes_back(fresh_class):
    student = open_page("lessons/pooling.py")
    student.slider(key="pooling.pool_size").set_value(3).run()
    teacher = _open_with_key(KEY)
    teacher.switch_page("lessons/optimizers.py")
    teacher.run()
    teacher.select_slider(key="optimizers.lr").set_value(0.3).run()
    teacher.sidebar.button(key="follow.bring").click()
    teacher.run()
    assert classroom.the_store().last_push()[1]["page"] == "optimizers"
    student.run()  # the student's next run (the page asks the store every 10 s by itself)
    assert "**Your teacher is on Optimizers** and asks the class to follow." in [m.value for m in student.markdown]
    student.button(key="follow.go.1").click()
    student.run()
    assert not student.exception, student.exception
    assert _current_page(student) == "optimizers" and student.select_slider(key="optimizers.lr").value == 0.3
    teacher.sidebar.toggle(key="follow.presenting").set_value(True).run()  # presenter mode ...
    teacher.switch_page("lessons/losses.py")
    teacher.run()
    student.run()
    assert _current_page(student) == "losses", "in presenter mode the class follows by itself"
    teacher.sidebar.toggle(key="follow.presenting").set_value(False).run()  # ... until released
    student.run()
    assert "Your teacher has released the class. You were on **Pooling** before." in [m.value for m in student.markdown]
    student.button(key=f"follow.back.{classroom.the_store().last_push()[0]}").click()
    student.run()
    assert _current_page(student) == "pooling" and student.slider(key="pooling.pool_size").value == 3


def test_a_hosts_key_too_short_is_said_on_the_teachers_page(fresh_class, monkeypatch):
    monkeypatch.setenv("KERAS_CLASSROOM_TEACHER_KEY", "1234")
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.switch_page("lessons/teacher.py")
    at.run()
    assert not at.exception and [e.value for e in at.error] == [
        "A teacher's key needs at least 8 characters: set a longer KERAS_CLASSROOM_TEACHER_KEY."]


def test_a_student_never_sees_the_teachers_controls_nor_opens_the_class_view(fresh_class):
    student = open_page("lessons/optimizers.py")
    keys = {w.key for kind in ("button", "toggle") for w in getattr(student.sidebar, kind)}
    assert {"follow.bring", "follow.presenting"}.isdisjoint(keys) and "tasks.open.optimizers.too_fast" in keys
    student.switch_page("lessons/teacher.py")  # by its address, without the key
    student.run()
    assert not student.exception and not student.metric and not student.get("plotly_chart")
    assert [b.label for b in student.main.button] == ["Open the class view"]
    keys = {w.key for kind in ("button", "toggle") for w in getattr(student.sidebar, kind)}
    assert {"follow.bring", "follow.presenting"}.isdisjoint(keys)
    assert classroom.the_store().last_push() == (0, None)  # nothing pushed to the class


def test_when_the_store_is_down_students_keep_working_and_the_class_view_says_so(fresh_class, monkeypatch):
    from deploy.launch import free_ports

    url = f"redis://127.0.0.1:{free_ports(1)[0]}/0"  # no Redis there: every call is refused
    monkeypatch.setenv("KERAS_CLASSROOM_STORE", url)
    student = open_page("lessons/losses.py")
    student.sidebar.text_input(key="classroom.nickname").input("Minji").run()
    student.sidebar.button(key="tasks.open.losses.heaviest").click()
    student.run()
    assert not student.exception and not student.error, [e.value for e in student.error]
    assert classroom.the_store().url == url
    at = _open_with_key(KEY)
    assert [e.value for e in at.error] == [
        f"The class's store does not answer ({url}): students keep working, but this view cannot see them "
        "until it does."]
    assert not at.metric


def test_a_lesson_link_opens_only_its_pages_and_hides_the_chosen_controls_at_the_teachers_values(fresh_class):
    teacher_at = _open_with_key(KEY)
    teacher_at.switch_page("lessons/optimizers.py")
    teacher_at.run()
    teacher_at.select_slider(key="optimizers.lr").set_value(0.3).run()
    teacher_at.sidebar.multiselect(key="lesson.hide.optimizers").select("optimizers.lr").run()
    teacher_at.switch_page("lessons/teacher.py")
    teacher_at.run()
    teacher_at.multiselect(key="lesson.pages").set_value(["optimizers", "losses"]).run()
    assert [x.value for x in teacher_at.text if "Optimizers" in x.value] == ["Optimizers · learning rate (lr) = 0.3"]
    teacher_at.button(key="lesson.make").click()
    teacher_at.run()
    assert not teacher_at.exception, teacher_at.exception
    (lesson,) = lessons.all_lessons(classroom.the_store(), known_pages=[p.id for p in ui.PAGES])
    assert lesson.pages == ("losses", "optimizers") and lesson.hidden == {"optimizers.lr": 0.3}
    # (AppTest has no address: a browser's page shows it before, tests/test_browser.py)
    assert f"/?lesson={lesson.code}&lang=en" in [c.value for c in teacher_at.code]

    student = open_page(query={"lesson": lesson.code})
    assert not student.exception
    # its first page is the menu's default (address ""): the class view sees the student there
    assert classroom.the_store().present(60)[student.session_state[classroom.STUDENT][0]][0] == "losses"
    assert [link.proto.page for link in student.get("page_link")] == []  # (the overview's links: not shown)
    student.switch_page("lessons/optimizers.py")
    student.run()
    assert not student.exception, student.exception
    assert "optimizers.lr" not in [w.key for w in student.select_slider]
    assert any("LEARNING_RATE = 0.3\n" in c.value for c in student.code)  # what the page computes with
    assert student.query_params["lesson"] == lesson.code
    with pytest.raises(ValueError, match=r"Could not find a navigation page for .*pooling.py'. .*Known pages: "
                                         r"\['[^']*/losses.py', '[^']*/optimizers.py', '[^']*/teacher.py'\]"):
        student.switch_page("lessons/pooling.py")  # a page the lesson leaves out: not in this session's app


@pytest.mark.parametrize("code, said", [
    ("0123abcd", "This lesson link names no lesson of this class (it may have ended): every page is open."),
    ("<script>", "This lesson link names no lesson of this class (it may have ended): every page is open."),
])
def test_a_lesson_link_naming_no_lesson_opens_every_page_and_says_so(fresh_class, code, said):
    student = open_page(query={"lesson": code})
    assert [w.value for w in student.warning] == [said]
    assert "lesson" not in student.query_params
    student.switch_page("lessons/pooling.py")
    student.run()
    assert not student.exception and not student.warning


PAGE_IDS = ["overview", "pooling", "losses", "optimizers"]


def test_lessons_are_kept_under_a_code_bounded_and_a_hostile_code_never_reaches_the_store():
    store = class_store.open_store("memory://")
    made = lessons.make_lesson(store, ["optimizers", "pooling", "nowhere"],
                               {"optimizers.lr": 0.3, "losses.kind": "mse"}, known_pages=PAGE_IDS)
    assert made.pages == ("pooling", "optimizers")  # the menu's order; a page the app lacks left out
    assert made.hidden == {"optimizers.lr": 0.3}  # a control of a page the lesson leaves out: dropped
    assert lessons.find_lesson(store, made.code, known_pages=PAGE_IDS) == made
    assert lessons.find_lesson(store, made.code, known_pages=["overview", "optimizers"]).pages == ("optimizers",)
    for hostile in ("", "../../etc", "0123ABCD", "0123abcd0", "lessons", None, ["0123abcd"]):
        assert lessons.find_lesson(store, hostile, known_pages=PAGE_IDS) is None
    for kept in ('{"pages": "pooling"', "[" * 2000 + "]" * 2000):  # kept lessons that are not what they should be
        store.put_setting("lesson:0123abcd", kept)
        assert lessons.find_lesson(store, "0123abcd", known_pages=PAGE_IDS) is None
    with pytest.raises(lessons.LessonRefusal, match="a lesson needs at least one page"):
        lessons.make_lesson(store, ["nowhere"], {}, known_pages=PAGE_IDS)
    with pytest.raises(lessons.LessonRefusal, match="a lesson hides at most 60 controls"):
        lessons.make_lesson(store, ["pooling"], {f"pooling.c{k}": k for k in range(61)}, known_pages=PAGE_IDS)
    with pytest.raises(lessons.LessonRefusal, match="a record of 4[0-9]{3} bytes") as refused:
        lessons.make_lesson(store, ["pooling"], {"pooling.text": "x" * 4100}, known_pages=PAGE_IDS)
    assert refused.value.code == "too_big"
    codes = [lessons.make_lesson(store, ["pooling"], {}, known_pages=PAGE_IDS).code for _ in range(25)]
    kept = lessons.all_lessons(store, known_pages=PAGE_IDS)
    assert [lesson.code for lesson in kept] == codes[::-1][:lessons.MAX_LESSONS]  # newest first, the oldest gone
    assert store.setting(f"lesson:{made.code}") is None and store.setting(f"lesson:{codes[0]}") is None
    lessons.end_lesson(store, codes[-1])
    assert lessons.find_lesson(store, codes[-1], known_pages=PAGE_IDS) is None
    assert len(lessons.all_lessons(store, known_pages=PAGE_IDS)) == lessons.MAX_LESSONS - 1


def test_a_lesson_value_a_control_cannot_take_leaves_the_control_shown(fresh_class):
    store = classroom.the_store()
    made = lessons.make_lesson(store, ["optimizers"], {"optimizers.lr": 0.25, "optimizers.steps": 40},
                               known_pages=[p.id for p in ui.PAGES])  # 0.25 is not one of the rates
    student = open_page("lessons/optimizers.py", query={"lesson": made.code})
    assert student.select_slider(key="optimizers.lr").value == 0.1  # shown, at its own default
    assert "optimizers.steps" not in [w.key for w in student.slider]
    # A kept value of the wrong kind (a store written by hand): the text "40", a number for a choice
    made = lessons.make_lesson(store, ["optimizers"], {"optimizers.steps": "40", "optimizers.surface": 1,
                                                       "optimizers.racers": ["sgd", 3]},
                               known_pages=[p.id for p in ui.PAGES])
    student = open_page("lessons/optimizers.py", query={"lesson": made.code})
    assert not student.exception
    assert student.slider(key="optimizers.steps").value == 200
    assert student.selectbox(key="optimizers.surface").value is not None
    assert "optimizers.racers" in [w.key for w in student.multiselect]


def test_a_lesson_of_pages_this_server_hides_opens_every_page_it_shows(fresh_class, monkeypatch):
    from lib.ui import pages

    made = lessons.make_lesson(classroom.the_store(), ["save_load"], {}, known_pages=[p.id for p in ui.PAGES])
    monkeypatch.setattr(pages, "HIDDEN", {"save-load"})  # the host hid it after the lesson was made
    student = open_page(query={"lesson": made.code})
    assert [w.value for w in student.warning] == [
        "This lesson link names no lesson of this class (it may have ended): every page is open."]
    assert "lessons/save-load.py" not in [p.file for p in ui.available_pages()]


def test_a_students_race_reaches_the_class_view_without_any_task(fresh_class):
    import json

    student = open_page("lessons/optimizers.py")
    (record,) = classroom.the_store().records(student.session_state[classroom.STUDENT][0]).values()
    assert record["status"] == "result" and set(record["facts"]) == {"ended", "off_map"}
    at = _open_with_key(KEY)
    assert "What they reached" in [h.value for h in at.subheader]
    titles = [json.loads(chart.proto.spec)["layout"]["xaxis"]["title"]["text"] for chart in at.get("plotly_chart")]
    assert "Optimizers: how many racers left the map in the students' last race" in titles
    ended = [json.loads(c.proto.spec) for c in at.get("plotly_chart")
             if json.loads(c.proto.spec)["layout"]["xaxis"]["title"]["text"].startswith("Optimizers: where each")]
    assert sorted(trace["name"] for trace in ended[0]["data"]) == sorted(record["facts"]["ended"])


def test_the_teachers_own_browser_is_not_counted_when_it_was_a_page_of_the_class_first(fresh_class):
    open_page("lessons/pooling.py")  # one student
    teacher_at = open_page("lessons/losses.py")  # the teacher's browser, on a page before the key
    assert len(classroom.the_store().present(classroom.PRESENT_S)) == 2
    teacher_at.switch_page("lessons/teacher.py")
    teacher_at.run()
    teacher_at.text_input(key="teacher.key").input(KEY)
    teacher_at.button(key="teacher.open").click()
    teacher_at.run()
    assert [(m.label, m.value) for m in teacher_at.metric][0] == ("Students here", "1")


def test_in_presenter_mode_a_student_follows_the_teacher_but_keeps_what_their_lesson_fixes(fresh_class, monkeypatch):
    from lib.ui import follow

    follows, real_follow = [], follow._follow
    monkeypatch.setattr(follow, "_follow", lambda *a: (follows.append(a[2]), real_follow(*a)))
    made = lessons.make_lesson(classroom.the_store(), ["pooling", "optimizers"], {"optimizers.lr": 0.3},
                               known_pages=[p.id for p in ui.PAGES])
    student = open_page("lessons/pooling.py", query={"lesson": made.code})
    teacher_at = _open_with_key(KEY)
    teacher_at.switch_page("lessons/optimizers.py")
    teacher_at.run()
    teacher_at.select_slider(key="optimizers.lr").set_value(0.01).run()
    teacher_at.slider(key="optimizers.steps").set_value(50).run()
    teacher_at.sidebar.toggle(key="follow.presenting").set_value(True).run()
    for _ in range(2):  # follows once, then stays: the fixed learning rate is not the teacher's to move
        student.run()
        assert not student.exception, student.exception
        assert _current_page(student) == "optimizers"
        assert student.slider(key="optimizers.steps").value == 50  # the teacher's
        assert any("LEARNING_RATE = 0.3\n" in c.value for c in student.code)  # the lesson's
    assert student.session_state["follow.seen"] == classroom.the_store().last_push()[0]
    # the push's settings without what the lesson fixes (they fought it: the student was sent again on
    # every run of theirs); (AppTest reruns the page it was given, so it follows once a run here)
    assert follows and all(f["optimizers.steps"] == 50 and "optimizers.lr" not in f for f in follows)
