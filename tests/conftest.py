"""Fixtures shared by the test files."""
import os

import pytest

# Every figure a test builds is checked against Plotly's schema (a running server skips the check
# for speed): a property Plotly does not know fails the test instead of vanishing in the browser.
os.environ["KERAS_CLASSROOM_VALIDATE_FIGURES"] = "1"


@pytest.fixture(scope="module")
def runner():
    """A training runner of the test module's own with one slot: one run at a time, the rest wait."""
    from lib import training

    return training.Runner(slots=1)


# With two test files at once (pytest.ini), the suite ends when its last file does: the longest
# files start first (alone, in a clean clone's one-process run on 2 cores: 384, 187, 169, 152,
# 146, 145, 117, 75 and 73 s), the rest after them in their usual order. (pytest-xdist's own
# order, by the number of tests, started the 126 quick pooling tests first and the browser last.)
LONGEST_FIRST = ("test_browser.py", "test_edges.py", "test_overfitting.py", "test_saving.py", "test_sandbox.py",
                 "test_runner.py", "test_deploy.py", "test_evaluate.py", "test_optimizers.py")


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a file keeps its order
