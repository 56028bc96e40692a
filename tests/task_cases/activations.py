"""The Activations page's tasks, reached through the page (tests/test_tasks.py; the format is
tests/task_cases/pooling.py's)."""
NEAR_MISSES = {
    "activations.sure": ([("activations.temperature", 0.4)],
                         "probability of the true class: 0.896, 0.054 to go (goal: at least 0.950)."),
    "activations.tanh_slope": ([("activations.x", 0.0)], "Guess first, then run it."),
    "activations.vanish": ([("activations.third", "sigmoid"), ("activations.depth", 4)],
                           "First break it. The first layer's gradient: 2.8e-03, 1.8e-03 too much "
                           "(goal: below 1.0e-03)."),
}
REACH = {"activations.vanish": [("activations.depth", 8), ("activations.third", "relu")]}
GUESSES = {"activations.tanh_slope": (0.25, "You said 0.25; the page computed 1. Not this time: look at the picture to see why.")}
DONE_LINES = {
    "activations.sure": "Done: Class 0 gets probability 0.957; its cross-entropy loss is 0.043.",
    "activations.vanish": "Done: relu with 8 layers: the first layer's gradient is 4.6e-02.",
}
