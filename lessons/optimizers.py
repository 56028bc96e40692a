"""Optimizers: real Keras optimizers walking down real surfaces, and racing on real data."""
import pandas as pd
import streamlit as st

from lib import optimizers, plots, snippets, training, ui

t = ui.t
key = ui.keys("optimizers")
RATES = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.05, 0.1, 0.3, 1.0, 3.0, 10.0)
MOMENTA = (0.5, 0.8, 0.9, 0.95, 0.99)
BETAS_2 = (0.9, 0.99, 0.999, 0.9999)
LABELS = {k: label for k, (label, _, _) in optimizers.RACERS.items()}


def surface_changed():
    """A new surface starts from its own start and its own sensible learning rate."""
    surface = optimizers.SURFACES[st.session_state[key("surface")]]
    st.session_state.update({key("lr"): surface.learning_rate, key("start_x"): surface.start[0],
                             key("start_y"): surface.start[1]})


def start_box(column, axis, bounds, start):
    """Where the racers start along one axis: a number on the map drawn."""
    low, high = map(float, bounds)
    return ui.bound(column.number_input, t(f"optimizers.start_{axis}"), low, high, float(start), 0.1,
                    key=key(f"start_{axis}"))


@st.cache_data(show_spinner=False, max_entries=16)
def landscape(name):
    return optimizers.landscape(name)


def outcome(result):
    return t(f"optimizers.outcome.{result.outcome}", step=result.left_at)


def draw_race(entry):
    if entry is None:
        return ui.plot(plots.curves_figure({}, ui.lang(), epochs=data_epochs, message=t("optimizers.press_race")))
    run, labels = entry.run, entry.meta["labels"]
    histories = [(f"{label} ✕" if run.outcome(k) == "diverged" else label, run.history(k)) for k, label in enumerate(labels)]
    ui.plot(plots.data_race_figure(histories, ui.lang(), epochs=entry.job.fit.epochs))
    diverged = [label for k, label in enumerate(labels) if run.outcome(k) == "diverged"]
    if diverged:
        st.warning(t("optimizers.race_diverged", names=", ".join(diverged)), icon=":material/trending_up:")
    scores = [run.test_scores(k).get("accuracy", -1) if run.outcome(k) != "diverged" else -1 for k in range(len(labels))]
    if run.result and max(scores) >= 0:
        best = scores.index(max(scores))
        st.caption(t("optimizers.race_result", name=labels[best], accuracy=f"{scores[best]:.3f}"))


ui.header("optimizers")
controls, picture = st.columns([1, 2.4], gap="large")
with controls:
    name = ui.choice(st.selectbox, t("optimizers.surface"), optimizers.SURFACES, key=key("surface"),
                     labels=ui.labels("optimizers.surfaces"), on_change=surface_changed)
    surface = optimizers.SURFACES[name]
    chosen = ui.choice(st.multiselect, t("optimizers.racers"), optimizers.RACERS, key=key("racers"),
                       default=["sgd", "momentum", "nesterov", "rmsprop", "adam", "adagrad"], labels=LABELS.get)
    lr = ui.bound(st.select_slider, t("optimizers.learning_rate"), RATES, surface.learning_rate, key=key("lr"))
    steps = ui.bound(st.slider, t("optimizers.steps"), 10, optimizers.MAX_STEPS, 200, 10, key=key("steps"))
    with st.expander(t("optimizers.more")):
        settings = {"momentum": ui.bound(st.select_slider, "momentum", MOMENTA, 0.9, key=key("momentum")),
                    "rho": ui.bound(st.select_slider, "rho (RMSprop)", MOMENTA, 0.9, key=key("rho")),
                    "beta_1": ui.bound(st.select_slider, "beta_1 (Adam)", MOMENTA, 0.9, key=key("beta_1")),
                    "beta_2": ui.bound(st.select_slider, "beta_2 (Adam)", BETAS_2, 0.999, key=key("beta_2"))}
        x_col, y_col = st.columns(2)
        start_point = (start_box(x_col, "x", surface.x_range, surface.start[0]),
                       start_box(y_col, "y", surface.y_range, surface.start[1]))

racers = {racer: optimizers.racer(racer, settings) for racer in chosen}  # (Keras name, options)
paths, rows, left, problem = [], [], [], None
try:
    for racer, (optimizer, options) in racers.items():
        path = optimizers.trajectory(optimizer, name, learning_rate=lr, steps=steps, start=start_point, **options)
        result = optimizers.summary(path, name)
        paths.append((LABELS[racer], path))
        if result.left_at is not None:
            left.append(LABELS[racer])
        rows.append({t("optimizers.col.optimizer"): LABELS[racer], t("optimizers.col.loss"): result.final_loss,
                     t("optimizers.col.distance"): result.distance, t("optimizers.col.outcome"): outcome(result)})
except optimizers.OptimizerError as e:
    problem = t(f"optimizers.error.{e.code}", **e.details)

with picture:
    if problem:
        st.error(problem, icon=":material/block:")
    elif not chosen:
        st.info(t("optimizers.choose_one"))
    else:
        ui.plot(plots.race_figure(surface, landscape(name), paths, ui.lang()))
if rows:
    st.dataframe(pd.DataFrame(rows), hide_index=True, column_config={
        t("optimizers.col.loss"): st.column_config.NumberColumn(format="%.4g"),
        t("optimizers.col.distance"): st.column_config.NumberColumn(format="%.4g")})
    if left:
        st.warning(t("optimizers.left_plot", names=", ".join(left)), icon=":material/trending_up:")
st.caption(t(f"optimizers.about.{name}"))
if chosen:
    st.markdown("\n".join(f"- **{LABELS[racer]}**: {t(f'optimizers.racer_about.{racer}')}" for racer in chosen))

st.subheader(t("optimizers.trio_title"))
st.markdown(t("optimizers.trio_idea"))
trio_key = ui.choice(st.selectbox, t("optimizers.trio_optimizer"), optimizers.RACERS, key=key("trio"), default="sgd",
                     labels=LABELS.get)
if not problem:
    optimizer, options = optimizers.racer(trio_key, settings)
    trio = []
    for factor, color in ((0.1, "#64748b"), (1.0, "#16a34a"), (10.0, "#dc2626")):
        rate = min(lr * factor, optimizers.MAX_LEARNING_RATE)
        path = optimizers.trajectory(optimizer, name, learning_rate=rate, steps=steps, start=start_point, **options)
        trio.append((f"{LABELS[trio_key]} · lr = {rate:g} — {outcome(optimizers.summary(path, name))}", path, color))
    ui.plot(plots.rate_trio_figure(surface, landscape(name), trio, ui.lang()))

st.subheader(t("optimizers.data_title"))
st.markdown(t("optimizers.data_idea"))
data_controls, data_picture = st.columns([1, 2.4], gap="large")
live = ui.LiveRun(key("race_run"))
with data_controls:
    data_lr = ui.bound(st.select_slider, t("optimizers.learning_rate"), RATES, 0.01, key=key("data_lr"))
    data_epochs = ui.bound(st.slider, "epochs", 1, 20, 5, key=key("data_epochs"))
    race_job = optimizers.data_race_job(list(racers.values()), learning_rate=data_lr, epochs=data_epochs) if racers else None
    live.buttons(t("optimizers.race"), race_job, stop=True, icon=":material/sprint:",
                 labels=[LABELS[racer] for racer in chosen])
with data_picture:
    live.show(draw_race)
if race_job is not None:
    with st.expander(t("optimizers.race_code")):
        st.code(snippets.optimizer_race_snippet(race_job, ui.lang()), language="python")

ui.notice("optimizers")
if rows and not problem:
    shown = [(LABELS[racer], training.Compile(optimizer, lr, options)) for racer, (optimizer, options) in racers.items()]
    ui.code_panel(snippets.trajectory_snippet(surface, shown, lr, steps, start_point, ui.lang()))
ui.references(("common.ref_optimizers", "https://keras.io/api/optimizers/"),
              ("common.ref_optimizers_overview", "http://shuuki4.github.io/deep%20learning/2016/05/20/Gradient-Descent-Algorithm-Overview.html"))

training.runner()  # start the workers once the page is drawn: Keras is imported before the first click
