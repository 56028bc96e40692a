"""The Model & layers page's editor of a layer stack: one row per layer (its type, its main
arguments, buttons to move or remove it) and a row to add one. It edits the stack in place, a
dict {"input": name, "layers": [{"uid": 0, "type": "Dense", ...}]}: each row's widget keys carry
the layer's id, so a row keeps its values when it moves."""
import streamlit as st

from lib import models
from lib.ui.text import t

MAX_COUNT = 4096  # the most units/filters/kernel a number box offers; the parameter cap bites first
STRIDES = [0, 1, 2, 3, 4]  # 0 is None (= pool_size): a None option reads as "nothing chosen"
ROW_WIDTHS = [0.3, 1.6, 1, 1, 1, 1, 1.3, 0.35, 0.35, 0.35]  # number, type, 5 arguments, 3 buttons


def new_rows(layers, key):
    """Layer dicts as rows of the editor: each gets the next id of this session."""
    first = st.session_state.get(key("next_uid"), 0)
    st.session_state[key("next_uid")] = first + len(layers)
    return [{"uid": first + k, **layer} for k, layer in enumerate(layers)]


def layer_editor(stack, key):
    """The rows of `stack`'s layers, then the row that adds one (widget keys from `key`)."""
    layers = stack["layers"]
    for position, layer in enumerate(layers):
        row = key(f"L{layer['uid']}")
        with st.container(border=True):
            columns = st.columns(ROW_WIDTHS, vertical_alignment="bottom")
            columns[0].markdown(f"**{position + 1}**")
            _layer_widgets(columns[1:7], row, layer)
            _row_buttons(columns[7:], row, position, layers)
    add_type, add_button = st.columns([3, 1], vertical_alignment="bottom")
    add_type.selectbox(t("model.new_layer"), models.BUILDER_TYPES, key=key("new_layer"))
    add_button.button(t("model.add"), icon=":material/add:", on_click=_add, args=(layers, key),
                      width="stretch")


def _move(layers, position, step):
    other = min(max(position + step, 0), len(layers) - 1)
    layers[position], layers[other] = layers[other], layers[position]


def _add(layers, key):
    layers.extend(new_rows([{"type": st.session_state[key("new_layer")]}], key))


def _arg_widget(arg, value, widget):
    """One constructor argument of one layer, starting at `value`; returns the chosen value."""
    st.session_state.setdefault(widget, min(value, MAX_COUNT) if arg.kind == "count" else value)
    if arg.kind == "count":
        return st.number_input(arg.name, min_value=1, max_value=MAX_COUNT, step=1, key=widget)
    if arg.kind == "stride":
        st.session_state[widget] = st.session_state[widget] or 0
        options = STRIDES + ([value] if value not in (None, *STRIDES) else [])
        same = t("model.same_as_pool")
        chosen = st.selectbox(arg.name, options, key=widget,
                              format_func=lambda s: str(s) if s else same)
        return chosen or None
    if arg.kind == "rate":
        return st.number_input(arg.name, min_value=0.0, max_value=0.95, step=0.05, key=widget)
    options = models.PADDINGS if arg.kind == "padding" else models.ACTIVATIONS
    return st.selectbox(arg.name, options, key=widget)


def _layer_widgets(columns, row, layer):
    """The layer's type and its arguments, a column each; `layer` is rewritten to what they show."""
    st.session_state.setdefault(f"{row}.type", layer["type"])
    kind = columns[0].selectbox(t("model.layer_type"), models.BUILDER_TYPES, key=f"{row}.type")
    before = dict(layer)
    layer.clear()
    layer.update(uid=before["uid"], type=kind)
    offered = [arg for arg in models.LAYER_TYPES[kind] if arg.offered]
    for column, arg in zip(columns[1:], offered):
        with column:
            start = before.get(arg.name, arg.default)
            layer[arg.name] = _arg_widget(arg, start, f"{row}.{arg.name}")


def _row_buttons(columns, row, position, layers):
    """Move the layer up, down, or remove it."""
    buttons = (("up", "arrow_upward", _move, (layers, position, -1), position == 0),
               ("down", "arrow_downward", _move, (layers, position, 1), position == len(layers) - 1),
               ("remove", "delete", layers.pop, (position,), False))
    for column, (name, icon, on_click, args, off) in zip(columns, buttons):
        column.button("", icon=f":material/{icon}:", key=f"{row}.{name}", help=t(f"model.{name}"),
                      on_click=on_click, args=args, disabled=off)
