"""The floor: a bare Streamlit page with one slider and one Plotly chart, nothing else.

    streamlit run bench/floor_app.py

`python bench/class_load.py sliders --floor` runs the same students against it first, so a
page's latency and server CPU per nudge can be read as a multiple of what Streamlit itself
costs on this machine at that moment.

With `?keras=1` the page imports Keras first, as a page that computes with it must on a fresh
server: `python bench/warm_start.py --floor` opens it on a fresh server beside the app's pages, the
least a class link to such a page can wait on that machine that day.
"""
import numpy as np
import plotly.graph_objects as go
import streamlit as st

if st.query_params.get("keras") == "1":
    import keras  # noqa: F401  (TensorFlow's import, the cost every Keras page pays once per server)

x = np.linspace(0, 2 * np.pi, 200)
frequency = st.slider("frequency", 1, 20, 3)
st.plotly_chart(go.Figure(go.Scatter(x=x, y=np.sin(frequency * x), mode="lines")))
