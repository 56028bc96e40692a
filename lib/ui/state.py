"""What one page leaves for another in the session, in one place: a key for each thing a page
writes, and a getter for every page that reads it. (Widget values are gone once a student leaves
a page; these stay for the session.)"""
import dataclasses

import streamlit as st

MODEL_STACK = "model_stack"  # the Model & layers page's stack: {"input": name, "layers": [{"uid": 0, ...}]}
TRAINING_RUN = "training.run"  # the Training page's live run: the models trained there
LOADED_MODEL = "loaded_model"  # the model loaded on the Save & load page: a lib.saving.Loaded
FILTERS_SETTINGS = "filters_settings"  # the Convolution filters page's image, kernel, stride, padding


@dataclasses.dataclass(frozen=True)
class BuiltModel:
    """The model built on the Model & layers page, as lib.models builds it."""
    input: str  # the input's name in lib.models.INPUT_SHAPES
    layers: list  # the layer specs, without the page's row ids


def built_model():
    """The stack built on the Model & layers page (a BuiltModel), or None before the student was there."""
    stack = st.session_state.get(MODEL_STACK)
    if stack is None:
        return None
    return BuiltModel(stack["input"], [{k: v for k, v in layer.items() if k != "uid"} for layer in stack["layers"]])


def trained():
    """The newest finished entry of the Training page's live run (its run and job), or None."""
    finished = [e for e in st.session_state.get(f"{TRAINING_RUN}.runs", []) if e.run.result]
    return finished[-1] if finished else None


def loaded():
    """The model loaded on the Save & load page (a lib.saving.Loaded), or None."""
    return st.session_state.get(LOADED_MODEL)


def keep_filters_settings(**settings):
    """The Convolution filters page's current settings, for the Pooling page that pools its feature map."""
    st.session_state[FILTERS_SETTINGS] = settings


def filters_settings():
    """The settings the Convolution filters page kept (image, image_how, kernel, stride, padding), or {}."""
    return st.session_state.get(FILTERS_SETTINGS) or {}
