"""The class's own handwriting on the pages: a student gives a drawing to the class's set (on
Evaluate, opt-in, seen first as it would be kept); the teacher trains a model on the set, sees
what it confuses and which drawings it found hardest, deletes any, closes the set, keeps it or
lets it go when the class leaves."""
import hashlib
import logging

import numpy as np
import streamlit as st

from lib import drawing, plots
from lib.classroom import drawings, store as class_store
from lib.ui.classroom import student_id, the_store
from lib.ui.layout import plot
from lib.ui.live_run import LiveRun
from lib.ui.text import lang, refusal_text, say, t

DIGIT, SENT, SAID = "classroom.drawing.digit", "classroom.drawing.sent", "classroom.drawing.said"
HARDEST = 8
log = logging.getLogger(__name__)


def give_drawing(rgba):
    """Under a drawing that reads as a digit: the student may add it, with the digit they meant,
    to the class's set (shown as it would be kept: MNIST's 28x28, ink bright on dark); a drawing
    once given is not sent again."""
    try:
        image = drawing.preprocess_drawing(rgba, (drawings.SIDE, drawings.SIDE))
    except drawing.EmptyDrawing:
        return
    this = hashlib.sha256(image.tobytes()).hexdigest()
    with st.expander(t("classroom.drawing.give"), icon=":material/volunteer_activism:"):
        st.image(image, clamp=True, width=84, caption=t("classroom.drawing.preview"))
        said = st.session_state.pop(SAID, None)
        if st.session_state.get(SENT) == this:
            return st.success(said[1] if said else t("classroom.drawing.given"), icon=":material/check:")
        digit = st.segmented_control(t("classroom.drawing.digit"), list(range(10)), key=DIGIT)
        st.caption(t("classroom.drawing.what_is_sent"))
        st.button(t("classroom.drawing.send"), key="classroom.drawing.send", icon=":material/send:",
                  disabled=digit is None, on_click=_send, args=(image, this))
        if said:
            st.warning(said[1], icon=":material/block:")


def _send(image, this):
    try:
        drawings.add(the_store(), student_id(), image, st.session_state.get(DIGIT))
    except (drawings.DrawingRefused, class_store.StoreDown) as refused:
        st.session_state[SAID] = ("warning", refusal_text(refused))
    else:
        st.session_state[SAID] = ("success", t("classroom.drawing.sent", digit=st.session_state.get(DIGIT)))
        st.session_state[SENT], st.session_state[DIGIT] = this, None  # the next drawing's digit is chosen anew


def class_drawings():
    """The teacher's look at the class's set: how many of each digit, a model trained on them,
    its confusion matrix on the held-out drawings, the hardest drawings, and deleting."""
    store = the_store()
    try:
        kept = drawings.ClassSet(store.drawings())
        for name in (drawings.KEEP, drawings.CLOSED):
            st.session_state.setdefault(name, store.setting(name) == "1")
    except class_store.StoreDown:
        return  # the class view above says the store does not answer: the set is in it
    st.subheader(t("classroom.drawing.title"), anchor=False)
    st.markdown(t("classroom.drawing.idea", n=len(kept), most=drawings.MAX_DRAWINGS))
    left, right = st.columns(2)
    for place, name, label in ((left, drawings.CLOSED, t("classroom.drawing.closed")),
                               (right, drawings.KEEP, t("classroom.drawing.keep"))):
        place.toggle(label, key=name, on_change=_put_setting, args=(store, name))
    if not len(kept):
        return
    plot(plots.digits_figure(kept.per_digit(), lang()))
    live = LiveRun("drawings.fit")
    job = drawings.training_job(kept) if drawings.can_train(kept) else None
    if job is None:
        st.info(t("classroom.drawing.too_few", least=drawings.MIN_TO_TRAIN), icon=":material/hourglass:")
    train, test = kept.split()
    live.buttons(t("classroom.drawing.train", epochs=drawings.EPOCHS), job,
                 numbers=[kept.numbers[k] for k in np.concatenate([train, test])])
    live.show(_trained)
    _delete(store, kept)


def _trained(entry):
    if entry is None or entry.run.status not in ("done", "budget"):
        return
    run = entry.run
    judged = st.session_state.setdefault("drawings.judged", {})
    if run.id not in judged:  # once per run: the model is built and asked in this server
        judged.clear()
        x_train, y_train, _, _, x_test, y_test = run.job.data.arrays()
        model = run.model()
        x, y = np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test])
        probabilities = np.asarray(model(x))
        judged[run.id] = (probabilities, x, y, len(x_train))
    probabilities, x, y, n_train = judged[run.id]
    predicted = probabilities[n_train:].argmax(axis=1)
    st.markdown(t("classroom.drawing.scores", train=n_train, test=len(x) - n_train,
                  accuracy=f"{run.test_scores().get('accuracy', float('nan')):.3f}"))
    plot(plots.confusion_figure(drawings.confusion(y[n_train:], predicted), range(10), lang()))
    hardest = drawings.hardest(probabilities, y, HARDEST)
    st.markdown(t("classroom.drawing.hardest", n=len(hardest)))
    plot(plots.mistakes_figure(x[hardest, ..., 0], probabilities[hardest], y[hardest], lang()))
    st.caption(" · ".join(f"#{entry.meta['numbers'][k]}" for k in hardest))


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


def _put_setting(store, name):
    try:
        store.put_setting(name, "1" if st.session_state.get(name) else None)
    except class_store.StoreDown as e:
        st.session_state[name] = not st.session_state.get(name)  # not kept: the toggle says what is
        log.warning("the class's store did not keep %s: %s", name, e)


def when_class_leaves():
    """This server has no session (asked every minute while so: lib.server.while_idle): the class's
    set goes, unless the teacher keeps it or, with replicas, the class is still here on another
    server or left less than 10 minutes ago (lib.classroom.drawings.class_has_ended)."""
    _drop_if(drawings.class_has_ended, "the class's drawings were not dropped")


def when_server_starts():
    """The set a class left behind while no server watched it leave (a crash, a stop) goes at the
    next start (lib.classroom.drawings.left_behind)."""
    _drop_if(drawings.left_behind, "the drawings a class left behind were not dropped")


def _drop_if(may_go, failed):
    """Drop the class's set when `may_go(store)`. Never raises: it runs beside the server's other
    actions, and the store down (or anything else) is said in the log and the server goes on."""
    try:
        store = the_store()
        if may_go(store):
            store.drop_drawings()
    except Exception as e:
        log.warning("%s: %s", failed, e)
