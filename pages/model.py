"""Model & layers: stack layers into a Sequential model and watch the shapes flow through it."""
import streamlit as st

from lib import models, plots, snippets, ui

t = ui.t
MAX_COUNT = 4096  # the largest units/filters/kernel a number box offers; the parameter cap bites first
STATE = "model_stack"  # {"input": "784", "layers": [{"uid": 0, "type": "Dense", ...}]}; /training reads it


def _uid():
    """A new id for a layer row; its widgets' keys carry it, so rows keep their values when moved."""
    st.session_state.model_next_uid = st.session_state.get("model_next_uid", 0) + 1
    return st.session_state.model_next_uid


def _set_stack(shape_text, layers):
    st.session_state[STATE] = {"input": shape_text, "layers": [{"uid": _uid(), **x} for x in layers]}
    st.session_state.input_shape = shape_text


def _load_preset(name):
    shape, layers = models.PRESETS[name]
    _set_stack(models.encode_shape(shape), layers)


def _from_link():
    """The stack in the URL (a class link), or the seed's model with a message when it is unreadable."""
    shape, text = st.query_params.get("input"), st.query_params.get("stack")
    if text is None and shape is None:
        return _load_preset("seed")
    try:
        shape = models.encode_shape(models.decode_shape(shape or "784"))
        if shape not in models.INPUT_SHAPES:
            raise models.ModelSpecError(0, "Input", "bad_input_shape", "not offered", value=shape)
        _set_stack(shape, models.decode_stack(text or ""))
    except models.ModelSpecError as e:
        _load_preset("seed")
        st.warning(t("model.bad_link", reason=ui.spec_error_text(e)))


def _move(uid, step):
    layers = st.session_state[STATE]["layers"]
    i = next(k for k, layer in enumerate(layers) if layer["uid"] == uid)
    j = min(max(i + step, 0), len(layers) - 1)
    layers[i], layers[j] = layers[j], layers[i]


def _remove(uid):
    st.session_state[STATE]["layers"] = [x for x in st.session_state[STATE]["layers"] if x["uid"] != uid]


def _add():
    kind = st.session_state.new_layer_type
    st.session_state[STATE]["layers"].append({"uid": _uid(), "type": kind})


def _arg_widget(arg, value, key):
    """One constructor argument of one layer, starting at `value`; returns the chosen value."""
    if arg.kind == "count":
        st.session_state.setdefault(key, min(value, MAX_COUNT))
        return st.number_input(arg.name, min_value=1, max_value=MAX_COUNT, step=1, key=key)
    st.session_state.setdefault(key, value)
    if arg.kind == "stride":  # 0 stands for None (= pool_size): a None option reads as "nothing chosen"
        st.session_state[key] = st.session_state[key] or 0
        options = [0, 1, 2, 3, 4] + ([value] if value not in (None, 0, 1, 2, 3, 4) else [])
        same = t("model.same_as_pool")
        choice = st.selectbox(arg.name, options, key=key, format_func=lambda s: str(s) if s else same)
        return choice or None
    if arg.kind == "rate":
        return st.number_input(arg.name, min_value=0.0, max_value=0.95, step=0.05, key=key)
    return st.selectbox(arg.name, models.PADDINGS if arg.kind == "padding" else models.ACTIVATIONS, key=key)


def layer_editor(layers):
    """One row per layer: its type, its main arguments, and buttons to move or remove it."""
    for position, layer in enumerate(layers, start=1):
        uid = layer["uid"]
        with st.container(border=True):
            cols = st.columns([0.3, 1.6, 1, 1, 1, 1, 1.3, 0.35, 0.35, 0.35], vertical_alignment="bottom")
            cols[0].markdown(f"**{position}**")
            st.session_state.setdefault(f"L{uid}.type", layer["type"])
            kind = cols[1].selectbox(t("model.layer_type"), models.BUILDER_TYPES, key=f"L{uid}.type")
            before = dict(layer)
            layer.clear()
            layer.update(uid=uid, type=kind)
            for col, arg in zip(cols[2:7], [a for a in models.LAYER_TYPES[kind] if a.offered]):
                with col:
                    layer[arg.name] = _arg_widget(arg, before.get(arg.name, arg.default), f"L{uid}.{arg.name}")
            cols[7].button("", icon=":material/arrow_upward:", key=f"L{uid}.up", help=t("model.move_up"),
                           on_click=_move, args=(uid, -1), disabled=position == 1)
            cols[8].button("", icon=":material/arrow_downward:", key=f"L{uid}.down", help=t("model.move_down"),
                           on_click=_move, args=(uid, 1), disabled=position == len(layers))
            cols[9].button("", icon=":material/delete:", key=f"L{uid}.remove", help=t("model.remove"),
                           on_click=_remove, args=(uid,))


@st.cache_data(max_entries=256, show_spinner=False)
def keras_summary(stack_text, input_text):
    """The real Keras model's summary for a stack (shared: it depends only on the stack)."""
    model = models.build_sequential(models.decode_stack(stack_text), models.decode_shape(input_text))
    return models.summary_table(model), model.count_params()


def first_failure(layers, shape):
    """(valid prefix infos, the error) — the prefix is drawn, the failing layer marked."""
    try:
        return models.describe(layers, shape), None
    except models.ModelSpecError as error:
        prefix = layers[:max(error.index - 1, 0)]
        return (models.describe(prefix, shape) if error.index else []), error


# --- The page --------------------------------------------------------------------------------
ui.header("model")
if STATE not in st.session_state:
    _from_link()
stack = st.session_state[STATE]

picture = st.container()
st.markdown(f"**{t('model.presets')}**")
for col, name in zip(st.columns(len(models.PRESETS)), models.PRESETS):
    col.button(t(f"model.preset.{name}"), key=f"preset_{name}", on_click=_load_preset, args=(name,),
               width="stretch")
st.session_state.setdefault("input_shape", stack["input"])
stack["input"] = st.selectbox(t("model.input_shape"), list(models.INPUT_SHAPES), key="input_shape",
                              format_func=ui.labels("model.input"))
layer_editor(stack["layers"])
add_type, add_button = st.columns([3, 1], vertical_alignment="bottom")
add_type.selectbox(t("model.new_layer"), models.BUILDER_TYPES, key="new_layer_type")
add_button.button(t("model.add"), icon=":material/add:", on_click=_add, width="stretch")

layers = [{k: v for k, v in layer.items() if k != "uid"} for layer in stack["layers"]]
shape = models.INPUT_SHAPES[stack["input"]]
st.query_params["input"] = stack["input"]
st.query_params["stack"] = models.encode_stack(layers)

infos, error = first_failure(layers, shape)
with picture:
    failed = (error.index, error.layer_type) if error is not None and error.index else None
    ui.plot(plots.model_diagram(infos, shape, ui.lang(), failed=failed))
    if error is not None:
        st.error(ui.spec_error_text(error), icon=":material/block:")
    elif not layers:
        st.info(t("model.empty"))

if error is None and layers:
    summary, total = keras_summary(models.encode_stack(layers), stack["input"])
    summary["how"] = [f"{i.formula} = {i.params:,}" if i.params else t("model.no_weights") for i in infos]
    st.subheader(t("model.summary"))
    st.metric(t("model.total_params"), f"{total:,}")
    st.dataframe(summary, hide_index=True, column_config={
        "layer": t("model.col.layer"), "type": t("model.col.type"),
        "output_shape": t("model.col.output_shape"),
        "params": st.column_config.NumberColumn(t("model.col.params"), format="localized"), "how": t("model.col.how")})
    biggest = max(infos, key=lambda i: i.params)
    if total:
        st.caption(t("model.biggest", name=biggest.name, type=biggest.type,
                     share=f"{100 * biggest.params / total:.1f}"))
    ui.notice("model")
    ui.page_link("filters", t("model.see_filters"))
    ui.code_panel(snippets.model_snippet(layers, shape, ui.lang()))
ui.references(("common.ref_keras_guide", "https://keras.io/guides/sequential_model/"),
              ("common.ref_keras_layers", "https://keras.io/api/layers/"))
