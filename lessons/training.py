"""Training: learning rate, epochs and batch size, and a real model.fit you watch epoch by epoch."""
import streamlit as st

from lib import data, models, plots, snippets, training, ui

t = ui.t
key = ui.keys("training")
DATASETS = ("digits", "mnist", "fashion_mnist")
MODELS = ("mlp", "cnn", "built")
OPTIMIZERS = ("SGD", "RMSprop", "Adam", "Adagrad")
RATES = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 0)  # 0: the full batch
CNN = [{"type": "Conv2D", "filters": 8, "kernel_size": 3, "padding": "same", "activation": "relu"},
       {"type": "MaxPooling2D", "pool_size": 2}, {"type": "Flatten"},
       {"type": "Dense", "units": 10, "activation": "softmax"}]
OVERVIEW_URL = ("http://shuuki4.github.io/deep%20learning/2016/05/20/"
                "Gradient-Descent-Algorithm-Overview.html")


@ui.shared(max_entries=4)
def load(name):
    """The data set, or (digits, the reason) when an online one cannot be fetched."""
    try:
        return name, data.load_dataset(name, timeout=15), None
    except data.DatasetUnavailable as e:
        return "digits", data.load_dataset("digits"), e.reason


def make_job(kind, built, image_shape, settings):
    """(the job of the chosen model with these settings, None), or (None, why it cannot run)."""
    h, w = image_shape[:2]
    if kind == "mlp":  # the study note's model, on flattened images
        model = {"layers": models.PRESETS["seed"][1], "input_shape": (h * w,)}
    elif kind == "cnn":
        model = {"layers": CNN, "input_shape": (h, w, 1)}
    elif built is None:  # nothing built there yet
        return None, t("training.no_built_model")
    else:
        model = {"layers": built.layers, "input_shape": models.INPUT_SHAPES[built.input]}
    try:
        return training.classifier_job(**model, **settings), None
    except (training.TrainingError, models.ModelSpecError) as e:
        return None, ui.refusal_text(e)


def steps_per_epoch(job):
    return training.steps_per_epoch(training.training_examples(job), job.fit.batch_size)


def draw(entry, epochs):
    """The live curves and one sentence on the run (waiting and failing are said by LiveRun)."""
    if entry is None:
        press = t("training.press_train")
        return ui.plot(plots.curves_figure({}, ui.lang(), epochs=epochs, message=press))
    run, history = entry.run, entry.run.history()
    ui.plot(plots.curves_figure(history, ui.lang(), epochs=entry.job.fit.epochs))
    losses = history.get("loss", [])
    if run.status == "running" and not losses:
        st.info(t("training.status.starting"))
    elif run.status == "running":
        st.info(t("training.status.running", epoch=len(losses), epochs=entry.job.fit.epochs,
                  loss=f"{losses[-1]:.3f}", seconds=f"{run.epoch_seconds()[-1]:.2f}"))
    elif run.status == "done" and training.stuck_at_chance(history):  # the rule, with its numbers
        st.warning(t("training.status.stuck", rate=f"{entry.job.compile.learning_rate:g}",
                     **training.chance_numbers(history)))
    elif run.status in ("done", "stopped"):
        validation = f"{history['val_accuracy'][-1]:.3f}" if history.get("val_accuracy") else "–"
        st.info(t(f"training.status.{run.status}", epoch=len(losses), accuracy=validation,
                  seconds=f"{run.seconds():.1f}"))


def keep_and_test(ended):
    """The run kept (the best on validation unless the student picks another); its test, once."""
    if not ended:  # a run still going (the page reran during it) or stopped before its test
        st.caption(t("training.keep_waits"))
        return
    labels = [training.run_label(r.job, ui.lang()) for r in ended]
    best = training.best_on_validation(training.last_validation(ended)) or 0
    kept = st.selectbox(t("training.choose"), range(len(ended)), index=best,
                        format_func=labels.__getitem__)
    st.markdown(training.kept_text(labels, ended, kept, ui.lang()))
    st.caption(t("training.test_why"))


ui.header("training")
controls, picture = ui.controls_and_picture()
live = ui.LiveRun(ui.TRAINING_RUN, keep=5)
with controls:
    asked = ui.choice(st.selectbox, t("training.dataset"), DATASETS, key=key("dataset"),
                      labels=ui.labels("training.datasets"))
    name, dataset, unavailable = load(asked)
    if unavailable:
        st.caption(t("training.offline", name=t(f"training.datasets.{asked}"), reason=unavailable))
    test_size = ui.bound(st.slider, t("training.split"), 0.1, 0.5, 0.2, 0.05, key=key("test"),
                         disabled=name != "digits", help=t("training.split_help"))
    kind = ui.choice(st.selectbox, t("training.model"), MODELS, key=key("model"),
                     labels=ui.labels("training.models"))
    optimizer = ui.choice(st.selectbox, t("training.optimizer"), OPTIMIZERS,
                          key=key("optimizer"), default="Adam")
    rate = ui.bound(st.select_slider, t("training.learning_rate"), RATES, value=0.01, key=key("lr"))
    epochs = ui.bound(st.slider, t("training.epochs"), 1, 100, 10, key=key("epochs"))
    full_batch = t("training.full_batch")
    batch = ui.choice(st.select_slider, t("training.batch_size"), BATCHES, key=key("batch"),
                      default=32, labels=lambda size: str(size) if size else full_batch)
    if name == "digits":  # split as the student asks; an online data set keeps its official split
        dataset = data.load_dataset(name, test_size=test_size)
    settings = dict(dataset=name, optimizer=optimizer, learning_rate=rate, epochs=epochs,
                    batch_size=batch or None, test_size=test_size)
    job, problem = make_job(kind, ui.state.built_model(), dataset.x_train.shape[1:], settings)
    if problem:
        st.error(problem, icon=":material/block:")
        if kind == "built":
            ui.page_link("model")
    live.buttons(t("training.train"), job, stop=True)
with picture:
    live.show(lambda entry: draw(entry, epochs))
facts = {}  # what the page's tasks are checked against (lib/tasks/catalogue/training.toml)
ended = live.current.run if live.current and not live.current.run.active else None
history = ended.history() if job and ended and ended.job.key == job.key else {}
if history.get("val_accuracy"):  # the run of the settings shown, once it has ended
    last = history["val_accuracy"][-1]
    level = "high" if last >= 0.9 else "chance" if training.stuck_at_chance(history) else "mid"
    infos = models.describe(list(job.model.layers), job.model.input_shape)
    facts.update(val_accuracy=last, epochs=len(history["loss"]), steps=steps_per_epoch(job),
                 params=sum(info.params for info in infos), val_outcome=level)

ui.section("training", "data", idea=False)
st.markdown(t("training.data_idea", train=len(dataset.x_train), test=len(dataset.x_test),
              name=t(f"training.datasets.{name}")))
ui.plot(plots.workbook_figure(dataset.x_train[:8], dataset.y_train[:8], dataset.x_test[:8],
                              dataset.y_test[:8], ui.lang()))  # the first 8 of each

ui.section("training", "batch", idea=False)
if job is not None:
    examples = training.training_examples(job)
    st.markdown(t("training.batch_idea", n=examples, batch=job.fit.batch_size,
                  steps=steps_per_epoch(job), validation=len(dataset.x_train) - examples))
finished = [e.run for e in live.entries if e.run.epochs]
labels = [training.run_label(r.job, ui.lang()) for r in finished]
if finished:
    steps = [(lb, r.batch_losses(), steps_per_epoch(r.job)) for lb, r in zip(labels, finished)]
    ui.plot(plots.step_loss_figure(steps, ui.lang()))

ui.section("training", "compare", idea=False)
if len(finished) > 1:
    ui.plot(plots.compare_figure([(lb, r.history()) for lb, r in zip(labels, finished)], ui.lang()))
if finished:  # the runs side by side, compared on validation (the test waits for the one kept)
    ui.table(training.runs_table(finished, labels, ui.lang()), prefix="training.col")
    keep_and_test([r for r in finished if r.test_scores() and r.history().get("val_accuracy")])
else:
    st.caption(t("training.compare_empty"))

ui.notice("training")
if job is not None:
    ui.code_panel(snippets.training_snippet(job, ui.lang()))
ui.references(("common.ref_fit", "https://keras.io/api/models/model_training_apis/"),
              ("common.ref_optimizers_overview", OVERVIEW_URL))

ui.tasks("training", facts)
training.runner()  # start the workers once the page is drawn: Keras loads before any click
