"""The models a page can look at beside its own, and their mock exams: the class model (graded
once per computer), the newest model of the Training page, the file loaded on Save & load (graded
once per session). A stranger's file is graded by its own process (lib.saving.Sandboxed)."""
import streamlit as st

from lib import class_exam as kept_exams
from lib import data, evaluate
from lib.ui.state import LOADED_MODEL, TRAINING_RUN, loaded, trained  # noqa: F401  (their old home)

EXAMS = "ui.exams"  # session key: {what was graded: its Report}, one entry (the model looked at now)


def class_exam(dataset):
    """The class model on its mock exam: graded once per computer (lib.class_exam), not on every rerun."""
    return kept_exams.graded(dataset)


def session_exam(passes, dataset, test_size, graded):
    """A student's model (its lib.passes) on its mock exam: graded once, kept in the session under
    `graded` (what it is: ("run", id), ("file", digest)). A session keeps one exam, not one per model
    it ever looked at."""
    exams = st.session_state.setdefault(EXAMS, {})
    if graded not in exams:
        d = data.load_dataset(dataset, test_size=test_size)
        exams.clear()
        exams[graded] = evaluate.report(passes, d.x_test, d.y_test)
    return exams[graded]
