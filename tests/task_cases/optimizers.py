"""The Optimizers page's tasks, reached through the page (tests/test_tasks.py): see
tests/task_cases/pooling.py for what each table holds. too_fast's near miss is broken, not yet
fixed (the test forgets progress after the near miss, so the fix starts from this break)."""
NEAR_MISSES = {
    "optimizers.too_fast": ([("optimizers.lr", 3.0)], "Broken. Now fix it with one change."),
    "optimizers.first_off": ([("optimizers.lr", 1.0)], "Guess first, then run it."),
    "optimizers.banana": ([("optimizers.surface", "rosenbrock"), ("optimizers.steps", 600)],
                          "closest distance to the minimum: 0.058, 0.008 too much (goal: at most 0.050)."),
}
REACH = {}
GUESSES = {"optimizers.first_off": ("SGD", "You said SGD; the page computed Nesterov. Not this time: look at the picture to see why.")}
DONE_LINES = {
    "optimizers.too_fast": "Done: At learning rate 0.3 SGD ends 0.000 from the minimum; one notch higher, it "
                           "bounces between two points forever.",
    "optimizers.banana": "Done: An optimizer ended 0.038 from the minimum at (1, 1), after 700 steps at "
                         "learning rate 0.001.",
}
