"""Keras Classroom: deep learning taught by running real Keras and drawing what it does.

Run with `streamlit run streamlit_app.py`. This file runs before every page: it settles the
language, hands over to the page the student asked for, and then (once per process) starts the
server's preparation: TensorFlow imported in the background and kept out of the garbage
collector's way. It starts after the page on purpose — loading TensorFlow's library holds
Python's lock for seconds, which would keep the very first page (and its menu) from drawing.
"""
import streamlit as st

from lib import server, ui

st.set_page_config(page_title="Keras Classroom", page_icon=":material/school:", layout="wide")
ui.choose_language()
page = ui.navigation()
st.sidebar.caption(ui.t("app.tagline"))
try:
    page.run()
finally:
    server.prepare()
