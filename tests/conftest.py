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
