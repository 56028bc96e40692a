"""The Overfitting page's tasks, reached through the page (tests/test_tasks.py; see pooling.py for
what each table holds). The digits runs are 10 and 20 epochs on 100 images; a line with a trained
number in it is a `Like` (tests/task_cases/training.py)."""
from tests.task_cases import Like

TRAIN = ("click", "overfitting.run.start")
NEAR_MISSES = {
    # 10 epochs stop before validation loss turns back up: nothing broken yet
    "overfitting.break_cure": ([("overfitting.epochs", 10), TRAIN],
                               Like(r"First break it\. epochs past the lowest validation loss, training loss still "
                                    r"falling: [0-2], [1-3] to go \(goal: at least 3\)\.")),
    "overfitting.dropout_scale": ([("overfitting.dropout", True)], "Guess first, then run it."),
}
REACH = {  # break it (20 epochs as the model is), then cure it with one switch
    "overfitting.break_cure": [("overfitting.epochs", 20), TRAIN, ("overfitting.dropout", True), TRAIN],
}
GUESSES = {"overfitting.dropout_scale": (1.0, "You said 1 (unchanged); the page computed 1.25. Not this time: look at the "
                                              "picture to see why.")}
DONE_LINES = {
    "overfitting.break_cure": Like(r"Done: After the cure, validation loss went up for [01] epochs past its lowest; "
                                   r"the kept epoch scores 0\.\d{3} on validation\."),
}
