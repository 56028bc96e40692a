"""What every page test needs: the app under AppTest, every widget moved, snippets run for real."""
import os
import pathlib
import subprocess
import sys
import time

from streamlit.testing.v1 import AppTest

from lib import i18n

ROOT = pathlib.Path(__file__).resolve().parent.parent
WIDGET_KINDS = ("slider", "select_slider", "selectbox", "multiselect", "radio", "number_input",
                "checkbox", "toggle", "text_input", "segmented_control", "pills", "button")


def open_page(page_file=None, lang="en", query=None, timeout=120):
    """The whole app (entry point included) under AppTest, showing `page_file` in `lang`."""
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=timeout)
    at.query_params["lang"] = lang
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    if page_file:
        at.switch_page(page_file)
        at.run()
        assert not at.exception, at.exception
    return at


def _widgets(at, kind):
    return [w for w in getattr(at.main, kind)]


def _moved(widget, kind):
    """A different valid value for a widget (the other end of its range, the next option)."""
    if kind in ("checkbox", "toggle"):
        return not widget.value
    if kind == "slider" or kind == "select_slider":
        options = getattr(widget, "options", None)
        if options:
            return options[-1] if widget.value != options[-1] else options[0]
        if isinstance(widget.value, tuple):
            return (widget.min, widget.max)
        return widget.max if widget.value != widget.max else widget.min
    if kind == "number_input":
        step = widget.step or 1
        up = widget.value + step
        return up if widget.max is None or up <= widget.max else widget.value - step
    if kind in ("selectbox", "radio", "segmented_control", "pills"):
        options = list(widget.options)
        if not options:
            return None
        current = widget.format_func(widget.value) if widget.value is not None else None
        index = options.index(current) if current in options else -1
        return _option_value(widget, options[(index + 1) % len(options)])
    if kind == "multiselect":
        return [_option_value(widget, o) for o in widget.options[:2]]
    if kind == "text_input":
        return "relu"
    return None


def _option_value(widget, formatted):
    """AppTest lists options as shown; set_value wants the value behind it. Invert `ui.labels`
    through the catalog, else try the text itself, numbers and the usual sentinels."""
    show = widget.format_func
    candidates = [formatted, None, True, False]
    for prefix in getattr(show, "prefixes", ()):
        candidates += [k[len(prefix) + 1:] for k in i18n.catalog(show.lang) if k.startswith(prefix + ".")]
    if isinstance(getattr(show, "__self__", None), dict):  # format_func=LABELS.get
        candidates += list(show.__self__)
    for number in (int, float):
        try:
            candidates.append(number(formatted))
        except (TypeError, ValueError):
            pass
    candidates += list(range(-1, 11))
    for candidate in candidates:
        try:
            if str(show(candidate)) == formatted:
                return candidate
        except Exception:  # a format_func meant for other values
            continue
    raise AssertionError(f"cannot find the value behind option {formatted!r} of {widget.key!r}")


def exercise_widgets(at, skip=()):
    """Move every widget on the page once (buttons clicked), rerunning after each; no exception.

    Returns how many widgets were moved, so a test can check the page really has controls.
    """
    moved = 0
    for kind in WIDGET_KINDS:
        keys = [w.key for w in _widgets(at, kind)]
        for position, key in enumerate(keys):
            if key in skip:
                continue
            matches = [w for w in _widgets(at, kind) if w.key == key] if key else _widgets(at, kind)[position:position + 1]
            if not matches or getattr(matches[0], "disabled", False):
                continue
            widget = matches[0]
            if kind == "button":
                widget.click()
            else:
                value = _moved(widget, kind)
                if value is None:
                    continue
                widget.set_value(value)
            at.run()
            assert not at.exception, f"{kind} {key!r}: {at.exception}"
            moved += 1
    return moved


def figures(at):
    """The Plotly figures on a page under AppTest, as the browser gets them (dicts)."""
    import json

    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def plotly_array(value):
    """A trace's array as numpy: Plotly sends numpy data as a typed array {"dtype", "bdata", "shape"}."""
    import base64

    import numpy as np

    if isinstance(value, dict) and "bdata" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        return array.reshape([int(n) for n in str(value.get("shape", len(array))).split(",")])
    return np.asarray(value, dtype=float)


def run_snippet(code, cwd, timeout=300):
    """Run a page's code in a fresh Python, offline: any HTTP(S) goes to a closed port."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9", NO_PROXY="",
               KERAS_HOME=str(cwd), TF_CPP_MIN_LOG_LEVEL="3", PYTHONHASHSEED="0")
    result = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, f"snippet failed:\n{result.stderr[-3000:]}"
    return result.stdout


def shown_code(at):
    """The code panel's text (the last code block on the page)."""
    return at.code[-1].value


def session_runs(at):
    """Every run the session under test started from a live-run component."""
    return [entry.run for key, entries in at.session_state.items() if key.endswith(".runs") for entry in entries]


def settle(at, timeout=180):
    """Wait until every run the session started has ended, then run the page again: what the
    live-run fragment does in a browser when a run ends while the student watches."""
    for run in session_runs(at):
        finish(run, timeout)
    at.run()
    assert not at.exception, at.exception
    return at


def wait_until(condition, timeout, message, interval=0.05, pause=time.sleep):
    """Call `condition` every `interval` s until it returns something truthy, and return that.

    `timeout` is a deadline, never a verdict: a slow or busy machine only waits longer, and the
    test fails (AssertionError with `message`, or `message()` when it is a function, so it can say
    what was seen) only when the thing never happens within it. Measuring how fast something
    happens is bench/'s job. `pause(seconds)` waits between calls: `time.sleep`, or a Playwright
    page's `wait_for_timeout` where its events must be delivered while the test waits."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(message() if callable(message) else message)
        pause(interval)


def finish(run, timeout=180):
    """Wait for a training run to end; the test fails if it is still going after `timeout` s."""
    wait_until(lambda: not run.active, timeout, lambda: f"run still {run.status} after {timeout} s", interval=0.02)
    return run


class Clock:
    """A clock a test moves by hand (`clock.now += 60`): what expires, waits or counts as quiet is
    asserted without waiting for it."""

    def __init__(self, now=1_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


NO_TENSORFLOW = """
import json, sys


class NoTensorFlow:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "keras"):
            raise ImportError(name + " imported before the page drew what it keeps")


sys.meta_path.insert(0, NoTensorFlow())
from lib import server
server.prepare = lambda: None  # (the server's warm-up would import Keras beside the page)
from streamlit.testing.v1 import AppTest
at = AppTest.from_file("streamlit_app.py", default_timeout=120)
at.query_params["lang"] = "en"
at.run()
at.switch_page(sys.argv[1])
at.run()
print(json.dumps({"charts": len(at.get("plotly_chart")), "tables": [t.value.to_dict("list") for t in at.dataframe],
                  "downloads": [b.proto.label for b in at.get("download_button")], "exceptions": len(at.exception)},
                 default=str))
"""


def page_without_tensorflow(page_file):
    """`page_file` opened under AppTest in a fresh Python where TensorFlow and Keras cannot be
    imported (as a fresh server's page runs before their import ends): ({"charts": how many,
    "tables": each dataframe's columns, "downloads": their labels, "exceptions": how many}, what it
    printed, tracebacks included, without colours)."""
    import json
    import re

    result = subprocess.run([sys.executable, "-c", NO_TENSORFLOW, page_file], cwd=ROOT, capture_output=True,
                            text=True, timeout=240, env=dict(os.environ))
    assert result.returncode == 0, result.stderr[-3000:]
    page = json.loads([line for line in result.stdout.splitlines() if line.startswith("{")][-1])
    return page, re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)
