"""Teaching components of a model at work: one input's way through its layers, and one Dense
unit's arithmetic on real numbers (two pages share it)."""
import weakref

import streamlit as st

from lib import plots
from lib.ui.layout import live_table, plot
from lib.ui.text import literal, t
from lib.ui.url import bound


def layer_outputs(layers):
    """Each layer's output for one input (`layers`: (name, output) with a batch of one), in order: a
    layer of maps as a picture of them under its name, above its scale; flat layers after one
    another as bars, in one figure."""
    flat = []
    for name, output in layers:
        title = f"{name} → {'×'.join(map(str, output.shape[1:]))}"
        if output.ndim != 4:
            flat.append((title, output[0]))
            continue
        if flat:
            plot(plots.layers_figure(flat))
            flat = []
        picture, shown, limit = plots.maps_picture(output[0])
        st.markdown(f"**{literal(title)}**")  # a stranger's model names its own layers
        st.image(picture, width="stretch", output_format="PNG")
        st.caption(t("evaluate.maps_scale", shown=shown, total=output.shape[-1], limit=f"{limit:.3f}"))
    if flat:
        plot(plots.layers_figure(flat))


def dense_unit_view(model, x, key, caption, outputs=None):
    """The study note's Dense layer on real numbers: choose a Dense layer of `model` and one of its
    units, and see its arithmetic on input `x` — the largest terms of x·W, plus b, through the
    activation — equal to what Keras's layer outputs. `outputs` are the layers' outputs for x when
    the page has them (a stranger's model is never run here); else this server's own model is run.
    Returns (layer name, its position, unit), or None."""
    from lib import evaluate

    dense = [layer.name for layer in model.layers if type(layer).__name__ == "Dense"]
    if not dense:
        return None
    st.subheader(t("dense.title"))
    st.markdown(t("dense.idea"))
    st.caption(caption)
    left, right = st.columns(2)
    name = bound(left.selectbox, t("dense.layer"), dense, key=key("dense_layer"))
    layer = model.get_layer(name)
    st.session_state[key("dense_unit")] = min(st.session_state.get(key("dense_unit"), 0), layer.units - 1)  # stay inside
    unit = bound(right.number_input, t("dense.unit", last=layer.units - 1), 0, layer.units - 1, key=key("dense_unit"))
    position = model.layers.index(layer)
    outputs = outputs if outputs is not None or position == 0 else evaluate.layer_outputs(model, x[None])
    inputs = x if position == 0 else outputs[position - 1][1][0]
    kernel, bias = _weights(layer)
    if inputs.ndim > 1:  # Dense on an image works on each position's numbers separately: show the first
        st.caption(t("dense.per_position", shape="×".join(map(str, inputs.shape[:-1])), n=inputs.shape[-1]))
    unit_math = evaluate.dense_unit(inputs.reshape(-1, len(kernel))[0], kernel, bias, layer.get_config()["activation"],
                                    unit)
    terms = list(zip(*unit_math.terms)) or [()] * 4  # (i, x, w, x·w) columns
    live_table({t("dense.col.input"): [f"x[{i}]" for i in terms[0]], "x": [round(v, 4) for v in terms[1]],
                "w": [round(v, 4) for v in terms[2]], "x·w": [round(v, 4) for v in terms[3]]})
    st.markdown(t("dense.sum", shown=len(unit_math.terms), inputs=len(kernel), rest=f"{unit_math.rest:.4f}",
                  total=f"{unit_math.weighted_sum:.4f}", bias=f"{unit_math.bias:.4f}", z=f"{unit_math.z:.4f}",
                  activation=unit_math.activation, output=f"{unit_math.output:.4f}"))
    return name, position, int(unit)


_WEIGHTS = weakref.WeakKeyDictionary()  # a Dense layer -> its (kernel, bias), while the layer lives


def _weights(layer):
    """A layer's weights, copied out of Keras once: the models a page shows are never trained
    further in place (a new run is a new model), and a Dense layer after a wide Flatten holds
    megabytes that `get_weights` would copy again on every rerun."""
    if layer not in _WEIGHTS:
        _WEIGHTS[layer] = tuple(layer.get_weights())
    return _WEIGHTS[layer]

