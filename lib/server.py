"""One-time preparation of the Streamlit server process.

TensorFlow's import leaves about a million long-lived Python objects behind. Every full garbage
collection walks all of them, and a Streamlit rerun allocates enough to trigger several: a
trivial page went from ~150 ms to ~550 ms per slider nudge. Importing the heavy stack once and
then moving everything that exists into the GC's permanent generation (`gc.freeze`) removes that
cost; objects created later are collected as usual.
"""
import gc

_prepared = False


def prepare():
    """Import the heavy libraries once and freeze them out of the collector's way (idempotent)."""
    global _prepared
    if _prepared:
        return
    import keras  # noqa: F401  (the import itself is the point)
    import pandas  # noqa: F401
    import plotly.graph_objects  # noqa: F401
    import sklearn.datasets  # noqa: F401
    import tensorflow  # noqa: F401

    gc.collect()
    gc.freeze()
    _prepared = True
