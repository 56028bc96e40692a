"""Model & layers: stack layers into a Sequential model and watch the shapes flow through it."""
import streamlit as st

from lib import models, plots, snippets, ui

t = ui.t
key = ui.keys("model")
STATE = ui.MODEL_STACK  # the stack, edited in place by ui.layer_editor; other pages read it
PRESETS = {name: (models.encode_shape(shape), layers)
           for name, (shape, layers) in models.PRESETS.items()}


def _set_stack(shape_text, layers):
    """A new stack, its layers as rows of the editor."""
    st.session_state[STATE] = {"input": shape_text, "layers": ui.new_rows(layers, key)}
    st.session_state[key("input")] = shape_text


def _from_link():
    """The stack in the URL (a class link), or the seed's model and why when it is unreadable."""
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
        st.warning(t("model.bad_link", reason=ui.refusal_text(e)))


@ui.shared(max_entries=64)
def keras_model(stack_text, input_text):
    """The real Keras model of a stack, seeded (shared and read-only: only the stack decides it)."""
    layers, shape = models.decode_stack(stack_text), models.decode_shape(input_text)
    model = models.build_sequential(layers, shape, seed=0)
    return model, models.summary_table(model)


def first_failure(layers, shape):
    """(valid prefix infos, the error) — the prefix is drawn, the failing layer marked."""
    try:
        return models.describe(layers, shape), None
    except models.ModelSpecError as error:
        valid = layers[:max(error.index - 1, 0)]
        return (models.describe(valid, shape) if error.index else []), error


def show_summary(summary, infos, total):
    """What Keras built, how each layer's parameters are counted, and which layer holds most."""
    how = [f"{i.formula} = {i.params:,}" if i.params else t("model.no_weights") for i in infos]
    params = st.column_config.NumberColumn(t("model.col.params"), format="localized")
    st.subheader(t("model.summary"))
    st.metric(t("model.total_params"), f"{total:,}")
    ui.table(summary.assign(how=how).to_dict("list"), prefix="model.col",
             column_config={"params": params})
    if total:
        biggest = max(infos, key=lambda i: i.params)
        share = f"{100 * biggest.params / total:.1f}"
        st.caption(t("model.biggest", name=biggest.name, type=biggest.type, share=share))


# --- The page --------------------------------------------------------------------------------
ui.header("model")
if STATE not in st.session_state:
    _from_link()
if key("stack") in st.session_state:  # a task's "show me" sets the stack, as a class link does
    shown_stack = models.decode_stack(st.session_state.pop(key("stack")))
    _set_stack(st.session_state[key("input")], shown_stack)
stack = st.session_state[STATE]

picture = st.container()
st.markdown(f"**{t('model.presets')}**")
for column, name in zip(st.columns(len(models.PRESETS)), models.PRESETS):
    column.button(t(f"model.preset.{name}"), key=key(f"preset_{name}"), on_click=_set_stack,
                  args=PRESETS[name], width="stretch")
st.session_state.setdefault(key("input"), stack["input"])
stack["input"] = st.selectbox(t("model.input_shape"), list(models.INPUT_SHAPES), key=key("input"),
                              format_func=ui.labels("model.input"))
ui.layer_editor(stack, key)

built = ui.state.built_model()
shape = models.INPUT_SHAPES[built.input]
stack_text = models.encode_stack(built.layers)
st.query_params.update({key("input"): built.input, key("stack"): stack_text})

infos, error = first_failure(built.layers, shape)
# what the page's tasks are checked against (lib/tasks/catalogue/model.toml)
facts = {key("input"): built.input, key("stack"): stack_text, "input_dims": shape}
failed = (error.index, error.layer_type) if error and error.index else None
with picture:
    ui.plot(plots.model_diagram(infos, shape, ui.lang(), failed=failed))
    if error is not None:
        ui.say(error)
    elif not built.layers:
        st.info(t("model.empty"))

if error is None and built.layers:
    model, summary = keras_model(stack_text, built.input)
    facts.update(total_params=model.count_params(), output_shape=model.output_shape[1:])
    show_summary(summary, infos, facts["total_params"])
    x, source = models.example_input(shape)
    unit = ui.dense_unit_view(model, x, key, t(f"model.example.{source}"))
    ui.notice("model")
    ui.page_link("filters", t("model.see_filters"))
    ui.code_panel(snippets.model_snippet(built.layers, shape, ui.lang(), unit=unit))
ui.references(("common.ref_keras_guide", "https://keras.io/guides/sequential_model/"),
              ("common.ref_keras_layers", "https://keras.io/api/layers/"))
ui.tasks("model", facts)
