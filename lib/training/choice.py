"""Choosing on validation: the rule every page that compares runs follows.

Runs (or racers, or epochs) are compared on their validation scores; the test data chooses
nothing. It is the final exam, scored once for the one that was chosen: a test score that had
chosen would flatter it, like a mock exam whose answers were seen before.
"""
import math


def best_on_validation(scores):
    """The index of the highest validation score; None-s and NaN-s never win, a tie goes to the
    first (as Python's max does in the shown code); None when nothing has a score."""
    ranked = [(score, -k) for k, score in enumerate(scores) if score is not None and math.isfinite(score)]
    return -max(ranked)[1] if ranked else None
