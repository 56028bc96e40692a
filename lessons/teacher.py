"""The teacher's room: the class now — who is here and on which page, how far each task got, what
the done ones reached, who has been quiet. Hidden from the menu; it needs the teacher's key."""
import streamlit as st

from lib import ui

t = ui.t

st.title(t("teacher.title"))
st.markdown(t("teacher.idea"))
if ui.teacher_unlocked():
    ui.class_view_live()
    ui.class_drawings()
    ui.lesson_maker()
