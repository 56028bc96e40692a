"""The Model & layers page's tasks, reached through the page (tests/test_tasks.py; the format is
tests/task_cases/pooling.py's). A layer's controls are keyed by its row's id in the session:
the study note's model opens as rows 0..3, and the Small CNN preset clicked next makes rows 4..10
(its second Conv2D is row 6)."""
NEAR_MISSES = {
    "model.slim": ([("model.L0.units", 7)],
                   "total parameters: 5,575, 575 too much (goal: at most 5,000)."),
    "model.small_cnn": ([("click", "model.preset_small_cnn"), ("model.L6.filters", 6)],
                        "total parameters: 2,028, 28 too much (goal: at most 2,000)."),
    "model.image_in": ([("model.input", "28x28x1")], "Guess first, then run it."),
}
REACH = {"model.slim": [("model.L0.units", 6)], "model.small_cnn": [("model.L6.filters", 5)]}
GUESSES = {"model.image_in": (25450, "You said 25,450; the page computed 394. Not this time: look at the picture to see why.")}
DONE_LINES = {
    "model.slim": "Done: 784 numbers in, 10 out, with 4,780 parameters.",
    "model.small_cnn": "Done: A 28×28×1 image in, 10 out, with 1,705 parameters.",
}
