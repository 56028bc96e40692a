"""The floor: a bare Streamlit page with one slider and one Plotly chart, nothing else.

    streamlit run bench/floor_app.py

`python bench/class_load.py sliders --floor` runs the same students against it first, so a
page's latency and server CPU per nudge can be read as a multiple of what Streamlit itself
costs on this machine at that moment.
"""
import numpy as np
import plotly.graph_objects as go
import streamlit as st

x = np.linspace(0, 2 * np.pi, 200)
frequency = st.slider("frequency", 1, 20, 3)
st.plotly_chart(go.Figure(go.Scatter(x=x, y=np.sin(frequency * x), mode="lines")))
