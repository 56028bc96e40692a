"""lib.filters against scipy's cross-correlation, the one-pixel arithmetic, uploads that must be
refused, and the Convolution filters page (every control, bad inputs, the code it shows)."""
import io
import re
import struct
import zlib

import numpy as np
import pytest
from PIL import Image
from scipy import signal

from lib import data, filters, i18n, plots, snippets
from tests.helpers import exercise_widgets, open_page, run_snippet, shown_code


def reference(image, kernel, stride, padding):
    """Cross-correlation as Keras computes it, by scipy: pad like TensorFlow, correlate, stride."""
    image = image.astype(np.float64)
    if padding == "same":
        pads = []
        for n, k in zip(image.shape, kernel.shape):
            total = max((-(-n // stride) - 1) * stride + k - n, 0)
            pads.append((total // 2, total - total // 2))
        image = np.pad(image, pads)
    full = signal.correlate2d(image, kernel.astype(np.float64), mode="valid")
    return full[::stride, ::stride]


@pytest.mark.parametrize("shape", [(8, 8), (17, 23), (40, 31)])
@pytest.mark.parametrize("k", [1, 2, 3, 5])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_convolve_is_scipys_cross_correlation(shape, k, stride, padding):
    rng = np.random.default_rng(k * 100 + stride)
    image = rng.random(shape).astype(np.float32)
    kernel = rng.normal(size=(k, k)).astype(np.float32)
    got = filters.convolve(image, kernel, stride=stride, padding=padding)
    np.testing.assert_allclose(got, reference(image, kernel, stride, padding), rtol=1e-4, atol=1e-5)
    for n, side in zip(shape, got.shape):
        assert filters.output_size(n, k, stride, padding).size == side


@pytest.mark.parametrize("stride", [1, 2, 3])
def test_same_gives_the_ceiling_of_n_over_s_and_an_odd_padding_puts_the_extra_row_last(stride):
    """The page's sentence: 'same' pads P in total so each side is ⌈n / s⌉; an odd P puts the
    extra row at the bottom (and column on the right) — checked against Keras's own output."""
    for n in range(4, 14):
        size = filters.output_size(n, 4, stride, "same")
        assert size.size == -(-n // stride)
        if size.padding_total % 2:  # the impulse at the top-left corner lands where the smaller half says
            image = np.zeros((n, n), np.float32)
            image[0, 0] = 1
            got = filters.convolve(image, np.ones((4, 4), np.float32), stride=stride, padding="same")
            assert got[0, 0] == 1 and size.pad_before == size.padding_total // 2


def test_the_kernel_is_not_flipped():
    image = np.zeros((5, 5), np.float32)
    image[2, 2] = 1
    kernel = np.arange(9, dtype=np.float32).reshape(3, 3)
    got = filters.convolve(image, kernel, padding="same")
    np.testing.assert_array_equal(got[1:4, 1:4], kernel[::-1, ::-1])  # correlation mirrors an impulse


def test_many_kernels_in_one_conv2d_give_one_map_each():
    image = data.sample_image("flower", max_side=40)
    names = ["sobel_x", "sobel_y", "box_blur"]
    maps = filters.convolve_many(image, np.stack([filters.KERNELS[n] for n in names]), stride=2)
    assert maps.shape == (3, *filters.convolve(image, filters.KERNELS["sobel_x"], stride=2).shape)
    for name, got in zip(names, maps):
        np.testing.assert_allclose(got, reference(image, filters.KERNELS[name], 2, "valid"), atol=1e-5)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("stride", [1, 2])
def test_the_window_times_the_kernel_sums_to_the_feature_map(padding, stride):
    rng = np.random.default_rng(1)
    image = rng.random((9, 11)).astype(np.float32)
    kernel = rng.normal(size=(3, 3)).astype(np.float32)
    fmap = filters.convolve(image, kernel, stride=stride, padding=padding)
    for row in range(fmap.shape[0]):
        for col in range(fmap.shape[1]):
            patch, _ = filters.window(image, kernel.shape, row, col, stride=stride, padding=padding)
            assert (patch * kernel).sum() == pytest.approx(fmap[row, col], abs=1e-5)


def test_presets_are_the_textbook_kernels():
    k = filters.KERNELS
    assert k["sobel_x"].tolist() == [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    np.testing.assert_array_equal(k["sobel_y"], k["sobel_x"].T)
    assert k["box_blur"].sum() == pytest.approx(1) and k["gaussian_blur"].sum() == pytest.approx(1)
    assert k["laplacian"].sum() == 0 and k["sharpen"].sum() == 1
    assert all(kernel.shape == (3, 3) and kernel.dtype == np.float32 for kernel in k.values())


def test_edge_responses_are_the_kernel_on_a_step_from_dark_to_bright():
    responses = {name: filters.edge_responses(k) for name, k in filters.KERNELS.items()}
    assert responses["sobel_x"] == (4.0, 0.0) and responses["sobel_y"] == (0.0, 4.0)
    assert responses["laplacian"] == (1.0, 1.0) and responses["emboss"] == (4.0, 4.0)
    kernel = np.random.default_rng(0).normal(size=(5, 5))
    steps = [np.zeros((5, 5)) for _ in range(4)]  # 0 on the left, 1 from column `cut` on
    for cut, step in enumerate(steps, start=1):
        step[:, cut:] = 1
    by_hand = [max(abs((k * step).sum()) for step in steps) for k in (kernel, kernel.T)]
    assert filters.edge_responses(kernel) == pytest.approx(by_hand)
    assert filters.edge_responses(np.ones((1, 1))) == (0.0, 0.0)


def test_typed_cells_accept_numbers_and_fractions_and_name_a_bad_cell():
    kernel = filters.parse_kernel([["1/9", "-0.5", "2"], ["0", " 3 ", "−1"], ["1e-1", "4", "5"]])
    assert kernel[0, 0] == pytest.approx(1 / 9) and kernel[1, 2] == -1 and kernel[2, 0] == pytest.approx(0.1)
    with pytest.raises(filters.KernelError) as caught:
        filters.parse_kernel([["1", "0", "0"], ["0", "abc", "0"], ["0", "0", "1/0"]])
    assert (caught.value.code, caught.value.details) == ("not_a_number", {"row": 2, "col": 2, "text": "abc"})
    with pytest.raises(filters.KernelError, match="square"):
        filters.parse_kernel([["1", "2"], ["3"]])
    for kernel in filters.KERNELS.values():  # presets become typed cells and come back exactly
        np.testing.assert_array_equal(filters.parse_kernel(filters.kernel_text(kernel)), kernel)
    assert filters.kernel_text(filters.KERNELS["box_blur"])[0] == ["1/9"] * 3
    for text in ("1e309", "-1e400", "nan", "inf", "1/0", "", "0x10"):  # no finite float, or not a plain number
        assert filters.parse_cell(text) is None, text


def test_cells_round_trip_through_a_link_and_resize_around_the_centre():
    rows = filters.kernel_text(filters.KERNELS["sobel_x"])
    assert filters.decode_cells(filters.encode_cells(rows)) == rows
    five = filters.resize_cells(rows, 5)
    assert len(five) == 5 and five[2][1:4] == rows[1] and five[0] == ["0"] * 5
    assert filters.resize_cells(five, 3) == rows


def test_a_kernel_larger_than_the_image_is_refused():
    with pytest.raises(filters.KernelError) as caught:
        filters.convolve(np.ones((2, 2)), filters.KERNELS["sobel_x"])
    assert caught.value.code == "too_large"
    assert filters.convolve(np.ones((2, 2)), filters.KERNELS["sobel_x"], padding="same").shape == (2, 2)


def test_the_learned_kernels_come_from_a_cnn_that_reads_digits():
    kernels, accuracy = filters.learned_kernels()
    assert kernels.shape == (8, 3, 3) and accuracy > 0.9
    again, _ = filters.learned_kernels()
    np.testing.assert_array_equal(kernels, again)  # trained once, then shared
    maps = filters.learned_feature_maps(data.digit(0)[0])
    assert maps.shape == (8, 8, 8) and maps.min() >= 0  # after its ReLU


# --- Uploads ----------------------------------------------------------------------------------

def _png(array):
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


def _bomb_png(width=60_000, height=60_000):
    """A tiny PNG whose header claims 3.6 billion pixels."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b"")


def test_an_upload_becomes_a_small_gray_image():
    rgb = (np.random.default_rng(0).random((300, 500, 3)) * 255).astype(np.uint8)
    image, factor = data.image_from_bytes(_png(rgb), max_side=128)
    assert image.dtype == np.float32 and max(image.shape) <= 128 and factor == 4
    gray = np.asarray(Image.fromarray(rgb).convert("L"), dtype=np.float32) / 255
    np.testing.assert_allclose(image, data.downscale(gray, 128), atol=1e-6)


@pytest.mark.parametrize("raw,code", [
    (b"", "empty"),
    (b"this is not an image at all", "not_an_image"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 50, "not_an_image"),
    (_bomb_png(), "too_many_pixels"),
    (b"\0" * (data.MAX_UPLOAD_BYTES + 1), "too_big_file"),
])
def test_bad_uploads_are_refused_with_a_reason(raw, code):
    with pytest.raises(data.ImageUnreadable) as caught:
        data.image_from_bytes(raw)
    assert caught.value.code == code
    for lang in i18n.LANGUAGES:
        assert i18n.translate(f"image.bad_upload.{code}", lang, **caught.value.details)


def test_a_gif_is_refused_as_the_wrong_format():
    out = io.BytesIO()
    Image.new("L", (10, 10)).save(out, format="GIF")
    with pytest.raises(data.ImageUnreadable) as caught:
        data.image_from_bytes(out.getvalue())
    assert caught.value.code == "bad_format"


def test_the_pixels_arithmetic_is_each_grids_numbers_in_place_coloured_as_the_charts_colour_them():
    patch = np.array([[0.0, 0.5, 1.0], [0.25, 0.75, 0.1], [0.9, 0.3, 0.6]])
    kernel = filters.KERNELS["sobel_x"]
    drawn = plots.pixel_arithmetic(patch, kernel, "ko")
    cells = re.findall(r'<td title="\((\d), (\d)\): (-?[0-9.]+)" style="background:(rgb\([^)]*\));color:([^;]+);', drawn)
    assert len(cells) == 27  # three 3×3 grids: window, kernel, products, in this order
    for grid, expected in enumerate((patch, kernel, patch * kernel)):
        for r, c, value, _, _ in cells[9 * grid:9 * grid + 9]:
            assert float(value) == pytest.approx(expected[int(r), int(c)], abs=5e-5)
    color = {(k // 9, int(r), int(c)): (background, ink) for k, (r, c, _, background, ink) in enumerate(cells)}
    assert color[0, 0, 0] == ("rgb(0, 0, 0)", "#ffffff") and color[0, 0, 2][0] == "rgb(254, 254, 253)"  # gray 0..1
    assert color[1, 0, 1] == ("rgb(247, 247, 247)", "#0f172a")  # the kernel's zero: the red-blue scale's white
    assert color[1, 1, 0][0] == "rgb(5, 48, 97)" and color[1, 1, 2][0] == "rgb(103, 0, 31)"  # -2 and 2: its ends
    total = f"{(patch * kernel).sum():.3f}"
    assert i18n.translate("filters.fig.products", "ko", total=total) in drawn
    assert ">0.75<" in drawn and ">-2<" in drawn  # the window to two places, the kernel as it is


def test_the_input_and_its_map_are_pictures_framed_where_the_pixel_is_computed():
    image = np.random.default_rng(4).random((10, 16))
    feature_map = np.random.default_rng(5).normal(size=(8, 14))
    pictures, titles = plots.feature_map_pictures(image, feature_map, "en", window=(2, 3, 3, 3), pixel=(2, 3),
                                                  width=64)
    assert titles == ["Input (10×16)", "Feature map (8×14)"]
    photo, drawn = (np.asarray(Image.open(io.BytesIO(p)).convert("RGB")) for p in pictures)
    assert photo.shape == (40, 64, 3) and drawn.shape == (32, 56, 3)  # each pixel 4×4
    np.testing.assert_array_equal(drawn[1::4, 1::4][3:, 5:], plots.base.paint(feature_map, signed=True)[3:, 5:])
    np.testing.assert_array_equal(photo[1::4, 1::4][6:], plots.base.paint(image)[6:])  # below the frame
    orange = (0xf5, 0x9e, 0x0b)
    assert tuple(drawn[2 * 4 - 2, 3 * 4 + 1]) == orange and tuple(drawn[2 * 4 + 1, 3 * 4 + 1]) != orange  # around
    assert tuple(photo[2 * 4 + 1, 3 * 4 - 1]) == orange and tuple(photo[5 * 4, 6 * 4 + 1]) == orange  # the window


def test_the_bank_is_a_picture_a_kernel_on_one_scale_each_pixel_scaled_up_whole():
    maps = np.random.default_rng(3).normal(size=(3, 10, 20))
    names = ["sobel_x", "sobel_y", "laplacian"]
    pictures, captions, limit = plots.bank_pictures(maps, names, "ko", width=100)
    assert limit == pytest.approx(np.abs(maps).max())
    assert captions == [i18n.translate(f"filters.kernels.{n}", "ko") for n in names]
    drawn = [np.asarray(Image.open(io.BytesIO(p)).convert("RGB")) for p in pictures]
    assert [d.shape for d in drawn] == [(50, 100, 3)] * 3  # 20 px wide, 5× to about 100
    for d, feature_map in zip(drawn, maps):
        np.testing.assert_array_equal(d[::5, ::5], plots.base.paint(feature_map, signed=True, limit=limit))
        np.testing.assert_array_equal(d[3::5, 4::5], d[::5, ::5])  # a map's pixel is a whole 5×5 block
    k, r, c = np.unravel_index(np.abs(maps).argmax(), maps.shape)  # the largest magnitude of all three
    assert tuple(drawn[k][5 * r, 5 * c]) in ((103, 0, 31), (5, 48, 97))  # the scale's end, red or blue
    assert tuple(plots.base.paint(np.zeros(1), signed=True, limit=limit)[0]) == (247, 247, 247)  # zero: white


# --- The page ---------------------------------------------------------------------------------

def _numbers(at):
    text = " ".join(m.value for m in at.markdown)
    return re.findall(r"\*\*(-?[0-9.]+)\*\*", text)


def test_the_page_opens_on_sobel_x_and_its_code_prints_the_same_numbers(tmp_path):
    at = open_page("lessons/filters.py")
    total, value = _numbers(at)[:2]
    assert total == value  # the sum of the products is the feature map's value
    assert len(at.get("plotly_chart")) == 2  # the learned kernels and maps (the rest: pictures and HTML)
    assert any(c.value.startswith("One colour scale for all of them: white is zero, the deepest red and blue ±")
               for c in at.caption)
    assert f"Products (sum = {total})" in at.get("html")[0].proto.body  # the pixel's arithmetic
    low, high = re.search(r"from (-?[0-9]+\.[0-9]+) to (-?[0-9]+\.[0-9]+)", " ".join(c.value for c in at.caption)).groups()
    out = run_snippet(shown_code(at), tmp_path)
    assert "input: (85, 128)" in out and "feature map: (83, 126)" in out
    assert float(re.search(r"at row 41, column 63: (-?[0-9.]+)", out).group(1)) == float(value)
    printed = re.search(r"min: (-?[0-9.]+) max: (-?[0-9.]+)", out).groups()
    assert [float(x) for x in printed] == [float(low), float(high)]


def test_every_control_of_the_page_works_in_korean():
    at = open_page("lessons/filters.py", "ko")
    assert exercise_widgets(at) >= 8


def test_a_custom_kernel_with_a_bad_cell_names_the_cell_and_the_rest_works():
    at = open_page("lessons/filters.py", "ko", query={"filters.kernel": "custom", "filters.cells": "1_abc_0~0_1_0~0_0_1"})
    message = at.error[0].value
    assert "1행 2열" in message and "abc" in message
    assert not at.exception
    assert len(at.get("plotly_chart")) >= 2  # the bank and the learned filters still draw


def test_an_all_zero_kernel_warns_and_still_draws_an_empty_map():
    at = open_page("lessons/filters.py", query={"filters.kernel": "custom", "filters.cells": "0_0_0~0_0_0~0_0_0"})
    assert at.warning[0].value == i18n.translate("filters.all_zero", "en") and not at.error
    assert any("from 0.000 to 0.000" in c.value for c in at.caption)


def test_a_link_with_unreadable_cells_says_so():
    at = open_page("lessons/filters.py", query={"filters.kernel": "custom", "filters.cells": "1_2~3"})
    assert at.warning and not at.exception


def test_uploads_work_and_bad_ones_fall_back_to_the_photo(tmp_path):
    at = open_page("lessons/filters.py", query={"filters.image": "upload"})
    at.file_uploader[0].upload("broken.png", b"not a picture", "image/png").run()
    assert at.error and at.error[0].value == i18n.translate("image.bad_upload.not_an_image", "en") and not at.exception
    tiny = _png(np.array([[0, 255], [255, 0]], np.uint8))
    at.file_uploader[0].set_value(("tiny.png", tiny, "image/png")).run()
    assert any("2×2" in e.value for e in at.error)  # a 3×3 kernel does not fit a 2×2 image
    photo = _png((np.random.default_rng(2).random((90, 120)) * 255).astype(np.uint8))
    at.file_uploader[0].set_value(("mine.png", photo, "image/png")).run()
    assert not at.error and not at.exception
    (tmp_path / "mine.png").write_bytes(photo)
    out = run_snippet(shown_code(at), tmp_path)
    assert "input: (90, 120)" in out


def test_the_code_for_a_digit_with_stride_and_same_padding_prints_the_page_numbers(tmp_path):
    at = open_page("lessons/filters.py", query={"filters.image": "digit", "filters.digit": "12", "filters.kernel": "laplacian",
                                              "filters.stride": "2", "filters.padding": "same"})
    assert not at.exception
    total, value = _numbers(at)[:2]
    row, col = at.slider(key="filters.row").value, at.slider(key="filters.col").value
    out = run_snippet(shown_code(at), tmp_path)
    assert "feature map: (4, 4)" in out
    printed = re.search(rf"at row {row}, column {col}: (-?[0-9.]+)", out).group(1)
    assert float(printed) == pytest.approx(float(value), abs=1e-3)


def test_the_snippet_writes_fractions_exactly():
    code = snippets.filters_snippet(source="china", kernel=filters.KERNELS["box_blur"], stride=1,
                                    padding="valid", pixel=(0, 0), lang="en", factor=5)
    assert "[1/9, 1/9, 1/9]" in code
