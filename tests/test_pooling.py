"""lib.pooling against numpy (reshape-max, and windows by hand for strides and 'same'), the
windows and the shift lesson, and the Pooling page (every control, bad input, its code)."""
import re

import numpy as np
import pytest

from lib import data, i18n, pooling
from tests.helpers import exercise_widgets, open_page, run_snippet, shown_code


def reference(image, size, stride, padding, mode):
    """Pooling by hand: TensorFlow's padding split, padded cells never count."""
    h, w = image.shape
    if padding == "same":
        out_h, out_w = -(-h // stride), -(-w // stride)
        top = max((out_h - 1) * stride + size - h, 0) // 2
        left = max((out_w - 1) * stride + size - w, 0) // 2
    else:
        out_h, out_w, top, left = (h - size) // stride + 1, (w - size) // stride + 1, 0, 0
    out = np.empty((out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            r, c = i * stride - top, j * stride - left
            block = image[max(r, 0):r + size, max(c, 0):c + size]
            out[i, j] = block.max() if mode == "max" else block.mean()
    return out


def test_max_pooling_2x2_is_a_reshape_max_32_to_16():
    image = np.random.default_rng(0).random((32, 32)).astype(np.float32)
    expected = image.reshape(16, 2, 16, 2).max(axis=(1, 3))
    got = pooling.pool(image, pool_size=2, mode="max")
    assert got.shape == (16, 16)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_allclose(pooling.pool(image, mode="average"), image.reshape(16, 2, 16, 2).mean(axis=(1, 3)),
                               rtol=1e-6)


@pytest.mark.parametrize("shape", [(8, 8), (13, 17), (32, 30)])
@pytest.mark.parametrize("size", [2, 3, 4])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("mode", ["max", "average"])
def test_pool_matches_windows_by_hand(shape, size, stride, padding, mode):
    image = np.random.default_rng(size * 10 + stride).normal(size=shape).astype(np.float32)
    got = pooling.pool(image, pool_size=size, strides=stride, padding=padding, mode=mode)
    np.testing.assert_allclose(got, reference(image, size, stride, padding, mode), rtol=1e-5, atol=1e-6)
    assert got.shape == tuple(pooling.output_side(n, size, stride, padding) for n in shape)


@pytest.mark.parametrize("size,stride,padding", [(2, 2, "valid"), (3, 2, "same"), (3, 1, "valid"), (4, 3, "same")])
def test_each_window_keeps_the_value_max_pooling_outputs(size, stride, padding):
    grid = np.round(data.digit(5)[0] * 16)
    boxes = pooling.windows(grid, pool_size=size, strides=stride, padding=padding)
    pooled = pooling.pool(grid, pool_size=size, strides=stride, padding=padding)
    assert len(boxes) == pooled.size
    for box in boxes:
        assert grid[box.kept] == pooled[box.out_row, box.out_col]
        assert grid[box.top:box.bottom, box.left:box.right].max() == grid[box.kept]
        assert 0 < box.bottom - box.top <= size and 0 < box.right - box.left <= size


def test_pooling_learns_nothing_and_global_pooling_is_one_window():
    assert pooling.trainable_params(mode="max") == 0 and pooling.trainable_params(mode="average") == 0
    image = data.sample_image("china", max_side=64)
    assert pooling.global_pool(image, mode="max") == pytest.approx(float(image.max()))
    assert pooling.global_pool(image, mode="average") == pytest.approx(float(image.mean()), rel=1e-5)


def test_a_one_pixel_shift_changes_the_max_pooled_image_less_than_the_raw_one():
    image = data.sample_image("china", max_side=128)
    change = pooling.shift_change(image, pool_size=2)
    moved = np.concatenate([image[:, :1], image[:, :-1]], axis=1)
    assert change.raw == pytest.approx(np.abs(image - moved).mean() / np.abs(image).mean(), rel=1e-5)
    assert 0 < change.pooled < change.raw
    assert change.pooled_difference.shape == pooling.pool(image).shape


@pytest.mark.parametrize("kwargs,code", [
    (dict(pool_size=9), "too_large"), (dict(pool_size=2, padding="full"), "bad_padding"),
    (dict(pool_size=0), "not_positive"), (dict(pool_size=2, strides=-1), "not_positive"),
    (dict(pool_size=2, mode="median"), "bad_mode")])
def test_impossible_settings_raise_pool_error_with_a_translated_reason(kwargs, code):
    with pytest.raises(pooling.PoolError) as caught:
        pooling.pool(np.ones((8, 8)), **kwargs)
    assert caught.value.code == code
    for lang in i18n.LANGUAGES:
        assert "{" not in i18n.translate(f"pooling.error.{code}", lang, **caught.value.details)


def test_a_pool_larger_than_the_image_is_fine_with_same_padding():
    assert pooling.pool(np.ones((3, 3)), pool_size=4, padding="same").shape == (1, 1)


def _decoded(data):
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=int)


def test_before_and_after_are_pictures_of_one_width_each_pixel_a_block_in_the_charts_colours():
    """The photo and its pooled half as PNGs: the same width on screen, every pooled pixel a whole
    block twice the photo's, coloured as `paint` colours it; a feature map on one red-blue scale."""
    from lib import plots
    from lib.plots.base import paint

    image = np.random.default_rng(3).random((10, 16))
    pooled = pooling.pool(image, pool_size=2, mode="max")
    (before, after), titles = plots.pooled_pair_pictures(image, pooled, "en", width=64)
    before, after = _decoded(before), _decoded(after)
    assert before.shape == (40, 64, 3) and after.shape == (40, 64, 3)  # 4 and 8 px a pixel
    np.testing.assert_array_equal(before[::4, ::4], paint(image))
    np.testing.assert_array_equal(after[::8, ::8], paint(pooled))
    np.testing.assert_array_equal(after[7::8, 7::8], paint(pooled))  # whole blocks
    assert titles == ["Before (10×16)", "After pooling (5×8)"]
    signed = image - 0.5
    pooled = pooling.pool(signed, pool_size=2)
    (before, after), _ = plots.pooled_pair_pictures(signed, pooled, "ko", signed=True, width=64)
    limit = np.abs(signed).max()  # the input's: the pooled map on the same scale
    np.testing.assert_array_equal(_decoded(after)[::8, ::8], paint(pooled, signed=True, limit=limit))


def test_the_shift_is_two_pictures_on_one_scale_with_the_share_changed_in_their_titles():
    from lib import plots
    from lib.plots.base import paint

    change = pooling.shift_change(data.square_photo("china", 32), pool_size=2)
    (raw, kept), titles = plots.shift_pictures(change, "en", width=64)
    limit = max(change.raw_difference.max(), change.pooled_difference.max())
    np.testing.assert_array_equal(_decoded(raw)[::2, ::2], paint(change.raw_difference, signed=True, limit=limit))
    np.testing.assert_array_equal(_decoded(kept)[::4, ::4], paint(change.pooled_difference, signed=True, limit=limit))
    assert titles[0] == f"Raw pixels: {100 * change.raw:.1f}% changed"


def test_the_windows_pictures_frame_each_window_and_its_pooled_cell_in_one_colour():
    """Max pooling of a small grid, 2×2 windows moving 2: each window framed in its colour around
    its cells, the kept cell ringed in it; the pooled cell of that window framed the same colour,
    its cells gray as the grid's values (0 black, the largest white); both pictures one width."""
    from lib import plots
    from lib.plots.base import paint

    grid = np.arange(16, dtype="float64").reshape(4, 4)
    boxes = pooling.windows(grid, pool_size=2, strides=2)
    pooled = pooling.pool(grid, pool_size=2, mode="max")
    (left, right), titles = plots.windows_pictures(grid, boxes, pooled, "en", cell=40)
    left, right = _decoded(left), _decoded(right)
    assert left.shape == right.shape == (160, 160, 3)  # a pooled cell 80 px: one width
    assert titles == ["The digit's pixels (4×4)", "Pooled (2×2)"]
    for k, w in enumerate(boxes):
        color = np.array([int(plots.category_color(k)[i:i + 2], 16) for i in (1, 3, 5)])
        edge = left[w.top * 40 + 1, w.left * 40 + 10:w.right * 40 - 10]  # the window's frame: its top edge
        share = (edge == color).all(axis=1).mean()  # every other window dotted: dashes of 6 px in 12
        assert share == 1.0 if (w.out_row + w.out_col) % 2 == 0 else 0.4 <= share <= 0.6, (k, share)
        row, col = w.kept  # the kept (largest) cell ringed, 6 px inside its own edge
        assert (left[row * 40 + 6, col * 40 + 10:(col + 1) * 40 - 10] == color).all(), (k, w.kept)
        assert (right[w.out_row * 80 + 1, w.out_col * 80 + 10:(w.out_col + 1) * 80 - 10] == color).all(), k
        corner = paint(np.array([[pooled[w.out_row, w.out_col]]]), limit=(0, 15))[0, 0]
        assert (right[w.out_row * 80 + 12, w.out_col * 80 + 12] == corner).all()  # its gray, inside the frame
    assert [tuple(pooled.ravel())] == [(5, 7, 13, 15)]  # the largest of each window, as Keras keeps it


# --- The page ---------------------------------------------------------------------------------

def test_the_page_shows_the_seeds_32_to_16_and_its_code_prints_the_same_numbers(tmp_path):
    at = open_page("lessons/pooling.py")
    assert not at.exception
    assert any("32×32" in m.value and "16×16" in m.value for m in at.markdown)
    assert [m.value for m in at.metric][0] == "0"
    first = re.search(r": ([-0-9., ]+) \(", at.caption[0].value).group(1).split(", ")
    out = run_snippet(shown_code(at), tmp_path)
    assert "input: (85, 128)" in out and "pooled: (42, 64)" in out and "trainable parameters: 0" in out
    printed = re.search(r"first row: \[([^\]]+)\]", out).group(1).split()
    assert [float(x) for x in printed] == [float(x) for x in first]
    global_shown = [m.value for m in at.metric][1]
    assert f"GlobalMaxPooling2D: {float(global_shown)}" in out


def test_every_control_of_the_page_works_in_both_languages():
    for lang in i18n.LANGUAGES:
        at = open_page("lessons/pooling.py", lang)
        assert exercise_widgets(at) >= 6


def test_the_feature_map_of_the_filters_page_can_be_pooled_and_its_code_runs(tmp_path):
    at = open_page("lessons/filters.py", query={"filters.image": "digit", "filters.digit": "3", "filters.kernel": "sobel_y"})
    at.switch_page("lessons/pooling.py")
    at.query_params.clear()
    at.query_params.update({"lang": "en", "pooling.source": "feature_map", "pooling.mode": "average"})
    at.run()
    assert not at.exception and not at.error
    assert "6×6" in " ".join(m.value for m in at.markdown)  # the 8×8 digit's 6×6 map, pooled to 3×3
    out = run_snippet(shown_code(at), tmp_path)
    assert "input: (6, 6)" in out and "pooled: (3, 3)" in out and "GlobalAveragePooling2D" in out


def test_a_pool_larger_than_its_input_says_so_and_the_page_keeps_working():
    at = open_page("lessons/filters.py", query={"filters.image": "digit", "filters.kernel": "sobel_x", "filters.stride": "3"})
    at.switch_page("lessons/pooling.py")
    at.query_params.clear()
    at.query_params.update({"lang": "ko", "pooling.source": "feature_map", "pooling.pool_size": "3"})
    at.run()
    assert not at.exception
    message = at.error[0].value
    assert "3×3" in message and "2×2" in message  # the 2×2 feature map of an 8×8 digit at stride 3
    assert len(at.get("plotly_chart")) == 1 and len(at.get("image")) >= 2  # the seed's example and the windows
    assert not at.code  # no code for settings that cannot run


def test_links_carry_the_choices_as_ids_in_any_language():
    at = open_page("lessons/pooling.py", "ko", query={"pooling.source": "digit", "pooling.mode": "average", "pooling.strides": "1"})
    assert at.selectbox(key="pooling.source").value == "digit" and at.selectbox(key="pooling.strides").value == 1
    assert at.query_params["pooling.mode"] in ("average", ["average"])
