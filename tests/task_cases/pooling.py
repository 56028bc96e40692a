"""The Pooling page's tasks, reached through the page (tests/test_tasks.py).

NEAR_MISSES: task id → (moves, the message shown in English): moves are (URL key, value) pairs
set on the page's controls, or ("click", button key); the near miss must not count as done.
REACH: task id → moves that reach it (default: the task's "show me" settings, moved by hand).
GUESSES: a prediction's id → (the guess locked in, the verdict shown in English[, moves after the
         guess that reveal the answer, e.g. [("click", "training.train")]]).
DONE_LINES: task id → the "done" line shown in English once it is reached.
"""
NEAR_MISSES = {
    "pooling.quarter": ([("pooling.pool_size", 3), ("pooling.strides", 0)],
                        "times narrower: 3.05, 0.95 to go (goal: at least 4.00)."),
    "pooling.count_windows": ([("pooling.pool_size", 3), ("pooling.strides", 1)],
                              "Guess first, then run it."),
    "pooling.steady": ([("pooling.pool_size", 3)],
                       "pooled change ÷ raw change: 0.45, 0.10 too much (goal: at most 0.35)."),
    "pooling.overlap": ([("pooling.pool_size", 2), ("pooling.strides", 1)],
                        "pool_size: 2, 1 to go (goal: at least 3)."),
}
REACH = {}
GUESSES = {"pooling.count_windows": (9, "You said 9; the page computed 36. Not this time: look at the picture to see why.")}
DONE_LINES = {
    "pooling.quarter": "Done: 85×128 → 21×32: 4.00 times narrower.",
    "pooling.steady": "Done: A one-pixel shift changes the pooled picture 0.32 times as much as the raw one.",
    "pooling.overlap": "Done: pool_size 3 keeps 96% of the numbers: 85×128 → 83×126.",
}
