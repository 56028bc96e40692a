"""Convolution filters: a kernel slides over an image; a real Keras Conv2D computes the feature map."""
import numpy as np
import pandas as pd
import streamlit as st

from lib import data, filters, plots, snippets, ui

t = ui.t
key = ui.keys("filters")
SOURCES = ("china", "flower", "digit", "upload")
CUSTOM = "custom"


def _start_editor(rows):
    """A fresh custom-kernel editor (a new widget key) holding these typed cells."""
    st.session_state[key("cells_start")] = rows
    st.session_state[key("editor")] = st.session_state.get(key("editor"), 0) + 1


def _custom_cells():
    """The grid the custom editor starts from: the link's cells, else the last preset chosen."""
    if key("cells_start") not in st.session_state:
        preset = filters.kernel_text(filters.KERNELS[st.session_state.get(key("last_preset"), "sobel_x")])
        linked = st.query_params.get(key("cells"))
        rows = filters.decode_cells(linked) if linked else preset
        if len(rows) not in (3, 5) or any(len(r) != len(rows) for r in rows):
            st.warning(t("filters.bad_link_cells"))
            rows = preset
        _start_editor(rows)
    return st.session_state[key("cells_start")]


def choose_kernel():
    """The kernel, or None when a cell of the custom grid is not a number (the page says which)."""
    name = ui.choice(st.selectbox, t("filters.kernel"), [*filters.KERNELS, CUSTOM], key=key("kernel"),
                     default="sobel_x", labels=ui.labels("filters.kernels"))
    if name != CUSTOM:
        st.session_state[key("last_preset")] = name
        st.session_state.pop(key("cells_start"), None)  # "custom" will start from this preset
        return filters.KERNELS[name]
    rows = _custom_cells()
    st.session_state[key("size")] = len(rows)  # the grid's size; changing it resizes the grid
    st.segmented_control(t("filters.size"), [3, 5], key=key("size"), required=True, format_func=lambda n: f"{n}×{n}",
                         on_change=lambda: _start_editor(filters.resize_cells(st.session_state[key("cells_now")],
                                                                              st.session_state[key("size")])))
    edited = st.data_editor(pd.DataFrame(rows, columns=[str(c + 1) for c in range(len(rows))]),
                            key=key(f"cells{st.session_state[key('editor')]}"), hide_index=True, width="stretch")
    cells = st.session_state[key("cells_now")] = edited.astype(str).to_numpy().tolist()
    st.query_params[key("cells")] = filters.encode_cells(cells)
    st.caption(t("filters.cells_hint"))
    try:
        kernel = filters.parse_kernel(cells)
    except filters.KernelError as e:
        st.error(t("filters.bad_cell", row=e.row, col=e.col, text=e.text), icon=":material/grid_off:")
        return None
    if filters.is_all_zero(kernel):
        st.warning(t("filters.all_zero"), icon=":material/exposure_zero:")
    return kernel


def pixel_slider(name, side, container):
    """Which output row/column to compute by hand (nothing to choose when the side is one pixel);
    when the map shrinks (stride, padding, image) the choice stays inside it."""
    if side > 1:  # the value lives in the session (a default as well would make Streamlit complain)
        st.session_state[key(name)] = min(st.session_state.get(key(name), side // 2), side - 1)
    return ui.bound(container.slider, t(f"filters.{name}"), 0, side - 1, key=key(name)) if side > 1 else 0


@ui.shared_figure
def bank_figure(image, names, stride, padding, lang):
    maps = filters.convolve_many(image, np.stack([filters.KERNELS[n] for n in names]), stride=stride, padding=padding)
    return plots.bank_figure(maps, names, lang), maps.shape


learned_kernels_figure = ui.shared_figure(lambda: plots.learned_kernels_figure(filters.learned_kernels()[0]))


@ui.shared_figure
def learned_maps_figure(index, lang):
    image = data.digit(index)[0]
    return plots.learned_maps_figure(image, filters.learned_feature_maps(image), lang)


# --- The page --------------------------------------------------------------------------------
ui.header("filters")
controls, picture = st.columns([1, 2.4], gap="large")
with controls:
    source = ui.choice(st.selectbox, t("filters.image"), SOURCES, key=key("image"), labels=ui.labels("image.sources"))
    image, image_how = ui.image_input(source, key(source))
    kernel = choose_kernel()
    stride = ui.bound(st.slider, t("filters.stride"), 1, 3, 1, key=key("stride"))
    padding = ui.choice(st.segmented_control, t("filters.padding"), filters.PADDINGS, key=key("padding"), required=True)

# For the pooling page, which pools this feature map (widget state is gone once the student leaves).
st.session_state.filters_settings = dict(image=image, image_how=image_how, kernel=kernel, stride=stride, padding=padding)
feature_map = None
if kernel is not None:
    try:
        feature_map = filters.convolve(image, kernel, stride=stride, padding=padding)
    except filters.KernelError as e:
        picture.error(t(f"filters.error.{e.code}", kh=kernel.shape[0], kw=kernel.shape[1],
                        h=image.shape[0], w=image.shape[1]), icon=":material/block:")

st.subheader(t("filters.pixel_title"))
if feature_map is None:
    st.info(t("filters.needs_map"))
else:
    st.markdown(t("filters.pixel_idea"))
    row, col = (pixel_slider(n, side, c) for n, side, c in zip(("row", "col"), feature_map.shape, st.columns(2)))
    patch, (top, left) = filters.window(image, kernel.shape, row, col, stride=stride, padding=padding)
    ui.plot(plots.pixel_figure(patch, kernel, ui.lang()))
    st.markdown(t("filters.pixel_result", row=row, col=col, total=f"{float((patch * kernel).sum()):.3f}",
                  value=f"{float(feature_map[row, col]):.3f}"))
    with picture:
        ui.plot(plots.feature_map_figure(image, feature_map, ui.lang(),
                                         window=(top, left, *kernel.shape), pixel=(row, col)))
        sides = [filters.output_size(n, k, stride, padding) for n, k in zip(image.shape, kernel.shape)]
        st.markdown(t("filters.shape_formula", height=str(sides[0]), width=str(sides[1]),
                      padding_h=sides[0].padding_total, padding_w=sides[1].padding_total))
        st.caption(t("filters.map_range", low=f"{feature_map.min():.3f}", high=f"{feature_map.max():.3f}"))

st.subheader(t("filters.bank_title"))
bank = ui.choice(st.multiselect, t("filters.bank"), filters.KERNELS, key=key("bank"),
                 default=["sobel_x", "sobel_y", "laplacian", "gaussian_blur"], labels=ui.labels("filters.kernels"))
if not bank:
    st.info(t("filters.bank_empty"))
else:
    try:
        figure, shape = bank_figure(image, tuple(bank), stride, padding, ui.lang())
        st.markdown(t("filters.bank_idea", n=len(bank), h=shape[1], w=shape[2]))
        ui.plot(figure)
        ui.page_link("model", t("filters.see_model"))
    except filters.KernelError as e:
        st.error(t(f"filters.error.{e.code}", kh=3, kw=3, h=image.shape[0], w=image.shape[1]))

st.subheader(t("filters.learned_title"))
with st.spinner(t("filters.learning")):
    accuracy = filters.learned_kernels()[1]
st.markdown(t("filters.learned_idea", accuracy=f"{100 * accuracy:.1f}"))
ui.plot(learned_kernels_figure())
learned_digit = ui.bound(st.slider, t("filters.learned_digit", last=data.DIGIT_COUNT - 1), 0, data.DIGIT_COUNT - 1, 0, key=key("learned_digit"))
ui.plot(learned_maps_figure(learned_digit, ui.lang()))

ui.notice("filters")
if feature_map is not None:
    ui.code_panel(snippets.filters_snippet(kernel=kernel, stride=stride, padding=padding, pixel=(row, col),
                                           lang=ui.lang(), **image_how))
ui.references(("common.ref_conv2d", "https://keras.io/api/layers/convolution_layers/convolution2d/"),
              ("common.ref_keras_guide", "https://keras.io/guides/sequential_model/"))
