"""Optimizers: real Keras optimizers walking down real surfaces, and racing on real data."""
import streamlit as st

from lib import optimizers, plots, snippets, training, ui

t = ui.t
key = ui.keys("optimizers")
RATES = optimizers.LEARNING_RATES  # the server walks the first view at each of them
MOMENTA = (0.5, 0.8, 0.9, 0.95, 0.99)
BETAS_2 = (0.9, 0.99, 0.999, 0.9999)
LABELS = {k: label for k, (label, _, _) in optimizers.RACERS.items()}
DEFAULT_RACERS = list(optimizers.DEFAULT_RACERS)
DEFAULTS = optimizers.DEFAULT_SETTINGS  # momentum, rho, betas: what the server walks before anyone asks
SETTINGS = (("momentum", "momentum", MOMENTA), ("rho", "rho (RMSprop)", MOMENTA),  # (name, label, values)
            ("beta_1", "beta_1 (Adam)", MOMENTA), ("beta_2", "beta_2 (Adam)", BETAS_2))
TRIO = tuple(zip(optimizers.TRIO_FACTORS, ("#64748b", "#16a34a", "#dc2626")))  # rate/10, rate, rate×10
TRIO_PIXELS = 300  # a side of each of the trio's pictures
NUMBERS = dict.fromkeys(("loss", "distance"), "{:.4g}")
RISING = ":material/trending_up:"  # the icon of a warning that a loss went up and away
OVERVIEW_URL = ("http://shuuki4.github.io/deep%20learning/2016/05/20/"
                "Gradient-Descent-Algorithm-Overview.html")


def surface_changed():
    """A new surface starts from its own start and its own sensible learning rate."""
    surface = optimizers.SURFACES[st.session_state[key("surface")]]
    st.session_state.update({key("lr"): surface.learning_rate, key("start_x"): surface.start[0],
                             key("start_y"): surface.start[1]})


def start_box(column, axis, surface, on_change):
    """Where the racers start along one axis: a number on the map drawn."""
    low, high = map(float, surface.x_range if axis == "x" else surface.y_range)
    start = surface.start[0 if axis == "x" else 1]
    return ui.bound(column.number_input, t(f"optimizers.start_{axis}"), low, high, float(start),
                    0.1, key=key(f"start_{axis}"), on_change=on_change)


@ui.shared(max_entries=16)
def maps(name):
    """The surface's map as the race's backdrop (from two grid points a pixel: its lines come out
    smooth), and as the trio's picture, smaller (RGB, TRIO_PIXELS a side)."""
    surface = optimizers.SURFACES[name]
    grid = optimizers.landscape(name, 2 * plots.RACE_PIXELS)
    return (plots.race_backdrop(plots.landscape_rgb(grid, surface.log_levels), surface),
            plots.landscape_rgb(grid, surface.log_levels, pixels=TRIO_PIXELS))


def outcome(result):
    return t(f"optimizers.outcome.{result.outcome}", step=result.left_at)


def race_picture(surface, backdrop, walks, results):
    """The racers' paths, who is who, and Play: the race as an animation, drawn when asked."""
    picture = st.container()  # above the legend and Play, though drawn after them
    st.html(plots.race_legend([label + (" ✕" if results[label].left_at is not None else "") for label in walks],
                              ui.lang()))
    if st.button(t("optimizers.fig.play"), icon=":material/play_arrow:", key=key("play")):
        plays = st.session_state[key("plays")] = st.session_state.get(key("plays"), 0) + 1  # a new GIF: played anew
        picture.image(plots.race_animation(surface, backdrop, list(walks.items()), tag=plays), output_format="GIF")
    else:
        picture.image(plots.race_picture(surface, backdrop, list(walks.items())), output_format="PNG")


def draw_race(entry, epochs):
    """The race on the digits: each racer's curves (✕: diverged), and the winner once it ends."""
    if entry is None:
        press = t("optimizers.press_race")
        return ui.plot(plots.curves_figure({}, ui.lang(), epochs=epochs, message=press))
    run, labels = entry.run, entry.meta["labels"]
    diverged = [label for k, label in enumerate(labels) if run.outcome(k) == "diverged"]
    histories = [(f"{label} ✕" if label in diverged else label, run.history(k))
                 for k, label in enumerate(labels)]
    ui.plot(plots.data_race_figure(histories, ui.lang(), epochs=entry.job.fit.epochs))
    if diverged:
        st.warning(t("optimizers.race_diverged", names=", ".join(diverged)), icon=RISING)
    chosen_one = optimizers.race_result(run, labels, ui.lang())  # chosen on validation, tested once
    if chosen_one:
        st.caption(chosen_one)


@ui.part("optimizers", "race")
def surface_race():
    """The racers walking down the surface, where each ended, and one of them at three learning
    rates. A nudge reruns this part and the page's code; a change of racers or their settings,
    which the race on the digits below runs too, the whole page."""
    in_code = ui.redraws("optimizers", "race", "end")
    controls, picture = ui.controls_and_picture()
    with controls:
        name = ui.choice(st.selectbox, t("optimizers.surface"), optimizers.SURFACES, key=key("surface"),
                         labels=ui.labels("optimizers.surfaces"),
                         on_change=ui.redraws("optimizers", "race", "end", first=surface_changed))
        surface = optimizers.SURFACES[name]
        chosen = ui.choice(st.multiselect, t("optimizers.racers"), optimizers.RACERS, key=key("racers"),
                           default=DEFAULT_RACERS, labels=LABELS.get, on_change=ui.reruns_page())
        lr = ui.bound(st.select_slider, t("optimizers.learning_rate"), RATES, surface.learning_rate,
                      key=key("lr"), on_change=in_code)
        steps = ui.bound(st.slider, t("optimizers.steps"), 10, optimizers.MAX_STEPS, optimizers.DEFAULT_STEPS, 10,
                         key=key("steps"), on_change=in_code)
        with st.expander(t("optimizers.more")):  # each racer takes the settings it has
            settings = {setting: ui.bound(st.select_slider, label, values, DEFAULTS[setting], key=key(setting),
                                          on_change=ui.reruns_page()) for setting, label, values in SETTINGS}
            x_col, y_col = st.columns(2)
            start_point = (start_box(x_col, "x", surface, in_code), start_box(y_col, "y", surface, in_code))

    racers = {racer: optimizers.racer(racer, settings) for racer in chosen}  # (Keras name, options)
    course = dict(learning_rate=lr, steps=steps, start=start_point)  # the same for every racer
    walks, problem = {}, None  # {label: path}
    try:
        for racer, (optimizer, options) in racers.items():
            walks[LABELS[racer]] = optimizers.trajectory(optimizer, name, **course, **options)
    except optimizers.OptimizerError as e:
        problem = ui.refusal_text(e)
    results = {label: optimizers.summary(path, name) for label, path in walks.items()}

    with picture:
        if problem:
            st.error(problem, icon=":material/block:")
        elif not chosen:
            st.info(t("optimizers.choose_one"))
        else:
            race_picture(surface, maps(name)[0], walks, results)
    if results:
        ends = list(results.values())  # where each walk ended: an optimizers.summary
        table = {"optimizer": list(results), "loss": [end.final_loss for end in ends],
                 "distance": [end.distance for end in ends], "outcome": [outcome(end) for end in ends]}
        ui.live_table(table, prefix="optimizers.col", formats=NUMBERS)
        left = [label for label, result in results.items() if result.left_at is not None]
        if left:
            st.warning(t("optimizers.left_plot", names=", ".join(left)), icon=RISING)
    st.caption(t(f"optimizers.about.{name}"))
    if chosen:
        st.markdown("\n".join(f"- **{LABELS[r]}**: {t(f'optimizers.racer_about.{r}')}" for r in chosen))

    ui.section("optimizers", "trio")
    trio_racer = ui.choice(st.selectbox, t("optimizers.trio_optimizer"), optimizers.RACERS,
                           key=key("trio"), default="sgd", labels=LABELS.get)
    if not problem:
        optimizer, options = optimizers.racer(trio_racer, settings)
        trio = []  # (label, path, colour) at a tenth of the learning rate, at it, at ten times it
        for factor, color in TRIO:
            rate = min(lr * factor, optimizers.MAX_LEARNING_RATE)
            path = optimizers.trajectory(optimizer, name, **dict(course, learning_rate=rate), **options)
            ended = outcome(optimizers.summary(path, name))
            trio.append((f"{LABELS[trio_racer]} · lr = {rate:g} — {ended}", path, color))
        ui.pictures(*plots.trio_pictures(surface, maps(name)[1], trio), across=3)

    return dict(surface=surface, chosen=chosen, racers=racers, lr=lr, steps=steps, start=start_point,
                shown=bool(results) and not problem, facts=optimizers.race_facts(results))


@ui.part("optimizers", "end")
def page_end():
    """What to notice, and the code that walks the racers above."""
    walked = ui.part_result("optimizers", "race")
    ui.notice("optimizers")
    if walked["shown"]:
        shown = [(LABELS[racer], training.Compile(optimizer, walked["lr"], options))
                 for racer, (optimizer, options) in walked["racers"].items()]
        ui.code_panel(snippets.trajectory_snippet(walked["surface"], shown, walked["lr"], walked["steps"],
                                                  walked["start"], ui.lang()))
    ui.references(("common.ref_optimizers", "https://keras.io/api/optimizers/"),
                  ("common.ref_optimizers_overview", OVERVIEW_URL))


ui.header("optimizers")
walked = surface_race()
racers, chosen = walked["racers"], walked["chosen"]

ui.section("optimizers", "data")
data_controls, data_picture = ui.controls_and_picture()
live = ui.LiveRun(key("race_run"))
with data_controls:
    data_lr = ui.bound(st.select_slider, t("optimizers.learning_rate"), RATES, 0.01, key=key("data_lr"))
    data_epochs = ui.bound(st.slider, "epochs", 1, 20, 5, key=key("data_epochs"))
    race_job = (optimizers.data_race_job(list(racers.values()), learning_rate=data_lr, epochs=data_epochs)
                if racers else None)
    race_labels = [LABELS[racer] for racer in chosen]
    live.buttons(t("optimizers.race"), race_job, stop=True, icon=":material/sprint:",
                 labels=race_labels)
with data_picture:
    live.show(lambda entry: draw_race(entry, data_epochs))
if race_job is not None:
    with st.expander(t("optimizers.race_code")):
        race_code = snippets.optimizer_race_snippet(race_job, ui.lang(), race_labels)
        ui.code_panel(race_code, part="race", heading=False)

page_end()
ui.tasks("optimizers", walked["facts"])

training.runner()  # start the workers once the page is drawn: Keras loads before any click
