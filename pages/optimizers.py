"""Optimizers: real Keras optimizers walking down real surfaces, and racing on real data."""
import itertools
import math

import pandas as pd
import streamlit as st

from lib import optimizers, plots, snippets, training, ui

t = ui.t
RATES = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.05, 0.1, 0.3, 1.0, 3.0, 10.0)
MOMENTA = (0.5, 0.8, 0.9, 0.95, 0.99)
BETAS_1 = (0.5, 0.8, 0.9, 0.95, 0.99)
BETAS_2 = (0.9, 0.99, 0.999, 0.9999)
RACERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adagrad", "adadelta", "adamax", "nadam", "adamw", "lion")
LABELS = {"sgd": "SGD", "momentum": "SGD + momentum", "nesterov": "Nesterov", "rmsprop": "RMSprop", "adam": "Adam",
          "adagrad": "Adagrad", "adadelta": "Adadelta", "adamax": "Adamax", "nadam": "Nadam", "adamw": "AdamW",
          "lion": "Lion"}  # Keras names: the same in every language
training.runner()  # start the workers now: Keras is imported before the first click
redraws = itertools.count()


def racer(key, settings):
    """(Keras optimizer name, constructor options) of one racer under the page's settings."""
    momentum, rho, beta_1, beta_2 = (settings[k] for k in ("momentum", "rho", "beta_1", "beta_2"))
    return {"sgd": ("SGD", {}), "momentum": ("SGD", {"momentum": momentum}),
            "nesterov": ("SGD", {"momentum": momentum, "nesterov": True}), "rmsprop": ("RMSprop", {"rho": rho}),
            "adam": ("Adam", {"beta_1": beta_1, "beta_2": beta_2})}.get(key, (LABELS[key], {}))


def surface_changed():
    """A new surface starts from its own start and its own sensible learning rate."""
    surface = optimizers.SURFACES[st.session_state["optimizers.surface"]]
    st.session_state.update(lr=surface.learning_rate, start_x=surface.start[0], start_y=surface.start[1])


@st.cache_data(show_spinner=False, max_entries=16)
def landscape(name):
    return optimizers.landscape(name)


def outcome(result):
    if result.left_at is not None:
        return t("optimizers.outcome.left", step=result.left_at)
    if math.isnan(result.distance):
        return t("optimizers.outcome.no_minimum")
    return t("optimizers.outcome.reached") if result.distance < 0.01 else t("optimizers.outcome.on_its_way")


ui.header("optimizers")
controls, picture = st.columns([1, 2.4], gap="large")
with controls:
    name = ui.choice(st.selectbox, t("optimizers.surface"), optimizers.SURFACES, key="optimizers.surface",
                     labels=ui.labels("optimizers.surfaces"), on_change=surface_changed)
    surface = optimizers.SURFACES[name]
    chosen = ui.choice(st.multiselect, t("optimizers.racers"), RACERS, key="optimizers.racers",
                       default=["sgd", "momentum", "nesterov", "rmsprop", "adam", "adagrad"], labels=LABELS.get)
    lr = st.select_slider(t("optimizers.learning_rate"), RATES, surface.learning_rate, key="lr", bind="query-params")
    steps = st.slider(t("optimizers.steps"), 10, optimizers.MAX_STEPS, 200, 10, key="steps", bind="query-params")
    with st.expander(t("optimizers.more")):
        settings = {"momentum": st.select_slider("momentum", MOMENTA, 0.9, key="momentum", bind="query-params"),
                    "rho": st.select_slider("rho (RMSprop)", MOMENTA, 0.9, key="rho", bind="query-params"),
                    "beta_1": st.select_slider("beta_1 (Adam)", BETAS_1, 0.9, key="beta_1", bind="query-params"),
                    "beta_2": st.select_slider("beta_2 (Adam)", BETAS_2, 0.999, key="beta_2", bind="query-params")}
        x_col, y_col = st.columns(2)
        start_point = (x_col.number_input(t("optimizers.start_x"), value=float(surface.start[0]), step=0.1,
                                          key="start_x", bind="query-params"),
                       y_col.number_input(t("optimizers.start_y"), value=float(surface.start[1]), step=0.1,
                                          key="start_y", bind="query-params"))

paths, rows, left, problem = [], [], [], None
try:
    for key in chosen:
        optimizer, options = racer(key, settings)
        path = optimizers.trajectory(optimizer, name, learning_rate=lr, steps=steps, start=start_point, **options)
        result = optimizers.summary(path, name)
        paths.append((LABELS[key], path))
        if result.left_at is not None:
            left.append(LABELS[key])
        rows.append({t("optimizers.col.optimizer"): LABELS[key], t("optimizers.col.loss"): result.final_loss,
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

st.subheader(t("optimizers.trio_title"))
st.markdown(t("optimizers.trio_idea"))
trio_key = ui.choice(st.selectbox, t("optimizers.trio_optimizer"), RACERS, key="optimizers.trio", default="sgd",
                     labels=LABELS.get)
if not problem:
    optimizer, options = racer(trio_key, settings)
    trio = []
    for factor, color in ((0.1, "#64748b"), (1.0, "#16a34a"), (10.0, "#dc2626")):
        rate = min(lr * factor, optimizers.MAX_LEARNING_RATE)
        path = optimizers.trajectory(optimizer, name, learning_rate=rate, steps=steps, start=start_point, **options)
        trio.append((f"{LABELS[trio_key]} · lr = {rate:g} — {outcome(optimizers.summary(path, name))}", path, color))
    ui.plot(plots.rate_trio_figure(surface, landscape(name), trio, ui.lang()))

st.subheader(t("optimizers.data_title"))
st.markdown(t("optimizers.data_idea"))
data_controls, data_picture = st.columns([1, 2.4], gap="large")
with data_controls:
    data_lr = st.select_slider(t("optimizers.learning_rate"), RATES, 0.01, key="data_lr", bind="query-params")
    data_epochs = st.slider("epochs", 1, 20, 5, key="data_epochs", bind="query-params")
    racers = [racer(key, settings) for key in chosen]
    race_job = optimizers.data_race_job(racers, learning_rate=data_lr, epochs=data_epochs) if racers else None
    race = ui.run_button(t("optimizers.race"), "race", race_job, remember="optimizer_race", icon=":material/sprint:",
                         labels=[LABELS[key] for key in chosen])
with data_picture:
    race_chart, race_status = st.empty(), st.empty()
if racers:
    with st.expander(t("optimizers.race_code")):
        st.code(snippets.optimizer_race_snippet(racers, data_lr, data_epochs, ui.lang()), language="python")


def draw_race():
    if race is None:
        race_chart.plotly_chart(plots.curves_figure({}, ui.lang(), epochs=data_epochs, message=t("optimizers.press_race")),
                                config=ui.PLOT_CONFIG)
        return
    run = race["run"]
    histories = [(label, run.history(k)) for k, label in enumerate(race["labels"])]
    race_chart.plotly_chart(plots.data_race_figure(histories, ui.lang(), epochs=race["job"].fit["epochs"]),
                            config=ui.PLOT_CONFIG, key=f"race{next(redraws)}")
    if not ui.show_run_notice(race_status, run) and run.result:
        best = max(range(len(histories)), key=lambda k: run.result["test"][k]["accuracy"])
        race_status.caption(t("optimizers.race_result", name=race["labels"][best],
                              accuracy=f"{run.result['test'][best]['accuracy']:.3f}"))


ui.notice("optimizers")
if rows and not problem:
    ui.code_panel(snippets.trajectory_snippet(surface, [(LABELS[k], *racer(k, settings)) for k in chosen], lr, steps,
                                              start_point, ui.lang()))
ui.references(("common.ref_optimizers", "https://keras.io/api/optimizers/"),
              ("common.ref_optimizers_overview", "http://shuuki4.github.io/deep%20learning/2016/05/20/Gradient-Descent-Algorithm-Overview.html"))
ui.follow(race and race["run"], draw_race)
