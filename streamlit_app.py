"""Keras Classroom: deep learning taught by running real Keras and drawing what it does.

Run with `streamlit run streamlit_app.py`. This file runs before every page: it starts the
server's one-time preparation (TensorFlow imported in the background, then kept out of the
garbage collector's way), settles the language, and hands over to the page the student asked for.
"""
import streamlit as st

from lib import server, ui

st.set_page_config(page_title="Keras Classroom", page_icon=":material/school:", layout="wide")
server.prepare()
ui.choose_language()
page = ui.navigation()
st.sidebar.caption(ui.t("app.tagline"))
page.run()
