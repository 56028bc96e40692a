"""Save & load: what a saved model holds, loading it back, training it on, opening files safely."""
import numpy as np
import streamlit as st

from lib import data, errors, evaluate, models, plots, saving, training, ui
from lib.class_model import class_model
from lib.saving import optimizer_state
from lib.snippets.save_load import save_load_snippet

t, key = ui.t, ui.keys("save_load")
SOURCES = ("class", "yours", "built")
DOWNLOADS = (("keras", "model.keras", "application/zip"),  # level, file name, MIME type
             ("weights", "model.weights.h5", "application/x-hdf5"),
             ("architecture", "model.json", "application/json"))
REFERENCES = (("save_load.ref_saving", "https://keras.io/guides/serialization_and_saving/"),
              ("common.ref_keras_guide", "https://keras.io/guides/sequential_model/"))


def chosen_model(source):
    """(model, the shown code's recipe) of the model to save; a source with none yet says so. The
    class model's is (None, None) until it runs: its files are kept (saving.class_file_view)."""
    entry, stack = ui.state.trained(), ui.state.built_model()
    if source == "yours" and entry:
        return entry.run.model(), {"source": "yours", "job": entry.job}
    if source == "built" and stack:
        shape = models.INPUT_SHAPES[stack.input]
        recipe = {"source": "built", "layers": stack.layers, "input_shape": shape}
        try:
            return models.build_sequential(stack.layers, shape, seed=0), recipe
        except models.ModelSpecError as e:
            ui.say(e, kind="warning")
    elif source != "class":
        st.info(t(f"save_load.none.{source}"), icon=":material/info:")
        ui.page_link("training" if source == "yours" else "model")
    return None, None


def show_archive(raw):
    """A .keras file read without loading it: members, metadata, config, what one pass costs."""
    info = saving.inspect_archive(raw)
    members = {"member": [m.name for m in info.members], "size": [m.size for m in info.members]}
    ui.table(members, prefix="save_load.col")
    st.markdown(t("save_load.metadata", date=ui.literal(info.date_saved), params=f"{info.params:,}",
                  version=ui.literal(info.keras_version), size=f"{info.size:,}"))
    st.dataframe(saving.layer_rows(info), hide_index=True)
    ui.pass_cost(info.model.cost)
    return info


def show_weights(view, members):
    """Where the bytes of model.weights.h5 go, measured in the file: the layers, the optimizer."""
    file = view.weights_file
    ui.plot(plots.file_figure(members, file, ui.lang()))
    ui.table(optimizer_state.rows_of(view.shapes, file, ui.lang()), prefix="save_load.part_col")
    text = "save_load.optimizer_part" if file.slots else "save_load.no_optimizer"
    st.markdown(t(text, summary=f"{view.params:,}", **file.numbers()))
    return file


def take_upload(model):
    """A classmate's file (or weights for `model`) loaded to run only in a locked-down process."""
    upload = st.file_uploader(t("save_load.upload"), type=["keras", "h5"], key=key("upload"),
                              max_upload_size=-(-saving.MAX_UPLOAD_BYTES // 2 ** 20))
    if upload is None:
        return
    raw = upload.getvalue()
    try:
        with st.spinner(t("save_load.loading")):
            if upload.name.endswith(".weights.h5"):
                loaded = saving.open_weights_upload(raw, model, upload.name)
            else:
                show_archive(raw)
                loaded = saving.open_upload(raw, upload.name)
            st.session_state[ui.LOADED_MODEL] = loaded
        ok = t("save_load.upload_ok", name=ui.literal(upload.name))
        st.success(ok, icon=":material/verified_user:")
        ui.page_link("evaluate", t("save_load.see_evaluate"))
    except saving.SavingError as e:
        ui.say(e, icon=":material/gpp_bad:")


def draw_more(entry):
    """The run that trains the loaded model on: its curves, then its accuracy before and after."""
    if entry is None:
        return st.caption(t("save_load.more_hint"))
    ui.plot(plots.curves_figure(entry.run.history(), ui.lang(), epochs=entry.job.fit.epochs))
    if scores := entry.run.test_scores():
        st.markdown(t("save_load.more_result", before=f"{entry.meta['before']:.3f}",
                      after=f"{scores['accuracy']:.3f}", epochs=entry.run.epochs_done()))


# --- The page --------------------------------------------------------------------------------
ui.header("save_load")
ui.section("save_load", "save", idea=False)
source = ui.choice(st.segmented_control, t("save_load.which"), SOURCES, key=key("source"),
                   required=True, labels=ui.labels("save_load.sources"))
model, recipe = chosen_model(source)
view = saving.file_view(model) if model is not None else saving.class_file_view()
files = view.files  # .keras, weights, architecture: made once per model's content
for column, (level, file_name, mime), content in zip(st.columns(3), DOWNLOADS, files):
    column.download_button(
        t(f"save_load.download.{level}"), content, file_name=file_name, mime=mime,
        key=key(f"download_{level}"), icon=":material/download:", width="stretch")
    column.caption(t(f"save_load.level.{level}", size=f"{len(content):,}"))

ui.section("save_load", "inside")
file = show_weights(view, show_archive(files[0]).members)
per_weight = round(file.optimizer_values / file.layer_values) if file.layer_values else 0
facts = {"slots_per_weight": per_weight}  # what the tasks read (lib/tasks/catalogue/save-load.toml)

ui.section("save_load", "back", idea=False)
if model is None:  # the class model runs from here on
    shared = class_model()
    model, recipe = shared.model, {"source": "class", "shared": shared}
if not ui.state.loaded() or ui.state.loaded().digest != saving.file_digest(files[0]):
    with st.spinner(t("save_load.loading_own")):  # checked as an upload is, loaded here; Evaluate grades it
        st.session_state[ui.LOADED_MODEL] = saving.open_own_file(files[0], "model.keras")
restored = ui.state.loaded().model
x = saving.probe_inputs(model)
back, original = (np.asarray(m(x, training=False)) for m in (restored, model))
difference = float(np.abs(back - original).max())  # "bit for bit" only when it is exactly 0
st.markdown(t(f"save_load.back_{'same' if difference == 0 else 'differs'}", n=len(x),
              difference=f"{difference:g}"))
ui.page_link("evaluate", t("save_load.see_evaluate"))

ui.section("save_load", "upload")
take_upload(model)  # in a function: a closed tab's namespace, kept by a fragment, never holds it

ui.section("save_load", "more", idea=False)
loaded = ui.state.loaded()
live = ui.LiveRun(key("more"))
try:
    dataset = evaluate.dataset_for(loaded.passes)
    exam = ui.models.session_exam(loaded.passes, dataset, data.TEST_SIZE, ("file", loaded.digest))
    before = exam.scores.accuracy
    job = saving.continue_job(loaded.model, dataset)  # a fresh optimizer: say so, with its settings
    st.markdown(t("save_load.more_idea", name=ui.literal(loaded.name), accuracy=f"{before:.3f}",
                  **optimizer_state.fresh_start(job)))
    live.buttons(t("save_load.more", epochs=job.fit.epochs), job, before=before)
except evaluate.ModelUnfit as e:
    ui.say(e, kind="info")
except errors.Refusal as e:  # too costly to run or train here, or its process hit a limit
    ui.say(e)
live.show(draw_more)
ended = live.current.run if live.current and not live.current.run.active else None
if ended and ended.test_scores():  # trained on from the file: its test accuracy before and after
    before, after = live.current.meta["before"], ended.test_scores()["accuracy"]
    facts.update(accuracy_before=before, accuracy_after=after, accuracy_gain=after - before,
                 more_epochs=ended.epochs_done())
if recipe["source"] == "class":  # the one model here whose file holds an optimizer's state
    runs = optimizer_state.made_restarts(recipe["shared"].dataset)  # once per server, on a click
    if runs or st.button(t("save_load.restarts_button"), key=key("restarts")):
        with st.spinner(t("save_load.restarts_running")):
            runs = optimizer_state.restarts(recipe["shared"].dataset)  # at once when made
        st.markdown(t("save_load.restarts_idea", **optimizer_state.restart_setup(runs)))
        ui.table(optimizer_state.restart_rows(runs, ui.lang()), prefix="save_load.restart_col")
        st.markdown(t("save_load.restarts_note", **optimizer_state.restart_numbers(runs)))

ui.page_end("save_load", save_load_snippet(ui.lang(), **recipe), *REFERENCES)

ui.tasks("save_load", facts)

# Once the page is drawn (on a fresh server they would slow its first chart): the training worker
# and the loader process import TensorFlow now, not when a student presses a button or uploads.
training.runner()
saving.get_loader()
