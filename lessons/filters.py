"""Convolution filters: a kernel slides over an image; a Keras Conv2D computes the feature map."""
import numpy as np
import streamlit as st

from lib import data, filters, plots, snippets, ui
from lib.class_model import class_dataset

t = ui.t
key = ui.keys("filters")
SOURCES = ("china", "flower", "digit", "upload")
CUSTOM = "custom"
BANK = ["sobel_x", "sobel_y", "laplacian", "gaussian_blur"]  # the filter bank a student starts with


def choose_kernel():
    """The kernel chosen: a preset, or the custom grid's (None if a cell is not a number)."""
    name = ui.choice(st.selectbox, t("filters.kernel"), [*filters.KERNELS, CUSTOM],
                     key=key("kernel"), default="sobel_x", labels=ui.labels("filters.kernels"))
    if name != CUSTOM:
        st.session_state[key("last_preset")] = name
        st.session_state.pop(key("cells_start"), None)  # "custom" will start from this preset
        return filters.KERNELS[name]
    return ui.kernel_editor(key)


def pixel_slider(name, side, container):
    """Which output row/column to compute by hand (nothing to choose when the side is one pixel);
    when the map shrinks (stride, padding, image) the choice stays inside it."""
    if side <= 1:
        return 0
    # the value lives in the session (a default as well would make Streamlit complain)
    st.session_state[key(name)] = min(st.session_state.get(key(name), side // 2), side - 1)
    return ui.bound(container.slider, t(f"filters.{name}"), 0, side - 1, key=key(name))


@ui.shared_figure
def bank_figure(image, names, stride, padding, lang):
    """(figure, shape of the maps): every kernel of the bank in one Conv2D."""
    kernels = np.stack([filters.KERNELS[n] for n in names])
    maps = filters.convolve_many(image, kernels, stride=stride, padding=padding)
    return plots.bank_figure(maps, names, lang), maps.shape


@ui.shared_figure
def learned_kernels_figure():
    return plots.learned_kernels_figure(filters.learned_kernels()[0])


@ui.shared_figure
def learned_maps_figure(index, lang):
    image = data.digit(index)[0]
    return plots.learned_maps_figure(image, filters.learned_feature_maps(image), lang)


# --- The page --------------------------------------------------------------------------------
ui.header("filters")
controls, picture = ui.controls_and_picture()
with controls:
    source = ui.choice(st.selectbox, t("filters.image"), SOURCES, key=key("image"),
                       labels=ui.labels("image.sources"))
    image, image_how = ui.image_input(source, key(source))
    kernel = choose_kernel()
    stride = ui.bound(st.slider, t("filters.stride"), 1, 3, 1, key=key("stride"))
    padding = ui.choice(st.segmented_control, t("filters.padding"), filters.PADDINGS,
                        key=key("padding"), required=True)
conv = dict(stride=stride, padding=padding)
# For the pooling page, which pools this feature map (widget state is gone once the student leaves).
ui.state.keep_filters_settings(image=image, image_how=image_how, kernel=kernel, **conv)
feature_map = None
facts = {}  # what the page's tasks are checked against (lib/tasks/catalogue/filters.toml)
if kernel is not None:
    facts.update(zip(("vertical_edge", "horizontal_edge"), filters.edge_responses(kernel)))
    try:
        feature_map = filters.convolve(image, kernel, **conv)
        facts["map_width"] = feature_map.shape[1]
    except filters.KernelError as e:
        ui.say(e, place=picture)

ui.section("filters", "pixel", idea=False)
if feature_map is None:
    st.info(t("filters.needs_map"))
else:
    st.markdown(t("filters.pixel_idea"))
    row_place, col_place = st.columns(2)
    row = pixel_slider("row", feature_map.shape[0], row_place)
    col = pixel_slider("col", feature_map.shape[1], col_place)
    patch, (top, left) = filters.window(image, kernel.shape, row, col, **conv)
    ui.plot(plots.pixel_figure(patch, kernel, ui.lang()))
    by_hand = f"{float((patch * kernel).sum()):.3f}"
    by_keras = f"{float(feature_map[row, col]):.3f}"
    st.markdown(t("filters.pixel_result", row=row, col=col, total=by_hand, value=by_keras))
    with picture:
        window = (top, left, *kernel.shape)
        ui.plot(plots.feature_map_figure(image, feature_map, ui.lang(), window=window,
                                         pixel=(row, col)))
        sides = zip(image.shape, kernel.shape)
        height, width = (filters.output_size(n, k, **conv) for n, k in sides)
        st.markdown(t("filters.shape_formula", height=str(height), width=str(width),
                      padding_h=height.padding_total, padding_w=width.padding_total))
        low, high = f"{feature_map.min():.3f}", f"{feature_map.max():.3f}"
        st.caption(t("filters.map_range", low=low, high=high))

ui.section("filters", "bank", idea=False)
bank = ui.choice(st.multiselect, t("filters.bank"), filters.KERNELS, key=key("bank"), default=BANK,
                 labels=ui.labels("filters.kernels"))
if not bank:
    st.info(t("filters.bank_empty"))
else:
    try:
        figure, shape = bank_figure(image, tuple(bank), stride, padding, ui.lang())
        st.markdown(t("filters.bank_idea", n=len(bank), h=shape[1], w=shape[2]))
        ui.plot(figure)
        ui.page_link("model", t("filters.see_model"))
    except filters.KernelError as e:
        ui.say(e)

ui.section("filters", "learned", idea=False)
with st.spinner(t("filters.learning")):
    accuracy = filters.learned_kernels()[1]
trained_on = t(f"evaluate.datasets.{class_dataset()}")  # the class model's data (MNIST here)
st.markdown(t("filters.learned_idea", accuracy=f"{100 * accuracy:.1f}", data=trained_on))
ui.plot(learned_kernels_figure())
last_digit = data.DIGIT_COUNT - 1
learned_digit = ui.bound(st.slider, t("filters.learned_digit", last=last_digit), 0, last_digit, 0,
                         key=key("learned_digit"))
ui.plot(learned_maps_figure(learned_digit, ui.lang()))

ui.notice("filters")
if feature_map is not None:
    ui.code_panel(snippets.filters_snippet(kernel=kernel, pixel=(row, col), lang=ui.lang(),
                                           **conv, **image_how))
ui.references(
    ("common.ref_conv2d", "https://keras.io/api/layers/convolution_layers/convolution2d/"),
    ("common.ref_keras_guide", "https://keras.io/guides/sequential_model/"))
ui.tasks("filters", facts)
