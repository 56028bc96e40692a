"""One-time preparation of the Streamlit server process.

TensorFlow's import takes ~3.5 s and leaves about a million long-lived Python objects behind.
Every full garbage collection walks all of them, and a Streamlit rerun allocates enough to
trigger several: measured here, a bare page with one slider and one chart went from 154 ms to
380 ms per nudge once TensorFlow was imported. Moving everything that exists after the import
into the collector's permanent generation (`gc.freeze`) brought it to 42 ms; objects created
later are collected as usual.

The import runs in a background thread started by the first request, so the first page is
drawn at once; a page that needs Keras before the import is done simply waits for it.
"""
import gc
import threading

_warm_up = None
_lock = threading.Lock()


def _import_and_freeze():
    import keras  # noqa: F401  (the import itself is the point)
    import pandas  # noqa: F401
    import plotly.graph_objects  # noqa: F401
    import sklearn.datasets  # noqa: F401
    import tensorflow  # noqa: F401

    gc.collect()
    gc.freeze()


def prepare():
    """Start importing the heavy libraries in the background, once per process (idempotent)."""
    global _warm_up
    with _lock:
        if _warm_up is None:
            _warm_up = threading.Thread(target=_import_and_freeze, name="warm-up", daemon=True)
            _warm_up.start()
    return _warm_up


def wait_until_prepared(timeout=None):
    """Block until the heavy imports are done (for benchmarks and tests)."""
    prepare().join(timeout)
