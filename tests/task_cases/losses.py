"""The Loss & metrics page's tasks, reached through the page (tests/test_tasks.py): see
tests/task_cases/pooling.py for what each table holds."""
NEAR_MISSES = {
    "losses.confident_mistake": ([("losses.p", 0.02)],
                                 "cross-entropy: 3.91, 0.09 to go (goal: at least 4.00)."),
    "losses.robust_line": ([("losses.outlier", True), ("losses.slope", 2.0), ("losses.intercept", 1.0)],
                           "MAE: 0.603, 0.003 too much (goal: at most 0.600)."),
    "losses.heaviest": ([("losses.outlier", True)], "Guess first, then run it."),
}
REACH = {}
GUESSES = {"losses.heaviest": ("mae", "You said MAE; the page computed MSE. Not this time: look at the picture to see why.")}
DONE_LINES = {
    "losses.confident_mistake": "Done: p = 0.01: cross-entropy 4.61, squared error only 0.98.",
    "losses.robust_line": "Done: slope 1.9, intercept 1.0: MAE 0.593. The line runs through the ten points "
                          "and leaves the outlier alone (MSE there: 2.321).",
}
