"""The Save & load page's tasks (page id "save_load"), reached through the page
(tests/test_tasks.py; see pooling.py for what each table holds). Training on is 3 epochs of the
class model; its accuracies are a `Like` (tests/task_cases/training.py)."""
from tests.task_cases import Like

NEAR_MISSES = {
    "save_load.adam_slots": ([], "Guess first, then run it."),
    # the class model loaded back, not trained on yet: nothing to compare
    "save_load.train_on": ([("save_load.source", "class")], "Not measured yet: test accuracy gained by training on."),
}
REACH = {"save_load.train_on": [("click", "save_load.more.start")]}
GUESSES = {"save_load.adam_slots": (1, "You said 1 per weight; the page computed 2 per weight. Not this time: look at "
                                       "the picture to see why.")}
DONE_LINES = {
    "save_load.train_on": Like(r"Done: 3 more epochs from the loaded file: test accuracy 0\.9\d\d → 0\.9\d\d\."),
}
