"""Fixtures shared by the test files."""
import atexit
import dataclasses
import os
import shutil
import tempfile

import pytest

# Every figure a test builds is checked against Plotly's schema (a running server skips the check
# for speed): a property Plotly does not know fails the test instead of vanishing in the browser.
os.environ["KERAS_CLASSROOM_VALIDATE_FIGURES"] = "1"
# The class's store of the app under test (its pages under AppTest, the servers the browser tests
# start) lives in memory: a test run leaves no file behind. tests/test_store.py opens each home.
os.environ["KERAS_CLASSROOM_STORE"] = "memory://"
# The app's folder (where a server keeps the class model it trained, lib/class_model.py): one of
# the test run's own, gone after it, so a run neither reads a model an earlier run kept nor leaves
# one behind; within the run, the servers the tests start read the one the first of them kept.
os.environ["KERAS_CLASSROOM_DATA"] = tempfile.mkdtemp(prefix="keras-classroom-tests-")
atexit.register(shutil.rmtree, os.environ["KERAS_CLASSROOM_DATA"], ignore_errors=True)


# A run's time budget is the shared server's policy (15-20 s on the pages), counted in wall-clock
# seconds, so on a busy machine it stops runs earlier in their epochs. The tests judge what runs
# learn and print, never how fast: a run started in the test process (a test's own runner or a
# page's under AppTest) with a budget a page may give is not stopped by any (UNTIMED_S). Giving
# it the most a run may have (60 s) was not enough: beside a 30-student load test, 200 epochs of
# the overfitting curve stopped at epoch 125 ("budget" where the test asserts "done"). The budget's
# own tests set budgets of a few seconds (below BUDGETS_UNDER_TEST_S) and assert that the run is
# stopped by it and says so; a budget no run may have is left as it is, to be refused.
BUDGETS_UNDER_TEST_S = 5.0
UNTIMED_S = 24 * 3600.0
# A run that is not stopped by its budget is stopped by the test's deadline (pytest.ini's
# timeout) if its worker hangs: the server's grace after the budget is then never reached.
GRACE_UNDER_TEST_S = 240.0


@pytest.fixture(autouse=True, scope="session")
def _runs_are_not_stopped_by_their_budget():
    import sys

    from lib import training
    from lib.training.job import Job
    from lib.training.runner import Runner

    runner_module = sys.modules[Runner.__module__]  # (`lib.training.runner` is also a function's name)

    submit, checked, grace = Runner.submit, Job.checked, runner_module.GRACE_SECONDS
    runner_module.GRACE_SECONDS = GRACE_UNDER_TEST_S

    def patient_submit(self, job, session=None):
        if BUDGETS_UNDER_TEST_S <= job.budget_s <= training.MAX_SECONDS:  # (an impossible one stays refused)
            job = dataclasses.replace(checked(job), budget_s=UNTIMED_S)
        return submit(self, job, session)

    def checked_or_untimed(job):
        """Job.checked, for a job this fixture made untimed: its other limits, checked."""
        if job.budget_s == UNTIMED_S:
            return dataclasses.replace(checked(dataclasses.replace(job, budget_s=training.MAX_SECONDS)),
                                       budget_s=UNTIMED_S)
        return checked(job)

    Runner.submit, Job.checked = patient_submit, checked_or_untimed
    yield
    Runner.submit, Job.checked, runner_module.GRACE_SECONDS = submit, checked, grace


@pytest.fixture(autouse=True, scope="session")
def _pages_rerun_whole_under_apptest():
    """AppTest (Streamlit 1.67) takes the output of a rerun of a page's named parts for the whole
    page, and the page tests look at whole pages: under it a control reruns what Streamlit chooses
    (lib/ui/parts.py). The parts themselves are checked in Chromium (tests/test_browser.py)."""
    from lib.ui import parts

    parts.RERUN_NAMED_PARTS = False
    yield
    parts.RERUN_NAMED_PARTS = True


@pytest.fixture(scope="module")
def runner():
    """The test process's shared runner, the one its pages use under AppTest: its worker is warm,
    and a job a page or another test of the file has trained is followed, not trained again (as
    on a server). tests/test_runner.py, which judges the runner itself, has one of its own."""
    from lib import training

    return training.runner()


# With two test files at once (pytest.ini), the suite ends when its last file does: the longest
# files start first (alone, in a clean clone's one-process run on 2 cores: 384, 187, 169, 152,
# 146, 145, 117, 75 and 73 s), the rest after them in their usual order. (pytest-xdist's own
# order, by the number of tests, started the 126 quick pooling tests first and the browser last.)
LONGEST_FIRST = ("test_browser.py", "test_edges.py", "test_overfitting.py", "test_saving.py", "test_sandbox.py",
                 "test_runner.py", "test_deploy.py", "test_evaluate.py", "test_teacher_room.py", "test_optimizers.py",
                 # then the heavy ones that came last in the usual (alphabetical) order: a heavy last file
                 # left the other worker idle at the end
                 "test_save_load_truths.py", "test_sessions.py", "test_training.py", "test_tasks.py")


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a file keeps its order
