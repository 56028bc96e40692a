"""Keras Classroom's teachable core: real Keras and numpy, no Streamlit (except `lib.ui`)."""
import os

# Before any module here imports Keras: the TensorFlow backend, and TensorFlow's C++ start-up
# chatter kept out of the student's terminal.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
