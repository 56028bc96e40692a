"""The code taken home: every code panel as a `.py` and as a Jupyter notebook, one cell a step.

The notebook is the shown code cut into steps (its cells joined are the code, character for
character), valid nbformat, and run cell after cell in a fresh Python it prints exactly what the
`.py` prints. The page offers both files, named for the page, in its language; a real browser
downloads them.
"""
import json
import textwrap

import nbformat
import pytest
from streamlit.testing.v1 import AppTest

from lib import filters, i18n, models, optimizers, snippets
from lib.snippets import notebook
from lib.training import Compile
from tests.helpers import open_page, run_snippet
from tests.test_browser import browser, new_tab, server, settle  # noqa: F401  (its fixtures too)

CELL_SECONDS = 240  # a deadline for one cell of a notebook run in a subprocess


def _digits_cnn():
    shape, layers = models.PRESETS["digits_cnn"]
    return [models.check_layer(layer, i) for i, layer in enumerate(layers, 1)], shape


def _shown(page, lang):
    """A page's real shown code, from lib.snippets with the settings a student typically has."""
    if page == "filters":
        return snippets.filters_snippet(source="china", kernel=filters.KERNELS["box_blur"], stride=1,
                                        padding="valid", pixel=(2, 3), lang=lang, factor=5)
    if page == "pooling":
        return snippets.pooling_snippet(image_how={"source": "digit", "digit_index": 3},
                                        conv=(filters.KERNELS["box_blur"], 1, "valid"), pool_size=2,
                                        strides=None, padding="valid", mode="max", lang=lang)
    if page == "optimizers":
        surface = optimizers.SURFACES["bowl"]
        racers = [("Adam", Compile("Adam", 0.1)), ("SGD", Compile("SGD", 0.1, {"momentum": 0.9}))]
        return snippets.trajectory_snippet(surface, racers, 0.1, 30, surface.start, lang)
    if page == "model":
        layers, shape = _digits_cnn()
        return snippets.model_snippet(layers, shape, lang, unit=("dense_4", 4, 0))
    if page == "overview":
        return snippets.pipeline_snippet(lang)
    if page == "training":
        from lib import training

        job = training.classifier_job(dataset="digits", layers=models.PRESETS["seed"][1],
                                      input_shape=(64,), learning_rate=0.01, epochs=5)
        return snippets.training_snippet(job, lang)
    if page == "activations":
        return snippets.activations_snippet(["relu", "sigmoid", "maxout"], 1.0, [1.0, 2.0, 3.0], 1.0, 0,
                                            lang)
    raise ValueError(page)


PAGES = ("filters", "pooling", "optimizers", "model", "overview", "training", "activations")


def _code_cells(book):
    return ["".join(cell["source"]) for cell in book["cells"] if cell["cell_type"] == "code"]


# --- The notebook is the shown code, cut into steps ----------------------------------------------

@pytest.mark.parametrize("lang", list(i18n.LANGUAGES))
@pytest.mark.parametrize("page", PAGES)
def test_the_notebook_is_the_shown_code_one_step_a_cell_each_after_what_it_does(page, lang):
    code = _shown(page, lang)
    book = nbformat.reads(notebook.notebook(code, lang), as_version=4)
    nbformat.validate(book)
    cells = _code_cells(book)
    assert "\n".join(cells) == code and notebook.script(code) == code.encode("utf-8")
    assert len(cells) >= 3
    kinds = [cell["cell_type"] for cell in book["cells"]]
    assert kinds == ["markdown"] + ["markdown", "code"] * len(cells)  # a note before every step
    for step, cell in zip(notebook.steps(code, lang), cells):
        compile(cell, "<cell>", "exec")  # every cell is whole Python: no step starts mid-statement
        if cell.startswith("## "):  # a template's heading titles its step, word for word
            assert step.title.replace("\\", "") == cell.split("\n")[0][3:]
    setup = book["cells"][1]["source"]
    assert setup.startswith(f"## {i18n.translate('code.notebook.setup', lang)}\n\n")


def test_the_image_of_the_filters_page_is_a_step_titled_by_its_own_comment():
    code = _shown("filters", "ko")
    titles = [step.title for step in notebook.steps(code, "ko")]
    assert titles[:3] == ["준비", i18n.translate("code.image.photo", "ko"),
                          i18n.translate("code.image.shrink", "ko", factor=5)]
    image = notebook.steps(code, "ko")[1].code
    assert image.startswith(f"# {i18n.translate('code.image.photo', 'ko')}\nrgb = load_sample_image(")


SAMPLE = '''"""A sample in the templates' shape.

More words."""
import numpy as np

SEED = 0
ROWS, COLS = 2, 3

from math import pi

# Make the data: 2*x_max [0, 1]
x = np.arange(ROWS * COLS)


def double(v):
    return 2 * v

def triple(v):
    return 3 * v


y = double(x)
(a, b), c = (1, 2), 3

## Print it
text = """
## inside a string: not a heading
"""
for v in triple(y):
## inside a loop: not a heading either
    print(v, pi > 3)
'''


def test_the_part_before_the_first_heading_is_cut_where_the_code_turns_to_something_new():
    steps = notebook.steps(SAMPLE, "en")
    assert [s.title for s in steps] == [
        "Setup", r"Make the data: 2\*x\_max \[0, 1\]",
        "Defines `double`, `triple`, then makes `y`, `a`, `b`, `c`", "Print it"]
    assert steps[0].note == i18n.translate("code.notebook.setup_settings", "en")
    assert steps[0].code.endswith("from math import pi\n")
    assert steps[1].code == "# Make the data: 2*x_max [0, 1]\nx = np.arange(ROWS * COLS)\n\n"
    assert steps[3].code.startswith("## Print it\n") and steps[3].code.endswith("print(v, pi > 3)\n")
    assert "\n".join(s.code for s in steps) == SAMPLE
    book = json.loads(notebook.notebook(SAMPLE, "ko"))
    assert book["cells"][0]["source"][0] == "# A sample in the templates' shape.\n"
    assert book["cells"][1]["source"] == ["## 준비\n", "\n", i18n.translate("code.notebook.setup_settings", "ko")]
    assert "".join(book["cells"][5]["source"]) == "## `double`, `triple` 정의하고 `y`, `a`, `b`, `c` 만들기"


def test_code_with_only_imports_and_definitions_or_that_does_not_parse_still_makes_a_notebook():
    imports_only = "import math\n"
    assert [s.title for s in notebook.steps(imports_only, "en")] == ["Setup"]
    assert notebook.steps(imports_only, "en")[0].note == i18n.translate("code.notebook.setup_imports", "en")
    broken = "print(1\n## never a step\n"
    assert notebook.steps(broken, "ko") == [notebook.Step(i18n.translate("code.notebook.whole", "ko"), broken)]
    nbformat.validate(nbformat.reads(notebook.notebook(broken, "en"), as_version=4))
    assert notebook.steps("", "en") == [notebook.Step(i18n.translate("code.notebook.next", "en"), "")]


def test_a_notebook_is_built_once_per_code_text():
    code = _shown("model", "en") + "\n# once"
    notebook.notebook.cache_clear()
    first = notebook.notebook(code, "en", "Model & layers")
    assert notebook.notebook(code, "en", "Model & layers") is first
    assert notebook.notebook.cache_info().misses == 1 and notebook.notebook.cache_info().hits == 1
    assert notebook.notebook.cache_info().maxsize == 64  # bounded
    assert json.loads(first)["cells"][0]["source"][0] == "# Model & layers\n"


# --- Run, it prints what the .py prints ------------------------------------------------------------

RUN_CELLS = textwrap.dedent('''
    import json, signal
    book = json.load(open({path!r}, encoding="utf-8"))
    namespace = {{"__name__": "__main__"}}

    def past_deadline(signum, frame):
        raise TimeoutError("a cell ran past its deadline")

    signal.signal(signal.SIGALRM, past_deadline)
    cells = ["".join(c["source"]) for c in book["cells"] if c["cell_type"] == "code"]
    for n, source in enumerate(cells, start=1):
        signal.alarm({seconds})
        exec(compile(source, f"<cell {{n}}>", "exec"), namespace)
        signal.alarm(0)
''')


@pytest.mark.parametrize("page, lang", [("filters", "en"), ("pooling", "ko"), ("optimizers", "ko")])
def test_the_notebook_run_cell_after_cell_prints_what_the_py_prints(page, lang, tmp_path):
    code = _shown(page, lang)
    script = tmp_path / f"keras-classroom-{page}.py"
    script.write_bytes(notebook.script(code))
    book = tmp_path / f"keras-classroom-{page}.ipynb"
    book.write_text(notebook.notebook(code, lang), encoding="utf-8")
    printed = run_snippet(f"import runpy; runpy.run_path({str(script)!r}, run_name='__main__')", tmp_path)
    from_cells = run_snippet(RUN_CELLS.format(path=str(book), seconds=CELL_SECONDS), tmp_path)
    assert len(printed.splitlines()) >= 2 and from_cells == printed


# --- On the page -----------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", list(i18n.LANGUAGES))
def test_the_code_panel_offers_the_py_and_the_notebook_named_for_the_page(lang):
    at = open_page(lang=lang)  # the overview calls ui.code_panel(code) without its page id
    buttons = {b.key: b for b in at.download_button}
    assert set(buttons) == {"keras-classroom-overview-py", "keras-classroom-overview-ipynb"}
    assert buttons["keras-classroom-overview-py"].label == i18n.translate("code.download.py", lang)
    assert buttons["keras-classroom-overview-ipynb"].label == i18n.translate("code.download.notebook", lang)
    assert buttons["keras-classroom-overview-py"].proto.url.endswith(".py")
    assert all(b.proto.ignore_rerun for b in buttons.values())  # a click does not rerun the page


@pytest.mark.browser
def test_a_real_browser_downloads_the_code_and_the_notebook_of_a_page(browser, server, tmp_path):  # noqa: F811
    tab = new_tab(browser)
    try:
        tab.goto(f"{server}/?lang=ko")
        settle(tab)
        code = snippets.pipeline_snippet("ko")
        files = {}
        for suffix, label in (("py", "code.download.py"), ("ipynb", "code.download.notebook")):
            button = tab.locator(f".st-key-keras-classroom-overview-{suffix}").get_by_role(
                "button", name=i18n.translate(label, "ko"))
            with tab.expect_download(timeout=60_000) as download:
                button.click()
            assert download.value.suggested_filename == f"keras-classroom-overview.{suffix}"
            download.value.save_as(tmp_path / download.value.suggested_filename)
            files[suffix] = (tmp_path / download.value.suggested_filename).read_bytes()
        assert files["py"] == code.encode("utf-8")
        book = nbformat.reads(files["ipynb"].decode("utf-8"), as_version=4)
        nbformat.validate(book)
        assert "\n".join(_code_cells(book)) == code
        assert book["cells"][0]["source"].startswith(f"# {i18n.translate('overview.title', 'ko')}\n")
    finally:
        tab.close()



def test_a_second_code_block_gets_files_of_its_own_and_no_heading():
    def app():
        from lib import ui

        ui.code_panel("print(1)\n", page_id="save_load", part="race", heading=False)
        ui.code_panel("print(2)\n")  # a script that is no page of the app: plain file names

    at = AppTest.from_function(app).run()
    assert not at.exception and len(at.subheader) == 1  # the second panel's only
    assert [b.key for b in at.download_button] == ["keras-classroom-save-load-race-py",
                                                   "keras-classroom-save-load-race-ipynb",
                                                   "keras-classroom-py", "keras-classroom-ipynb"]


def test_the_notebook_parses_the_code_one_thread_at_a_time_with_the_shown_codes_reader():
    """CPython 3.11's `ast` is not safe from two threads at once (SystemError "AST constructor
    recursion depth mismatch": 20 failed nudges with 30 students on the sliders). Every parse of
    lib's takes one lock: while it is held, the notebook's cutting into steps waits for it."""
    import threading

    from lib.snippets.render import _PARSING

    code, done = "import keras\n\nprint(1)\n", threading.Event()
    worker = threading.Thread(target=lambda: (notebook.steps(code, "en"), done.set()), daemon=True)
    with _PARSING:
        worker.start()
        assert not done.wait(0.5), "the notebook parsed the code while lib's parsing lock was held"
    assert done.wait(10), "the notebook did not cut the code into steps once the lock was free"
