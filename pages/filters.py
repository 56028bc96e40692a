"""Convolution filters: a kernel slides over an image; a real Keras Conv2D computes the feature map."""
import numpy as np
import pandas as pd
import streamlit as st

from lib import data, filters, i18n, plots, snippets, ui

t = ui.t
MAX_SIDE = 128  # the photos shrink to this, so every nudge stays fast
SOURCES = ("china", "flower", "digit", "upload")
CUSTOM = "custom"


@st.cache_data(max_entries=8, show_spinner=False)
def photo(name):
    image = data.sample_image(name)
    return data.downscale(image, MAX_SIDE), data.shrink_factor(image.shape, MAX_SIDE)


def choose_image():
    """(image, how the code makes it); an unreadable upload says why and falls back to a photo."""
    source = ui.choice(st.selectbox, t("filters.image"), SOURCES, key="filters.image", labels=ui.labels("filters.images"))
    if source == "digit":
        index = st.number_input(t("filters.digit"), 0, data.DIGIT_COUNT - 1, 0, key="digit", bind="query-params")
        image, label = data.digit(index)
        st.caption(t("filters.digit_label", label=label))
        return image, dict(source="digit", digit_index=index)
    if source == "upload":
        upload = st.file_uploader(t("filters.upload"), type=["png", "jpg", "jpeg"], key="upload")
        if upload is not None:
            try:
                image, factor = data.image_from_bytes(upload.getvalue(), max_side=MAX_SIDE)
                return image, dict(source="upload", upload_name=upload.name, factor=factor)
            except data.ImageUnreadable as e:
                st.error(t(f"filters.bad_upload.{e.code}", **e.details), icon=":material/broken_image:")
        st.caption(t("filters.upload_fallback"))
        source = "china"
    image, factor = photo(source)
    return image, dict(source=source, factor=factor)


def _custom_cells():
    """The grid the custom editor starts from: the link's cells, else the last preset chosen."""
    if "filters_cells" not in st.session_state:
        preset = filters.kernel_text(filters.KERNELS[st.session_state.get("filters_last_preset", "sobel_x")])
        linked = st.query_params.get("cells")
        rows = filters.decode_cells(linked) if linked else preset
        if len(rows) not in (3, 5) or any(len(r) != len(rows) for r in rows):
            st.warning(t("filters.bad_link_cells"))
            rows = preset
        _start_editor(rows)
    return st.session_state.filters_cells


def _start_editor(rows):
    st.session_state.filters_cells = rows
    st.session_state.filters_editor = st.session_state.get("filters_editor", 0) + 1  # a fresh editor


def _resize():
    _start_editor(filters.resize_cells(st.session_state.filters_cells_now, st.session_state.kernel_size))


def choose_kernel():
    """(kernel or None, its name); a custom grid with a bad cell says which cell and why."""
    name = ui.choice(st.selectbox, t("filters.kernel"), [*filters.KERNELS, CUSTOM], key="filters.kernel",
                     default="sobel_x", labels=ui.labels("filters.kernels"))
    if name != CUSTOM:
        st.session_state.filters_last_preset = name
        st.session_state.pop("filters_cells", None)  # "custom" will start from this preset
        return filters.KERNELS[name], name
    rows = _custom_cells()
    st.session_state.kernel_size = len(rows)  # the grid's size; changing it resizes the grid
    st.segmented_control(t("filters.size"), [3, 5], key="kernel_size", on_change=_resize,
                         format_func=lambda n: f"{n}×{n}", required=True)
    edited = st.data_editor(pd.DataFrame(rows, columns=[str(c + 1) for c in range(len(rows))]),
                            key=f"cells{st.session_state.filters_editor}", hide_index=True, width="stretch")
    cells = edited.astype(str).to_numpy().tolist()
    st.session_state.filters_cells_now = cells
    st.query_params["cells"] = filters.encode_cells(cells)
    st.caption(t("filters.cells_hint"))
    try:
        kernel = filters.parse_kernel(cells)
    except filters.KernelError as e:
        st.error(t("filters.bad_cell", row=e.row, col=e.col, text=e.text), icon=":material/grid_off:")
        return None, name
    if filters.is_all_zero(kernel):
        st.warning(t("filters.all_zero"), icon=":material/exposure_zero:")
    return kernel, name


def pixel_slider(label_key, key, side):
    """Which output row/column to compute by hand (no slider when the side is a single pixel)."""
    if side <= 1:
        return 0
    if (st.session_state.get(key) or 0) > side - 1:  # the map shrank (stride, padding, image): stay inside it
        st.session_state[key] = side - 1
    return st.slider(t(label_key), 0, side - 1, side // 2, key=key, bind="query-params")


@ui.shared_figure
def bank_figure(image, names, stride, padding, lang):
    maps = filters.convolve_many(image, np.stack([filters.KERNELS[n] for n in names]), stride=stride, padding=padding)
    titles = [i18n.translate(f"filters.kernels.{n}", lang) for n in names]
    return plots.image_grid(maps, titles, cols=min(4, len(names))), maps.shape


@ui.shared_figure
def learned_kernels_figure(lang):
    kernels, accuracy = filters.learned_kernels()
    return plots.image_grid(kernels, [f"#{k + 1}" for k in range(len(kernels))], cols=8,
                            numbers="%{z:.1f}", height_per_row=170), accuracy


@ui.shared_figure
def learned_maps_figure(index, lang):
    image, _ = data.digit(index)
    maps = filters.learned_feature_maps(image)
    titles = [i18n.translate("filters.learned_input", lang)] + [f"#{k + 1}" for k in range(len(maps))]
    return plots.image_grid([image, *maps], titles, cols=9, signed=[False] + [True] * len(maps), height_per_row=170)


# --- The page --------------------------------------------------------------------------------
ui.header("filters")
controls, picture = st.columns([1, 2.4], gap="large")
with controls:
    image, image_how = choose_image()
    kernel, kernel_name = choose_kernel()
    stride = st.slider(t("filters.stride"), 1, 3, 1, key="stride", bind="query-params")
    padding = ui.choice(st.segmented_control, t("filters.padding"), filters.PADDINGS, key="filters.padding", required=True)

# The pooling page can pool this feature map: keep the image and the recipe (not widget state, which
# Streamlit clears when the student leaves the page).
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
    row_col = st.columns(2)
    with row_col[0]:
        row = pixel_slider("filters.row", "row", feature_map.shape[0])
    with row_col[1]:
        col = pixel_slider("filters.col", "col", feature_map.shape[1])
    patch, (top, left) = filters.window(image, kernel.shape, row, col, stride=stride, padding=padding)
    ui.plot(plots.pixel_figure(patch, kernel, ui.lang()))
    st.markdown(t("filters.pixel_result", row=row, col=col, total=f"{float((patch * kernel).sum()):.3f}",
                  value=f"{float(feature_map[row, col]):.3f}"))
    with picture:
        ui.plot(plots.feature_map_figure(image, feature_map, ui.lang(),
                                         window=(top, left, *kernel.shape), pixel=(row, col)))
        sides = [filters.output_size(n, k, stride, padding) for n, k in zip(image.shape, kernel.shape)]
        st.markdown(t("filters.shape_formula", height=str(sides[0]), width=str(sides[1]),
                      padding_total=sides[0].padding_total))
        st.caption(t("filters.map_range", low=f"{feature_map.min():.3f}", high=f"{feature_map.max():.3f}"))

st.subheader(t("filters.bank_title"))
bank = ui.choice(st.multiselect, t("filters.bank"), filters.KERNELS, key="filters.bank",
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
    kernels_figure, accuracy = learned_kernels_figure(ui.lang())
st.markdown(t("filters.learned_idea", accuracy=f"{100 * accuracy:.1f}"))
ui.plot(kernels_figure)
learned_digit = st.slider(t("filters.learned_digit"), 0, data.DIGIT_COUNT - 1, 0, key="learned_digit", bind="query-params")
ui.plot(learned_maps_figure(learned_digit, ui.lang()))

ui.notice("filters")
if feature_map is not None:
    ui.code_panel(snippets.filters_snippet(kernel=kernel, stride=stride, padding=padding, pixel=(row, col),
                                           lang=ui.lang(), **image_how))
ui.references(("common.ref_conv2d", "https://keras.io/api/layers/convolution_layers/convolution2d/"),
              ("common.ref_keras_guide", "https://keras.io/guides/sequential_model/"))
