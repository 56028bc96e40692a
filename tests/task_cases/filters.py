"""The Convolution filters page's tasks, reached through the page (tests/test_tasks.py; the
format is tests/task_cases/pooling.py's)."""
NEAR_MISSES = {
    "filters.horizontal": ([("filters.kernel", "emboss")],
                           "answer to a vertical edge: 4.00, 3.99 too much (goal: at most 0.01)."),
    "filters.stride_width": ([("filters.image", "digit"), ("filters.stride", 2)],
                             "Guess first, then run it."),
}
REACH = {}
GUESSES = {"filters.stride_width": (4, "You said 4; the page computed 3. Not this time: look at the picture to see why.")}
DONE_LINES = {
    "filters.horizontal": "Done: The kernel answers a horizontal edge with 4.00 and a vertical one with 0.00.",
}
