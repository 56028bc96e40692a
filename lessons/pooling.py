"""Pooling: shrink a feature map by keeping one number per window, with real Keras pooling
layers."""
import dataclasses

import numpy as np
import streamlit as st

from lib import data, filters, plots, pooling, snippets, ui

t = ui.t
key = ui.keys("pooling")
SOURCES = ("china", "flower", "digit", "feature_map")
SAME_AS_POOL = 0  # the strides option that means "= pool_size" (Keras's default, strides=None)
REFERENCES = (("common.ref_pooling", "https://keras.io/api/layers/pooling_layers/"),
              ("common.ref_keras_guide", "https://keras.io/guides/sequential_model/"))


@dataclasses.dataclass(frozen=True)
class PoolInput:
    """What the page pools: the image, how the shown code makes it, the Conv2D before it
    ((kernel, stride, padding), or None), and whether its values are signed."""
    image: np.ndarray
    how: dict
    conv: tuple | None = None
    signed: bool = False


@ui.shared_figure
def seed_figure(mode, lang):
    """The study note's example: a 32×32 photo, pooled with a 2×2 window to 16×16."""
    image = data.square_photo("china", 32)
    return plots.pooled_pair_figure(image, pooling.pool(image, pool_size=2, mode=mode), lang)


@ui.shared_figure
def windows_pictures(digit, pool_size, strides, padding, mode, lang):
    """((pictures, titles), number of windows) for one digit's pixels on the digits' own 0..16 scale."""
    grid = np.round(data.digit(digit)[0] * 16)  # whole numbers a student can read
    boxes = pooling.windows(grid, pool_size=pool_size, strides=strides, padding=padding)
    pooled = pooling.pool(grid, pool_size=pool_size, strides=strides, padding=padding, mode=mode)
    return plots.windows_pictures(grid, boxes, pooled, lang, mode=mode), len(boxes)


def feature_map_input():
    """The filters page's current feature map (its defaults if the student has not been there)."""
    saved = ui.state.filters_settings()
    if saved.get("kernel") is None:
        image, factor = data.photo("china")
        saved = dict(image=image, image_how=dict(source="china", factor=factor),
                     kernel=filters.KERNELS["sobel_x"], stride=1, padding="valid")
    conv = (saved["kernel"], saved["stride"], saved["padding"])
    kernel, stride, padding = conv
    feature_map = filters.convolve(saved["image"], kernel, stride=stride, padding=padding)
    return PoolInput(feature_map, saved["image_how"], conv, signed=True)


def choose_input():
    """What to pool (a PoolInput): a photo, a digit, or the filters page's feature map."""
    source = ui.choice(st.selectbox, t("pooling.input"), SOURCES, key=key("source"),
                       labels=ui.labels("pooling.sources", "image.sources"))
    if source == "feature_map":
        st.caption(t("pooling.from_filters"))
        ui.page_link("filters")
        try:
            return feature_map_input()
        except filters.KernelError:
            st.warning(t("pooling.filters_unusable"))
            source = "china"
    image, how = ui.image_input(source, key(source))
    return PoolInput(image, how)


def show_shapes(layer, image, pooled, window):
    """The pooled size by the formula and the share of numbers kept; the first pooled values."""
    sizes = dict(h=image.shape[0], w=image.shape[1], oh=pooled.shape[0], ow=pooled.shape[1])
    kept = f"{100 * pooled.size / image.size:.0f}"
    st.markdown(t("pooling.shape_formula", layer=layer, size=window["pool_size"],
                  strides=window["strides"], padding=window["padding"], kept=kept, **sizes))
    first_row = ", ".join(f"{v:.3f}" for v in pooled[0, :4])
    st.caption(t("pooling.first_row", values=first_row))


# --- The page --------------------------------------------------------------------------------
ui.header("pooling")
controls, picture = ui.controls_and_picture()
with controls:
    source = choose_input()
    mode = ui.choice(st.segmented_control, t("pooling.mode"), pooling.MODES, key=key("mode"),
                     labels=ui.labels("pooling.modes"), required=True)
    pool_size = ui.bound(st.slider, "pool_size", 2, 4, 2, key=key("pool_size"))
    strides = ui.choice(st.selectbox, "strides", [SAME_AS_POOL, 1, 2, 3, 4], key=key("strides"),
                        labels=lambda s, same=t("pooling.same_as_pool"): str(s) if s else same)
    strides = strides or pool_size
    padding = ui.choice(st.segmented_control, "padding", pooling.PADDINGS, key=key("padding"),
                        required=True)
window = dict(pool_size=pool_size, strides=strides, padding=padding)

layer = f"{'Max' if mode == 'max' else 'Average'}Pooling2D"
facts = {}  # what the page's tasks are checked against (lib/tasks/catalogue/pooling.toml)
try:
    pooled = pooling.pool(source.image, **window, mode=mode)
except pooling.PoolError as e:
    pooled = None
    ui.say(e, place=picture)
if pooled is not None:
    with picture:
        ui.pictures(*plots.pooled_pair_pictures(source.image, pooled, ui.lang(), signed=source.signed), across=2)
        show_shapes(layer, source.image, pooled, window)
        facts.update(in_shape=source.image.shape, out_shape=pooled.shape,
                     width_factor=source.image.shape[1] / pooled.shape[1], kept=pooled.size / source.image.size)

ui.section("pooling", "seed", idea=False)
left, right = st.columns([2.4, 1], gap="large")
with left:
    ui.plot(seed_figure(mode, ui.lang()))
right.markdown(t("pooling.seed_idea", layer=layer))

ui.section("pooling", "windows", idea=False)
last_digit = data.DIGIT_COUNT - 1
grid_digit = ui.bound(st.number_input, t("pooling.grid_digit", last=last_digit), 0, last_digit, 0,
                      key=key("grid"))
pictures, windows = windows_pictures(grid_digit, pool_size, strides, padding, mode, ui.lang())
ui.pictures(*pictures, across=2)
facts["windows"] = windows
st.markdown(t(f"pooling.windows_idea.{mode}", n=windows, size=pool_size, strides=strides))

ui.section("pooling", "why", idea=False)
why, numbers = st.columns([2.4, 1], gap="large")
with why:
    try:
        change = pooling.shift_change(source.image, pool_size=pool_size, mode="max")
        ui.pictures(*plots.shift_pictures(change, ui.lang()), across=2)
        raw, kept = f"{100 * change.raw:.1f}", f"{100 * change.pooled:.1f}"
        facts["shift_ratio"] = change.pooled / change.raw if change.raw else None
        st.markdown(t("pooling.why_idea", raw=raw, pooled=kept, size=pool_size))
    except pooling.PoolError as e:
        ui.say(e, kind="info")
with numbers:
    params = pooling.trainable_params(pool_size=pool_size, mode=mode)
    st.metric(t("pooling.params", layer=layer), params)
    st.metric(f"Global{layer}", f"{pooling.global_pool(source.image, mode=mode):.3f}")
    st.caption(t("pooling.global_idea"))

ui.notice("pooling")
if pooled is not None:
    ui.code_panel(snippets.pooling_snippet(image_how=source.how, conv=source.conv, mode=mode,
                                           lang=ui.lang(), **window))
ui.references(*REFERENCES)
ui.tasks("pooling", facts)
