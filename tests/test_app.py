"""The app shell: navigation in the seed's order, the language switch and the URL."""

import threading
import time

import pytest

from lib import ui
from tests.helpers import open_page


def test_navigation_lists_the_pages_in_the_seed_order():
    pages = ui.available_pages()
    assert pages[0].id == "overview" and pages[0].url_path == ""
    assert [p.id for p in pages] == ["overview", "model", "filters", "pooling", "activations", "losses", "optimizers",
                                     "training", "overfitting", "evaluate", "regression", "save_load", "glossary"]
    assert all(ui.SECTIONS.index(a.section) <= ui.SECTIONS.index(b.section) for a, b in zip(pages, pages[1:]))


def test_a_page_whose_file_is_missing_is_not_listed(tmp_path, monkeypatch):
    for info in ui.PAGES[:3]:
        (tmp_path / info.file).parent.mkdir(exist_ok=True)
        (tmp_path / info.file).write_text("")
    monkeypatch.setattr(ui.pages, "ROOT", tmp_path)
    assert [p.id for p in ui.available_pages()] == [p.id for p in ui.PAGES[:3]]


def test_a_page_the_host_hides_is_neither_listed_nor_linked(monkeypatch):
    monkeypatch.setattr(ui.pages, "HIDDEN", {"save-load", "pooling", ""})
    listed = [p.id for p in ui.available_pages()]
    assert "save_load" not in listed and "pooling" not in listed
    assert listed[0] == "overview" and not ui.is_available("save_load")
    linked = {link.proto.page for link in open_page().get("page_link")}  # the overview links every lesson
    assert "model" in linked and not {"save-load", "pooling"} & linked


def test_url_paths_are_the_documented_ones():
    assert {p.id: p.url_path for p in ui.PAGES} == {
        "overview": "", "model": "model", "filters": "filters", "pooling": "pooling",
        "activations": "activations", "losses": "losses", "optimizers": "optimizers",
        "training": "training", "overfitting": "overfitting", "evaluate": "evaluate", "regression": "regression",
        "save_load": "save-load", "glossary": "glossary"}


def test_lang_in_the_url_selects_korean_and_stays_in_the_url():
    at = open_page(lang="ko")
    assert at.title[0].value == "케라스 교실"
    assert at.query_params["lang"] == ["ko"] or at.query_params["lang"] == "ko"


def test_unknown_lang_falls_back_to_english():
    at = open_page(lang="xx")
    assert at.title[0].value == "Keras Classroom"
    assert at.session_state["lang"] == "en"


def test_the_sidebar_switch_changes_the_language_and_the_url():
    at = open_page(lang="en")
    at.sidebar.segmented_control(key="lang_switch").set_value("ko").run()
    assert not at.exception
    assert at.title[0].value == "케라스 교실"
    assert at.session_state["lang"] == "ko"


def test_the_language_survives_a_page_switch():
    at = open_page(lang="ko")
    at.switch_page("lessons/model.py")
    at.query_params.pop("lang", None)  # a page switch starts the URL afresh
    at.run()
    assert at.title[0].value == "모델과 레이어"


def test_keras_state_survives_the_end_of_a_script_run():
    """Streamlit clears the Keras session after every run (emptying TensorFlow's kernel cache: slow
    first ops on every rerun); the prepared server turns that off."""
    import keras
    from streamlit.runtime.scriptrunner import script_runner

    from lib import server

    server.wait_until_prepared()
    before = keras.layers.Dense(1).name
    script_runner._clean_problem_modules()
    after = keras.layers.Dense(1).name
    assert after != before  # "dense", then "dense_1": the name counter was not reset


def test_the_class_link_carries_the_pages_settings_and_language_as_text_and_as_a_qr_code():
    import io

    import numpy as np
    import segno
    from PIL import Image

    at = open_page("lessons/training.py", "ko", query={"training.lr": "0.1", "training.epochs": "7"})
    at.sidebar.button(key="ui.share").click().run()
    assert not at.exception
    link = [c.value for c in at.code if "lang=ko" in c.value][0]
    assert "training.lr=0.1" in link and "training.epochs=7" in link and at.get("image")
    picture = np.asarray(Image.open(io.BytesIO(ui.qr_png(link))).convert("L"))
    modules = np.array(segno.make(link, error="m").matrix, dtype=bool)
    side = (len(modules) + 2 * ui.QR_BORDER) * ui.QR_SCALE
    assert picture.shape == (side, side) and side >= 400  # big modules: 16 pixels each
    centres = ui.QR_BORDER * ui.QR_SCALE + ui.QR_SCALE // 2 + ui.QR_SCALE * np.arange(len(modules))
    np.testing.assert_array_equal(picture[np.ix_(centres, centres)] < 128, modules)  # dark exactly where the code is


# A lesson reads in 150 lines, and 8 more for what it reports to its tasks (lib/tasks/catalogue:
# the facts its checks read). Pages that truly need more: Evaluate (three kinds of model, each with
# its own message when it cannot be graded, and one input fed two ways: a test image, a drawing);
# Save & load (six sections: save, inside the file, back, a classmate's upload, training on,
# optimizer restarts); Training (live curves, batches, the runs compared on validation, and the
# run kept with its one test score, or why there is none yet); Activations and Optimizers, drawn in
# parts that redraw alone (lib/ui/parts.py: a function a part, what it returns for the page's code),
# Optimizers' race a picture with its legend and Play (an animation drawn only when asked).
PAGE_LINES = 150 + 8
LONGER_PAGES = {"lessons/evaluate.py": 180 + 8, "lessons/save-load.py": 160 + 8, "lessons/training.py": 155 + 8,
                "lessons/activations.py": 180 + 8, "lessons/optimizers.py": 185 + 8, "lessons/filters.py": 165 + 8}


def test_every_lesson_file_reads_like_the_lesson_within_its_lines():
    lengths = {info.file: len((ui.ROOT / info.file).read_text().splitlines()) for info in ui.PAGES}
    assert all(n <= LONGER_PAGES.get(page, PAGE_LINES) for page, n in lengths.items()), lengths


def test_when_the_class_has_left_the_server_forgets_its_figures(monkeypatch):
    from lib import server

    forgotten = []
    monkeypatch.setattr(server, "on_class_left", [])
    server.when_class_leaves(lambda: forgotten.append("forget"))
    server.when_class_leaves(server.on_class_left[0])  # asked again at every rerun: kept once
    busy = False
    for sessions in (3, 0, 0, 2, 0):  # a class, gone, still nobody, a new student, gone
        busy = server._after_period(busy, sessions)
        forgotten.append(sessions)
    # once when the last session went, not again while nobody came, again after the next one left
    assert forgotten == [3, "forget", 0, 0, 2, "forget", 0]


def test_the_warm_ups_head_starts_run_once_each_and_one_that_fails_is_logged_not_fatal(monkeypatch, caplog):
    """What runs once Keras is imported (the Optimizers page's first walks) is kept once however
    often the entry point asks; a step that raises is logged and the next still runs, so the class
    model after them is still trained."""
    from lib import server

    ran = []
    monkeypatch.setattr(server, "on_imported", [])
    monkeypatch.setattr(server, "imported", threading.Event())  # this process's own warm-up may be done

    def broken():
        raise RuntimeError("no walk today")

    def walk():
        ran.append("walked")

    for _ in range(3):  # every rerun of the entry point asks again
        server.once_imported(broken)
        server.once_imported(walk)
    assert server.on_imported == [broken, walk]
    server._run_each(server._set(server.imported, server.on_imported))  # what the warm-up thread does
    assert ran == ["walked"]
    assert "warm-up step" in caplog.text and "no walk today" in caplog.text


def test_a_head_start_asked_for_after_the_warm_up_passed_it_runs_at_once_and_once(monkeypatch):
    """A replica prepares at its process's start (deploy/replica.py), before the entry point has
    asked for anything: what the first page asks for later must still run, in the background."""
    from lib import server

    monkeypatch.setattr(server, "on_ready", [])
    monkeypatch.setattr(server, "class_model_ready", threading.Event())
    started = threading.Event()
    ran = []

    def start_worker():
        ran.append(threading.current_thread().name)
        started.set()

    assert server._set(server.class_model_ready, server.on_ready) == []  # the warm-up thread got there first
    for _ in range(3):  # every rerun of the entry point asks again
        server.once_ready(start_worker)
    assert started.wait(10), "the action asked for after the warm-up was never run"
    time.sleep(0.2)
    assert ran == ["warm-up, late"]  # once, in a thread of its own


def test_a_head_start_waits_while_a_page_is_being_run_and_no_longer_than_its_limit(monkeypatch):
    """A student who opens a page while the server prepares is served first: the warm-up's next
    step starts when no page is running, however the page's run ended (here: it raised)."""
    from lib import server

    ran = threading.Event()
    step = threading.Thread(target=server._run_each, args=([ran.set],), daemon=True)
    with pytest.raises(RuntimeError, match="the page stopped"):
        with server.page_running():
            step.start()
            assert not ran.wait(0.5), "the head start ran while a page was being run"
            raise RuntimeError("the page stopped")
    assert ran.wait(5), "the head start did not run once the page had ended"

    monkeypatch.setattr(server, "QUIET_MOMENT_LIMIT_S", 0.3)  # a class that never stops nudging
    ran.clear()
    with server.page_running():
        started = time.monotonic()
        threading.Thread(target=server._run_each, args=([ran.set],), daemon=True).start()
        assert ran.wait(5), "the head start waited past its limit"
        assert time.monotonic() - started >= 0.3
    assert "with server.page_running():" in (ui.ROOT / "streamlit_app.py").read_text()


def test_while_the_server_has_no_session_its_idle_actions_run_every_period(monkeypatch):
    from lib import server

    asked = []
    monkeypatch.setattr(server, "on_class_left", [])
    monkeypatch.setattr(server, "on_idle", [])
    server.while_idle(lambda: asked.append("idle?"))
    server.while_idle(server.on_idle[0])  # asked again at every rerun: kept once
    busy = False
    for sessions in (0, 3, 0, 0, -1, 1):  # nobody yet, a class, gone, still nobody, unknown, a student
        busy = server._after_period(busy, sessions)
        asked.append(sessions)
    assert asked == ["idle?", 0, 3, "idle?", 0, "idle?", 0, -1, 1]
    assert "server.while_idle(ui.drop_class_drawings)" in (ui.ROOT / "streamlit_app.py").read_text()


def test_the_entry_point_hands_the_pages_caches_to_the_server():
    assert "server.when_class_leaves(ui.forget_figures)" in (ui.ROOT / "streamlit_app.py").read_text()


def test_forget_figures_drops_what_every_session_shared_and_a_bare_process_has_no_sessions():
    from lib import server, ui

    built = []

    @ui.shared_figure
    def figure(n):
        built.append(n)
        return {"n": n}

    figure(2), figure(2)
    ui.forget_figures()
    figure(2)
    assert built == [2, 2]
    assert server._sessions() == -1  # no Streamlit runtime here: never taken for "nobody"


def test_streamlit_does_not_collect_every_object_after_every_run():
    """A full collection after each script run walked a whole class's objects with the GIL held
    (56 % of the server's time with 30 students): .streamlit/config.toml turns it off."""
    import tomllib

    from lib.ui import ROOT

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False


def test_a_page_opened_while_the_server_warms_up_keeps_its_place_on_the_next_run(monkeypatch):
    """The note a page shows while Keras loads leaves its place behind, empty, on the runs after:
    one element fewer above the page made the browser draw the whole page anew (every chart) at
    the student's first nudge."""
    import threading

    from streamlit.testing.v1 import AppTest

    from lib import server
    from tests.helpers import ROOT

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.switch_page("lessons/pooling.py")
    monkeypatch.setattr(server, "imported", threading.Event())  # Keras not imported yet
    at.run()
    cold = [node.type for node in at.main.children.values()]  # (the note is cleared once the page has run)
    server.imported.set()
    at.run()
    warm = [node.type for node in at.main.children.values()]
    assert not at.exception and cold == warm, (cold, warm)
