"""Model & layers: stack layers into a Sequential model and watch the shapes flow through it."""
import streamlit as st

from lib import models, plots, snippets, ui

t = ui.t
key = ui.keys("model")
MAX_COUNT = 4096  # the largest units/filters/kernel a number box offers; the parameter cap bites first
STATE = ui.MODEL_STACK  # {"input": "784", "layers": [{"uid": 0, "type": "Dense", ...}]}; other pages read it
PRESETS = {name: (models.encode_shape(shape), layers) for name, (shape, layers) in models.PRESETS.items()}


def _set_stack(shape_text, layers):
    """A new stack; each row gets an id its widgets' keys carry, so rows keep their values when moved."""
    first = st.session_state.get(key("next_uid"), 0)
    st.session_state[key("next_uid")] = first + len(layers)
    st.session_state[STATE] = {"input": shape_text, "layers": [{"uid": first + k, **x} for k, x in enumerate(layers)]}
    st.session_state[key("input")] = shape_text


def _from_link():
    """The stack in the URL (a class link), or the seed's model with a message when it is unreadable."""
    shape, text = st.query_params.get(key("input")), st.query_params.get(key("stack"))
    try:
        if text is None and shape is None:
            return _set_stack(*PRESETS["seed"])
        shape = models.encode_shape(models.decode_shape(shape or "784"))
        if shape not in models.INPUT_SHAPES:
            raise models.ModelSpecError(0, "Input", "bad_input_shape", "not offered", value=shape)
        _set_stack(shape, models.decode_stack(text or ""))
    except models.ModelSpecError as e:
        _set_stack(*PRESETS["seed"])
        st.warning(t("model.bad_link", reason=ui.spec_error_text(e)))


def _move(position, step):
    layers = st.session_state[STATE]["layers"]
    other = min(max(position + step, 0), len(layers) - 1)
    layers[position], layers[other] = layers[other], layers[position]


def _add():
    uid = st.session_state[key("next_uid")]
    st.session_state[key("next_uid")] = uid + 1
    st.session_state[STATE]["layers"].append({"uid": uid, "type": st.session_state[key("new_layer")]})


def _arg_widget(arg, value, widget):
    """One constructor argument of one layer, starting at `value`; returns the chosen value."""
    st.session_state.setdefault(widget, min(value, MAX_COUNT) if arg.kind == "count" else value)
    if arg.kind == "count":
        return st.number_input(arg.name, min_value=1, max_value=MAX_COUNT, step=1, key=widget)
    if arg.kind == "stride":  # 0 stands for None (= pool_size): a None option reads as "nothing chosen"
        st.session_state[widget] = st.session_state[widget] or 0
        options = [0, 1, 2, 3, 4] + ([value] if value not in (None, 0, 1, 2, 3, 4) else [])
        same = t("model.same_as_pool")
        return st.selectbox(arg.name, options, key=widget, format_func=lambda s: str(s) if s else same) or None
    if arg.kind == "rate":
        return st.number_input(arg.name, min_value=0.0, max_value=0.95, step=0.05, key=widget)
    return st.selectbox(arg.name, models.PADDINGS if arg.kind == "padding" else models.ACTIVATIONS, key=widget)


def layer_editor(layers):
    """One row per layer: its type, its main arguments, and buttons to move or remove it."""
    for position, layer in enumerate(layers):
        row = key(f"L{layer['uid']}")
        with st.container(border=True):
            cols = st.columns([0.3, 1.6, 1, 1, 1, 1, 1.3, 0.35, 0.35, 0.35], vertical_alignment="bottom")
            cols[0].markdown(f"**{position + 1}**")
            st.session_state.setdefault(f"{row}.type", layer["type"])
            kind = cols[1].selectbox(t("model.layer_type"), models.BUILDER_TYPES, key=f"{row}.type")
            before = dict(layer)
            layer.clear()
            layer.update(uid=before["uid"], type=kind)
            for col, arg in zip(cols[2:7], [a for a in models.LAYER_TYPES[kind] if a.offered]):
                with col:
                    layer[arg.name] = _arg_widget(arg, before.get(arg.name, arg.default), f"{row}.{arg.name}")
            for col, (name, icon, on_click, args, off) in zip(cols[7:], (
                    ("up", "arrow_upward", _move, (position, -1), position == 0),
                    ("down", "arrow_downward", _move, (position, 1), position == len(layers) - 1),
                    ("remove", "delete", layers.pop, (position,), False))):
                col.button("", icon=f":material/{icon}:", key=f"{row}.{name}", help=t(f"model.{name}"),
                           on_click=on_click, args=args, disabled=off)


@st.cache_resource(max_entries=64, show_spinner=False)
def keras_model(stack_text, input_text):
    """The real Keras model of a stack, seeded (shared and read-only: it depends only on the stack)."""
    model = models.build_sequential(models.decode_stack(stack_text), models.decode_shape(input_text), seed=0)
    return model, models.summary_table(model)


def first_failure(layers, shape):
    """(valid prefix infos, the error) — the prefix is drawn, the failing layer marked."""
    try:
        return models.describe(layers, shape), None
    except models.ModelSpecError as error:
        return (models.describe(layers[:max(error.index - 1, 0)], shape) if error.index else []), error


# --- The page --------------------------------------------------------------------------------
ui.header("model")
if STATE not in st.session_state:
    _from_link()
stack = st.session_state[STATE]

picture = st.container()
st.markdown(f"**{t('model.presets')}**")
for col, name in zip(st.columns(len(models.PRESETS)), models.PRESETS):
    col.button(t(f"model.preset.{name}"), key=key(f"preset_{name}"), on_click=_set_stack, args=PRESETS[name], width="stretch")
st.session_state.setdefault(key("input"), stack["input"])
stack["input"] = st.selectbox(t("model.input_shape"), list(models.INPUT_SHAPES), key=key("input"),
                              format_func=ui.labels("model.input"))
layer_editor(stack["layers"])
add_type, add_button = st.columns([3, 1], vertical_alignment="bottom")
add_type.selectbox(t("model.new_layer"), models.BUILDER_TYPES, key=key("new_layer"))
add_button.button(t("model.add"), icon=":material/add:", on_click=_add, width="stretch")

layers = [{k: v for k, v in layer.items() if k != "uid"} for layer in stack["layers"]]
shape = models.INPUT_SHAPES[stack["input"]]
st.query_params.update({key("input"): stack["input"], key("stack"): models.encode_stack(layers)})

infos, error = first_failure(layers, shape)
with picture:
    ui.plot(plots.model_diagram(infos, shape, ui.lang(), failed=(error.index, error.layer_type) if error and error.index else None))
    if error is not None:
        st.error(ui.spec_error_text(error), icon=":material/block:")
    elif not layers:
        st.info(t("model.empty"))

if error is None and layers:
    model, summary = keras_model(models.encode_stack(layers), stack["input"])
    summary = summary.assign(how=[f"{i.formula} = {i.params:,}" if i.params else t("model.no_weights") for i in infos])
    st.subheader(t("model.summary"))
    st.metric(t("model.total_params"), f"{model.count_params():,}")
    st.dataframe(summary, hide_index=True, column_config={
        "layer": t("model.col.layer"), "type": t("model.col.type"), "output_shape": t("model.col.output_shape"),
        "params": st.column_config.NumberColumn(t("model.col.params"), format="localized"), "how": t("model.col.how")})
    if model.count_params():
        biggest = max(infos, key=lambda i: i.params)
        st.caption(t("model.biggest", name=biggest.name, type=biggest.type, share=f"{100 * biggest.params / model.count_params():.1f}"))
    x, source = models.example_input(shape)
    unit = ui.dense_unit_view(model, x, key, t(f"model.example.{source}"))
    ui.notice("model")
    ui.page_link("filters", t("model.see_filters"))
    ui.code_panel(snippets.model_snippet(layers, shape, ui.lang(), unit=unit))
ui.references(("common.ref_keras_guide", "https://keras.io/guides/sequential_model/"),
              ("common.ref_keras_layers", "https://keras.io/api/layers/"))
