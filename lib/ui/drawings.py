"""The class's own handwriting on the pages: a student gives a drawing to the class's set (on
Evaluate, opt-in, seen first as it would be kept); the teacher trains a model on the set, sees
what it confuses and which drawings it found hardest, deletes any, keeps the set or lets it go
when the class leaves."""
import numpy as np
import streamlit as st

from lib import drawing, plots
from lib.classroom import drawings, store as class_store
from lib.ui.classroom import student_id, the_store
from lib.ui.layout import plot
from lib.ui.live_run import LiveRun
from lib.ui.text import lang, say, t

KEEP = "drawings.keep"  # the class's setting: "1" keeps the set when the class leaves
HARDEST = 8
# A browser the store saw within this is still in the class (on another replica): its set stays.
# The class-left actions run a minute after this server's last tab closed, so its own are older.
STILL_HERE_S = 45


def give_drawing(rgba):
    """Under a drawing that reads as a digit: the student may add it, with the digit they meant,
    to the class's set (shown as it would be kept: MNIST's 28x28, ink bright on dark)."""
    try:
        image = drawing.preprocess_drawing(rgba, (drawings.SIDE, drawings.SIDE))
    except drawing.EmptyDrawing:
        return
    with st.expander(t("classroom.drawing.give"), icon=":material/volunteer_activism:"):
        st.image(image, clamp=True, width=84, caption=t("classroom.drawing.preview"))
        digit = st.segmented_control(t("classroom.drawing.digit"), list(range(10)), key="classroom.drawing.digit")
        st.caption(t("classroom.drawing.what_is_sent"))
        if st.button(t("classroom.drawing.send"), key="classroom.drawing.send", icon=":material/send:",
                     disabled=digit is None):
            try:
                drawings.add(the_store(), student_id(), image, digit)
            except (drawings.DrawingRefused, class_store.StoreDown) as refused:
                say(refused, kind="warning")
            else:
                st.success(t("classroom.drawing.sent", digit=digit), icon=":material/check:")


def class_drawings():
    """The teacher's look at the class's set: how many of each digit, a model trained on them,
    its confusion matrix on the held-out drawings, the hardest drawings, and deleting."""
    st.subheader(t("classroom.drawing.title"), anchor=False)
    store = the_store()
    try:
        kept = drawings.ClassSet(store.drawings())
        keep = store.setting(KEEP) == "1"
    except class_store.StoreDown as e:
        return say(e, icon=":material/cloud_off:")
    st.markdown(t("classroom.drawing.idea", n=len(kept), most=drawings.MAX_DRAWINGS))
    if st.toggle(t("classroom.drawing.keep"), value=keep, key="drawings.keep_toggle") != keep:
        _put_setting(store, None if keep else "1")
    if not len(kept):
        return
    plot(plots.digits_figure(kept.per_digit(), lang()))
    live = LiveRun("drawings.fit")
    job = drawings.training_job(kept) if drawings.can_train(kept) else None
    if job is None:
        st.info(t("classroom.drawing.too_few", least=drawings.MIN_TO_TRAIN), icon=":material/hourglass:")
    live.buttons(t("classroom.drawing.train", epochs=drawings.EPOCHS), job)
    live.show(lambda entry: _trained(entry, kept))
    _delete(store, kept)


def _trained(entry, kept):
    if entry is None or entry.run.status not in ("done", "budget"):
        return
    run = entry.run
    x_train, y_train, _, _, x_test, y_test = run.job.data.arrays()
    model = run.model()
    predicted = np.asarray(model(x_test)).argmax(axis=1) if len(x_test) else np.zeros(0, dtype="int64")
    st.markdown(t("classroom.drawing.scores", train=len(x_train), test=len(x_test),
                  accuracy=f"{run.test_scores().get('accuracy', float('nan')):.3f}"))
    plot(plots.confusion_figure(drawings.confusion(y_test, predicted), range(10), lang()))
    probabilities = np.asarray(model(kept.x.astype("float32")))
    hardest = drawings.hardest(probabilities, kept.y, HARDEST)
    st.markdown(t("classroom.drawing.hardest", n=len(hardest)))
    plot(plots.mistakes_figure(kept.x[hardest, ..., 0], probabilities[hardest], kept.y[hardest], lang()))
    st.caption(" · ".join(f"#{kept.numbers[k]}" for k in hardest))


def _delete(store, kept):
    labels = {number: f"#{number} ({digit})" for number, digit in zip(kept.numbers, kept.y.tolist())}
    chosen = st.multiselect(t("classroom.drawing.pick"), list(labels), format_func=labels.get,
                            placeholder=t("classroom.drawing.pick_by_number"), key="drawings.chosen")
    left, right = st.columns(2)
    if left.button(t("classroom.drawing.delete", n=len(chosen)), key="drawings.delete", disabled=not chosen,
                   icon=":material/delete:", width="stretch"):
        _drop(store, chosen)
    if right.button(t("classroom.drawing.delete_all", n=len(kept)), key="drawings.delete_all",
                    icon=":material/delete_sweep:", width="stretch"):
        _drop(store, None)


def _drop(store, numbers):
    try:
        store.drop_drawings(numbers)
    except class_store.StoreDown as e:
        return say(e, icon=":material/cloud_off:")
    st.session_state.pop("drawings.chosen", None)
    st.rerun()


def _put_setting(store, value):
    try:
        store.put_setting(KEEP, value)
    except class_store.StoreDown as e:
        say(e, icon=":material/cloud_off:")


def when_class_leaves():
    """The class has left this server: its drawings go, unless the teacher keeps them or another
    server of the class still has students (replicas share the set)."""
    try:
        store = the_store()
        if store.setting(KEEP) != "1" and not store.present(STILL_HERE_S):
            store.drop_drawings()
    except class_store.StoreDown:
        pass  # the store is down: nothing can be dropped, and nothing read from it either
