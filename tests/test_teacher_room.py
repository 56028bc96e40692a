"""The teacher's room in a real browser: a teacher and three students on one `streamlit run`
server (the class's store in its memory). The class view counts the students and their tasks as
they do them, "bring the class here" reaches all three, a lesson link hides a page, a wrong key is
refused. (Across two replicas and Redis: tests/test_deploy.py.)"""
import pytest

from lib import i18n
from tests.helpers import wait_until
from tests.test_browser import browser, new_tab, settle, streamlit_server  # noqa: F401  (browser: a fixture)

pytestmark = pytest.mark.browser
KEY = "a teacher's key for this test"


@pytest.fixture(scope="module")
def server(browser):  # noqa: F811
    with streamlit_server(env={"KERAS_CLASSROOM_TEACHER_KEY": KEY, "KERAS_CLASSROOM_STORE": "memory://"}) as base:
        yield base


def _open(browser, url):  # noqa: F811
    """A new browser (its own cookies: its own student) on `url`, settled."""
    tab = new_tab(browser)
    tab.goto(url)
    settle(tab)
    return tab


def _text(tab, where="stApp"):
    return tab.inner_text(f'[data-testid="{where}"]')


def _wait_for(tab, condition, message, timeout=60):
    """Poll `condition()` while the tab goes on (a timed fragment reruns by itself): a deadline."""
    return wait_until(condition, timeout, message, interval=0.2, pause=lambda s: tab.wait_for_timeout(s * 1000))


def _metrics(tab):
    labels = tab.locator('[data-testid="stMetricLabel"]').all_inner_texts()
    values = tab.locator('[data-testid="stMetricValue"]').all_inner_texts()
    return dict(zip(labels, values))


def _sidebar_button(tab, text):
    return tab.locator('[data-testid="stSidebar"] button', has_text=text).first


def _menu(tab):
    return [text.split("\n")[-1] for text in tab.locator('[data-testid="stSidebarNav"] a').all_inner_texts()]


def test_a_teacher_sees_three_students_moves_them_and_a_lesson_link_hides_a_page(browser, server):  # noqa: F811
    students = [_open(browser, f"{server}/{path}?lang={lang}")
                for path, lang in (("pooling", "en"), ("losses", "ko"), ("activations", "en"))]
    teacher = _open(browser, f"{server}/teacher?lang=en")
    password = teacher.locator('input[type="password"]')
    password.fill("not the key")
    password.press("Enter")
    settle(teacher)
    assert "That is not the teacher's key." in _text(teacher, "stMain")
    assert not teacher.locator('[data-testid="stMetricValue"]').count()
    password.fill(KEY)
    password.press("Enter")
    _wait_for(teacher, lambda: _metrics(teacher).get("Students here") == "3",
              lambda: f"the class view did not count three students: {_metrics(teacher)}")
    assert _metrics(teacher)["Tasks done"] == "0"

    first = students[0]  # does a task, as a student who is stuck does: two hints, then "show me"
    _sidebar_button(first, "A quarter of the width, in one layer").click()
    settle(first)
    for text in ("A hint", "Another hint", "Show me"):
        _sidebar_button(first, text).click()
        settle(first)
    _wait_for(teacher, lambda: _metrics(teacher).get("Tasks done") == "1",
              lambda: f"the class view did not count the task done: {_metrics(teacher)}")

    teacher.locator('[data-testid="stSidebarNav"] a', has_text="Optimizers").first.click()
    settle(teacher)
    _sidebar_button(teacher, "Bring the class here").click()
    settle(teacher)
    for tab, lang in zip(students, ("en", "ko", "en")):  # each page asks the store every 10 s by itself
        said = i18n.translate("follow.teacher_is_on", lang, page=i18n.translate("nav.optimizers", lang))
        _wait_for(tab, lambda: said.replace("**", "") in _text(tab), f"a student was not asked to follow: {said}")
    follower = students[2]
    follower.locator('[data-testid="stMain"] button', has_text="Follow").first.click()
    settle(follower)
    assert follower.locator('[data-testid="stMain"] h1').first.inner_text() == "Optimizers"

    teacher.goto(f"{server}/teacher?lang=en")  # (a new session: the key again)
    settle(teacher)
    teacher.locator('input[type="password"]').fill(KEY)
    teacher.locator('input[type="password"]').press("Enter")
    settle(teacher)
    pages = teacher.locator('[data-testid="stMultiSelect"]', has_text="Pages of the lesson")
    pages.locator('[aria-label="Clear all"]').click()  # every page, then the lesson's two: three runs, not eleven
    settle(teacher)
    for info in ("Pooling", "Loss & metrics"):
        pages.locator("input").fill(info)
        pages.locator("input").press("Enter")
        settle(teacher)
    teacher.locator('[data-testid="stMain"] button', has_text="Make the lesson link").click()
    settle(teacher)
    link = next(code for code in teacher.locator('[data-testid="stCode"]').all_inner_texts() if "?lesson=" in code)
    assert link.startswith(f"{server}/?lesson=") and link.endswith("&lang=en"), link
    student = _open(browser, link.strip())
    assert _menu(student) == ["Pooling", "Loss & metrics"]
    assert student.locator('[data-testid="stMain"] h1').first.inner_text() == "Pooling"  # the lesson's first page
    lesson = link.split("?lesson=")[1].split("&")[0]
    student.goto(f"{server}/activations?lesson={lesson}&lang=en")  # a page the lesson leaves out, by its address
    settle(student)
    assert student.locator('[data-testid="stMain"] h1').first.inner_text() == "Pooling"
    assert _menu(student) == ["Pooling", "Loss & metrics"]
    for tab in (*students, teacher, student):
        assert tab.locator('[data-testid="stException"]').count() == 0
        tab.close()
