"""The pages of the app, in the seed's flow: what each one is, where its file lives, what it needs
before it can compute, and which ones a host hid."""
import dataclasses
import functools
import os
import pathlib

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

ROOT = pathlib.Path(__file__).resolve().parents[2]


# Pages a host leaves out of the menu, by URL path: KERAS_CLASSROOM_HIDE=save-load on a small host
# (that page starts a model-loading process of its own), or lessons a class has not reached yet.
HIDDEN = {p.strip().strip("/") for p in os.environ.get("KERAS_CLASSROOM_HIDE", "").split(",")} - {""}


@dataclasses.dataclass(frozen=True)
class PageInfo:
    id: str  # catalog key prefix and glossary link target
    file: str
    url_path: str
    icon: str
    section: str
    needs: str = "keras"  # what it computes with: "keras", "class_model" (trained once per server), or "" (nothing heavy)


# The seed's flow. A page whose file does not exist yet is simply not listed.
PAGES = (
    PageInfo("overview", "lessons/overview.py", "", ":material/account_tree:", "start", needs=""),
    PageInfo("model", "lessons/model.py", "model", ":material/stacks:", "build"),
    PageInfo("filters", "lessons/filters.py", "filters", ":material/blur_on:", "build", needs="class_model"),
    PageInfo("pooling", "lessons/pooling.py", "pooling", ":material/grid_view:", "build"),
    PageInfo("activations", "lessons/activations.py", "activations", ":material/show_chart:", "build"),
    PageInfo("losses", "lessons/losses.py", "losses", ":material/straighten:", "compile"),
    PageInfo("optimizers", "lessons/optimizers.py", "optimizers", ":material/route:", "compile"),
    PageInfo("training", "lessons/training.py", "training", ":material/model_training:", "train"),
    PageInfo("overfitting", "lessons/overfitting.py", "overfitting", ":material/ssid_chart:", "train"),
    PageInfo("evaluate", "lessons/evaluate.py", "evaluate", ":material/fact_check:", "use", needs="class_model"),
    PageInfo("regression", "lessons/regression.py", "regression", ":material/scatter_plot:", "use",
             needs=""),  # Keras only in the training workers, and for a finished run's test
    PageInfo("save_load", "lessons/save-load.py", "save-load", ":material/save:", "use", needs="class_model"),
    PageInfo("glossary", "lessons/glossary.py", "glossary", ":material/menu_book:", "reference", needs=""),
)

SECTIONS = ("start", "build", "compile", "train", "use", "reference")


@functools.lru_cache(maxsize=4)
def _built(root):
    """The ids of the pages whose file exists under `root`, looked up once: asked on every run (the
    menu, links, the tasks checklist), a disk lookup per page cost a class's server 2-7 % of its
    time under bench/class_load.py."""
    return frozenset(p.id for p in PAGES if (root / p.file).exists())


LESSON = "lesson"  # session key: the lib.classroom.lessons.Lesson this session's link opened, if any


def session_lesson():
    """The lesson of this session's link (lib/ui/lesson.py), or None (none, or outside a page run)."""
    return st.session_state.get(LESSON) if get_script_run_ctx() is not None else None


def available_pages():
    """The pages that exist, the host did not hide (the overview stays) and this session's lesson
    shows, in the seed's order."""
    lesson = session_lesson()
    return [p for p in PAGES if p.id in _built(ROOT) and (p.url_path not in HIDDEN or not p.url_path)
            and (lesson is None or lesson.shows(p.id))]


def page_info(page_id):
    return next(p for p in PAGES if p.id == page_id)


def page_of(url_path):
    """The id of the lesson page at `url_path` (its address, as st.navigation names it), else None.
    The menu's default page has the address "" whatever its own: the overview, or the first page of a
    lesson that leaves the overview out."""
    if not url_path:
        shown = available_pages()
        return shown[0].id if shown else None
    return next((p.id for p in PAGES if p.url_path == url_path), None)


def is_available(page_id):
    return any(p.id == page_id for p in available_pages())
