"""The Regression page's tasks, reached through the page (tests/test_tasks.py): see
tests/task_cases/pooling.py for what each table holds. Each run is short (10 to 30 epochs)."""
TRAIN = ("click", "regression.run.start")
NEAR_MISSES = {
    "regression.quick": ([("regression.epochs", 10), ("regression.depth", 3), TRAIN],
                         "validation MAE of your last run (MPG): 2.61, 0.11 too much (goal: at most 2.50)."),
    "regression.one_input": ([("regression.inputs", ["weight"]), ("regression.depth", 2),
                              ("regression.epochs", 30), TRAIN],
                             "validation MAE of your last run (MPG): 3.40, 0.05 too much (goal: at most 3.35)."),
    "regression.weights": ([("regression.inputs", ["weight"])], "Guess first, then run it."),
}
REACH = {
    "regression.quick": [("regression.depth", 4), TRAIN],
    "regression.one_input": [("regression.inputs", ["horsepower"]), TRAIN],
}
GUESSES = {"regression.weights": (577, "You said 577; the page computed 4,353. Not this time: look at the picture to see why.")}
DONE_LINES = {
    "regression.quick": "Done: Validation MAE 2.30 MPG after only 10 epochs.",
    "regression.one_input": "Done: One input, validation MAE 3.29 MPG after 30 epochs.",
}
