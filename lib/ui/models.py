"""The models a page can look at beside its own, and their mock exams: the class model (graded
once per server), the newest model of the Training page, the file loaded on Save & load (graded
once per session). A stranger's file is graded by its own process (lib.saving.Sandboxed)."""
import streamlit as st

from lib import data, evaluate

TRAINING_RUN = "training.run"  # the Training page's live run: the models trained there, which other pages use
LOADED_MODEL = "loaded_model"  # the model loaded on the Save & load page: a lib.saving.Loaded
EXAMS = "ui.exams"  # session key: {what was graded: its Report}, one entry (the model looked at now)


def trained():
    """The newest finished entry of the Training page's live run (its run and job), or None."""
    finished = [e for e in st.session_state.get(f"{TRAINING_RUN}.runs", []) if e.run.result]
    return finished[-1] if finished else None


def loaded():
    """The model loaded on the Save & load page (a lib.saving.Loaded), or None."""
    return st.session_state.get(LOADED_MODEL)


@st.cache_resource(show_spinner=False, max_entries=2)
def class_exam(dataset):
    """The class model on its mock exam: graded once per server, not on every rerun."""
    d = data.load_dataset(dataset)
    return evaluate.report(evaluate.class_model(dataset).model, d.x_test, d.y_test)


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
