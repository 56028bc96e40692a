"""Save & load: what a saved model is, loading it back exactly, and opening a file from anyone safely."""
import hashlib

import numpy as np
import pandas as pd
import streamlit as st

from lib import data, evaluate, models, plots, saving, snippets, training, ui
from lib.errors import Refusal

t = ui.t
key = ui.keys("save_load")
SOURCES = ("class", "yours", "built")


def chosen_model(source):
    """(model, the shown code's recipe) of the model to save; a source with none yet says so."""
    entry, stack = ui.models.trained(), st.session_state.get(ui.MODEL_STACK)
    if source == "yours" and entry:
        return entry.run.model(), dict(source="yours", job=entry.job)
    if source == "built" and stack:
        layers = [{k: v for k, v in layer.items() if k != "uid"} for layer in stack["layers"]]
        try:
            return models.build_sequential(layers, models.INPUT_SHAPES[stack["input"]], seed=0), dict(
                source="built", layers=layers, input_shape=models.INPUT_SHAPES[stack["input"]])
        except models.ModelSpecError as e:
            st.warning(ui.spec_error_text(e), icon=":material/block:")
    elif source != "class":
        st.info(t(f"save_load.none.{source}"), icon=":material/info:")
        ui.page_link("training" if source == "yours" else "model")
    return evaluate.class_model().model, dict(source="class", shared=evaluate.class_model())


def show_archive(raw):
    """What a .keras file holds, read without loading it: members, metadata, config, parameters,
    and what one pass of it costs."""
    info = saving.inspect_archive(raw)
    st.dataframe(pd.DataFrame([{t("save_load.col.member"): m.name, t("save_load.col.size"): m.size}
                               for m in info.members]), hide_index=True)
    st.markdown(t("save_load.metadata", version=ui.literal(info.keras_version), date=ui.literal(info.date_saved),
                  params=f"{info.params:,}", size=f"{info.size:,}"))
    st.dataframe(pd.DataFrame(saving.layer_rows(info)), hide_index=True)
    ui.pass_cost(info.model.cost)
    return info


def load_back(raw, name):
    """This page's own file loaded back as an upload would be (inspected, then loaded in the loader
    process); it becomes the session's loaded model, which the Evaluate page grades."""
    loaded = ui.models.loaded()
    if not loaded or loaded.digest != hashlib.sha256(raw).hexdigest():
        with st.spinner(t("save_load.loading")):
            loaded = st.session_state[ui.LOADED_MODEL] = saving.open_own_file(raw, name)
    return loaded.model


def open_upload(upload):
    """A classmate's file: inspected, loaded in a locked-down process, and from now on run only
    there (its passes); it becomes the session's loaded model. A refusal says why."""
    raw = upload.getvalue()
    try:
        with st.spinner(t("save_load.loading")):
            if upload.name.endswith(".weights.h5"):
                st.session_state[ui.LOADED_MODEL] = saving.open_weights_upload(raw, model, upload.name)
            else:
                show_archive(raw)
                st.session_state[ui.LOADED_MODEL] = saving.open_upload(raw, upload.name)
        st.success(t("save_load.upload_ok", name=ui.literal(upload.name)), icon=":material/verified_user:")
        ui.page_link("evaluate", t("save_load.see_evaluate"))
    except saving.SavingError as e:
        ui.say(e, icon=":material/gpp_bad:")




def draw_more(entry):
    if entry is None:
        return st.caption(t("save_load.more_hint"))
    ui.plot(plots.curves_figure(entry.run.history(), ui.lang(), epochs=entry.job.fit.epochs))
    if entry.run.test_scores():
        st.markdown(t("save_load.more_result", before=f"{entry.meta['before']:.3f}",
                      after=f"{entry.run.test_scores()['accuracy']:.3f}", epochs=entry.run.epochs_done()))


# --- The page --------------------------------------------------------------------------------
ui.header("save_load")
st.subheader(t("save_load.save_title"))
source = ui.choice(st.segmented_control, t("save_load.which"), SOURCES, key=key("source"), required=True,
                   labels=ui.labels("save_load.sources"))
model, recipe = chosen_model(source)
keras_file, weights_file, architecture = saving.model_files(model)  # made once per model's content
for column, (level, content, file_name, mime) in zip(st.columns(3), (
        ("keras", keras_file, "model.keras", "application/zip"),
        ("weights", weights_file, "model.weights.h5", "application/x-hdf5"),
        ("architecture", architecture, "model.json", "application/json"))):
    column.download_button(t(f"save_load.download.{level}"), content, file_name=file_name, mime=mime,
                           key=key(f"download_{level}"), icon=":material/download:", width="stretch")
    column.caption(t(f"save_load.level.{level}", size=f"{len(content):,}"))

st.subheader(t("save_load.inside_title"))
st.markdown(t("save_load.inside_idea"))
info = show_archive(keras_file)
weights = saving.describe_weights(model)
ui.plot(plots.file_figure(info.members, weights, ui.lang()))
st.dataframe(pd.DataFrame([{"layer": w.name, "weights": " · ".join(f"{v.name} {v.shape}" for v in w.weights) or "–",
                            "params": w.params} for w in weights]), hide_index=True)
st.caption(t("save_load.weights_match", total=f"{sum(w.params for w in weights):,}", summary=f"{model.count_params():,}"))

st.subheader(t("save_load.back_title"))
restored = load_back(keras_file, "model.keras")
x = saving.probe_inputs(model)
difference = float(np.abs(np.asarray(restored(x, training=False)) - np.asarray(model(x, training=False))).max())
st.markdown(t("save_load.back_result", n=len(x), difference=f"{difference}"))
ui.page_link("evaluate", t("save_load.see_evaluate"))

st.subheader(t("save_load.upload_title"))
st.markdown(t("save_load.upload_idea"))
upload = st.file_uploader(t("save_load.upload"), type=["keras", "h5"], key=key("upload"),
                          max_upload_size=-(-saving.MAX_UPLOAD_BYTES // 2 ** 20))
if upload is not None:
    open_upload(upload)

st.subheader(t("save_load.more_title"))
loaded = ui.models.loaded()
live = ui.LiveRun(key("more"))
try:
    dataset = evaluate.dataset_for(loaded.passes)
    exam = ui.models.session_exam(loaded.passes, dataset, data.TEST_SIZE, ("file", loaded.digest))
    before = exam.scores.accuracy
    st.markdown(t("save_load.more_idea", name=ui.literal(loaded.name), accuracy=f"{before:.3f}"))
    live.buttons(t("save_load.more"), saving.continue_job(loaded.model, dataset), before=before)
except evaluate.ModelUnfit as e:
    st.info(t(f"evaluate.unfit.{e.code}", **e.details))
except Refusal as e:  # too costly to run here, its process hit a limit, or too costly to train
    ui.say(e)
live.show(draw_more)

ui.notice("save_load")
ui.code_panel(snippets.save_load_snippet(ui.lang(), **recipe))
ui.references(("save_load.ref_saving", "https://keras.io/guides/serialization_and_saving/"),
              ("common.ref_keras_guide", "https://keras.io/guides/sequential_model/"))

# Once the page is drawn (on a fresh server they would slow its first chart): the training worker
# and the loader process import TensorFlow now, not when a student presses a button or uploads.
training.runner()
saving.get_loader()
