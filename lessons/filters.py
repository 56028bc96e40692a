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


def choose_kernel(on_change):
    """The kernel chosen: a preset, or the custom grid's (None if a cell is not a number)."""
    name = ui.choice(st.selectbox, t("filters.kernel"), [*filters.KERNELS, CUSTOM],
                     default="sobel_x", key=key("kernel"), labels=ui.labels("filters.kernels"),
                     on_change=on_change)
    if name != CUSTOM:
        st.session_state[key("last_preset")] = name
        st.session_state.pop(key("cells_start"), None)  # "custom" will start from this preset
        return filters.KERNELS[name]
    return ui.kernel_editor(key, on_change=on_change)


def pixel_slider(name, side, container, on_change):
    """Which output row/column to compute by hand (nothing to choose when the side is one pixel);
    when the map shrinks (stride, padding, image) the choice stays inside it."""
    if side <= 1:
        return 0
    # the value lives in the session (a default as well would make Streamlit complain)
    st.session_state[key(name)] = min(st.session_state.get(key(name), side // 2), side - 1)
    return ui.bound(container.slider, t(f"filters.{name}"), 0, side - 1, key=key(name),
                    on_change=on_change)


@ui.shared_figure
def bank_pictures(image, names, stride, padding, lang):
    """(pictures, captions, their scale's limit, shape of the maps): every kernel of the bank in
    one Conv2D."""
    kernels = np.stack([filters.KERNELS[n] for n in names])
    maps = filters.convolve_many(image, kernels, stride=stride, padding=padding)
    return *plots.bank_pictures(maps, names, lang), maps.shape


@ui.shared_figure
def learned_kernels_figure():
    return plots.learned_kernels_figure(filters.learned_kernels()[0])


@ui.shared_figure
def learned_maps_figure(index, lang):
    image = data.digit(index)[0]
    return plots.learned_maps_figure(image, filters.learned_feature_maps(image), lang)


@ui.part("filters", "convolution")
def convolution():
    """The image, the kernel and how it slides; the feature map; one of its pixels by hand. A nudge
    reruns this part and the page's code (and the bank, which slides the same way over the same
    image), not the learned filters."""
    with_bank = ui.redraws("filters", "convolution", "bank", "end")
    in_code = ui.redraws("filters", "convolution", "end")
    controls, picture = ui.controls_and_picture()
    with controls:
        source = ui.choice(st.selectbox, t("filters.image"), SOURCES, key=key("image"),
                           labels=ui.labels("image.sources"), on_change=with_bank)
        image, image_how = ui.image_input(source, key(source), on_change=with_bank)
        kernel = choose_kernel(in_code)
        stride = ui.bound(st.slider, t("filters.stride"), 1, 3, 1, key=key("stride"),
                          on_change=with_bank)
        padding = ui.choice(st.segmented_control, t("filters.padding"), filters.PADDINGS,
                            key=key("padding"), required=True, on_change=with_bank)
    conv = dict(stride=stride, padding=padding)
    # For the pooling page, which pools this feature map (widget state goes once the student leaves)
    ui.state.keep_filters_settings(image=image, image_how=image_how, kernel=kernel, **conv)
    feature_map, pixel = None, None
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
        row = pixel_slider("row", feature_map.shape[0], row_place, in_code)
        col = pixel_slider("col", feature_map.shape[1], col_place, in_code)
        pixel = (row, col)
        patch, (top, left) = filters.window(image, kernel.shape, row, col, **conv)
        st.html(plots.pixel_arithmetic(patch, kernel, ui.lang()))
        by_hand = f"{float((patch * kernel).sum()):.3f}"
        by_keras = f"{float(feature_map[row, col]):.3f}"
        st.markdown(t("filters.pixel_result", row=row, col=col, total=by_hand, value=by_keras))
        with picture:
            window = (top, left, *kernel.shape)
            ui.pictures(*plots.feature_map_pictures(image, feature_map, ui.lang(), window=window,
                                                    pixel=pixel), across=2)
            sides = zip(image.shape, kernel.shape)
            height, width = (filters.output_size(n, k, **conv) for n, k in sides)
            st.markdown(t("filters.shape_formula", height=str(height), width=str(width),
                          padding_h=height.padding_total, padding_w=width.padding_total))
            low, high = f"{feature_map.min():.3f}", f"{feature_map.max():.3f}"
            st.caption(t("filters.map_range", low=low, high=high))
    return dict(image=image, image_how=image_how, kernel=kernel, conv=conv, pixel=pixel,
                facts=facts)


@ui.part("filters", "bank")
def bank_section():
    """Several kernels in one Conv2D, sliding as the convolution above does."""
    made = ui.part_result("filters", "convolution")
    ui.section("filters", "bank", idea=False)
    bank = ui.choice(st.multiselect, t("filters.bank"), filters.KERNELS, key=key("bank"),
                     default=BANK, labels=ui.labels("filters.kernels"))
    if not bank:
        return st.info(t("filters.bank_empty"))
    conv = made["conv"]
    try:
        pictures, captions, limit, shape = bank_pictures(made["image"], tuple(bank), conv["stride"],
                                                         conv["padding"], ui.lang())
        st.markdown(t("filters.bank_idea", n=len(bank), h=shape[1], w=shape[2]))
        ui.pictures(pictures, captions, across=4)
        st.caption(t("filters.bank_scale", limit=f"{limit:.3f}"))
        ui.page_link("model", t("filters.see_model"))
    except filters.KernelError as e:
        ui.say(e)


@ui.part("filters", "learned")
def learned_section():
    """The kernels a CNN learned on digits, and what they make of one digit."""
    ui.section("filters", "learned", idea=False)
    with st.spinner(t("filters.learning")):
        accuracy = filters.learned_kernels()[1]
    trained_on = t(f"evaluate.datasets.{class_dataset()}")  # the class model's data (MNIST here)
    st.markdown(t("filters.learned_idea", accuracy=f"{100 * accuracy:.1f}", data=trained_on))
    ui.plot(learned_kernels_figure())
    last_digit = data.DIGIT_COUNT - 1
    label = t("filters.learned_digit", last=last_digit)
    learned_digit = ui.bound(st.slider, label, 0, last_digit, 0, key=key("learned_digit"))
    ui.plot(learned_maps_figure(learned_digit, ui.lang()))


@ui.part("filters", "end")
def page_end():
    """What to notice, and the code of the convolution above: kernel, stride, padding, pixel."""
    made = ui.part_result("filters", "convolution")
    ui.notice("filters")
    if made["pixel"] is not None:
        ui.code_panel(snippets.filters_snippet(kernel=made["kernel"], pixel=made["pixel"],
                                               lang=ui.lang(), **made["conv"], **made["image_how"]))
    ui.references(
        ("common.ref_conv2d", "https://keras.io/api/layers/convolution_layers/convolution2d/"),
        ("common.ref_keras_guide", "https://keras.io/guides/sequential_model/"))


# --- The page --------------------------------------------------------------------------------
ui.header("filters")
made = convolution()
bank_section()
learned_section()
page_end()
ui.tasks("filters", made["facts"])
