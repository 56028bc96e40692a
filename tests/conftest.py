"""Fixtures shared by the test files."""
import pytest


@pytest.fixture(scope="module")
def runner():
    """A training runner of the test module's own with one slot: one run at a time, the rest wait."""
    from lib import training

    return training.Runner(slots=1)
