"""The Evaluate page's tasks, reached through the page (tests/test_tasks.py; see pooling.py for
what each table holds). The graded model is the class model (seeded: the same on every server
with the same digits); its numbers are a `Like` (tests/task_cases/training.py), to two decimals."""
from tests.task_cases import Like

NEAR_MISSES = {
    # a mistake, but an unsure one (0.85 on the wrong class): its loss is only about 2
    "evaluate.costly_mistake": ([("evaluate.image", 38)],
                                Like(r"loss of this image: [1-3]\.\d\d, [2-4]\.\d\d to go \(goal: at least 5\.00\)\.")),
    "evaluate.surest_mistake": ([("evaluate.image", 0)], "Guess first, then run it."),
}
REACH = {"evaluate.costly_mistake": [("evaluate.image", 540)]}  # by hand: "show me" reads the model
GUESSES = {"evaluate.surest_mistake": ("50_90", "You said 50–90 %; the page computed 99 % or more. Not this time: look at "
                                                "the picture to see why.")}
DONE_LINES = {
    "evaluate.costly_mistake": Like(r"Done: Test image 540: the answer key says 4, the model says 2 with probability "
                                    r"(1\.000|0\.99\d); this one image's loss is \d+\.\d\d\."),
}
