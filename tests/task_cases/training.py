"""The Training page's tasks, reached through the page (tests/test_tasks.py; see pooling.py for
what each table holds). Every run is on the 8×8 digits and takes a few seconds; a line with a
trained number in it is a `Like`: the exact words, the number only within its goal's side."""
from tests.task_cases import Like




TRAIN = ("click", "training.run.start")
NEAR_MISSES = {
    # the study note's MLP learns it in 5 epochs, but with 410 parameters too many
    "training.small": ([("training.epochs", 5), TRAIN],
                       "parameters: 2,410, 410 too much (goal: at most 2,000)."),
    # the full batch at the default learning rate: 20 steps in all are too few (0.854 here)
    "training.one_step": ([("training.model", "mlp"), ("training.lr", 0.01), ("training.batch", 0),
                           ("training.epochs", 20), TRAIN],
                          Like(r"validation accuracy: 0\.(8\d\d|9[01]\d), 0\.\d{3} to go \(goal: at least 0\.930\)\.")),
    # run at the question's settings before guessing: still waiting for the guess
    "training.too_fast": ([("training.model", "mlp"), ("training.batch", 32), ("training.optimizer", "SGD"),
                           ("training.lr", 10.0), ("training.epochs", 3), TRAIN],
                          "Guess first, then run it."),
}
REACH = {
    "training.small": [("training.model", "cnn"), ("training.epochs", 5), ("training.lr", 0.03), TRAIN],
    "training.one_step": [("training.model", "mlp"), ("training.batch", 0), ("training.epochs", 20),
                          ("training.lr", 0.1), TRAIN],
}
GUESSES = {"training.too_fast": ("high", "You said above 0.9: it learns as well as ever; the page computed about 0.1: no "
                                         "better than guessing. Not this time: look at the picture to see why.")}
DONE_LINES = {
    "training.small": Like(r"Done: validation accuracy 0\.9[5-9]\d with 1,370 parameters in 5 epochs\."),
    "training.one_step": Like(r"Done: 1 step per epoch, 20 epochs: validation accuracy 0\.9[3-9]\d\."),
}
