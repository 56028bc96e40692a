"""Pooling: step 2 of feature extraction, done by real Keras pooling layers.

`pool` runs `keras.layers.MaxPooling2D` or `AveragePooling2D` on a 2-D image, e.g. 32x32 ->
16x16 with pool size 2. `windows` lists where each window sits and, for max pooling, which
input value it keeps; `shift_change` measures why pooling helps: a one-pixel shift of the input
changes the pooled output less than the input itself.
"""
import dataclasses
import math

import numpy as np

from lib.errors import Refusal

MODES = ("max", "average")
PADDINGS = ("valid", "same")


class PoolError(Refusal):
    """Settings that cannot give a pooled image; `code` says why (translated by the page)."""

    catalog = "pooling.error"


def _layer(mode, pool_size, strides, padding, global_=False):
    import keras

    if mode not in MODES:
        raise PoolError("bad_mode", f"mode must be one of {MODES}, got {mode!r}")
    kind = "Max" if mode == "max" else "Average"
    if global_:
        return getattr(keras.layers, f"Global{kind}Pooling2D")()
    return getattr(keras.layers, f"{kind}Pooling2D")(pool_size=pool_size, strides=strides, padding=padding)


def check(shape, pool_size, strides, padding):
    """PoolError when a window does not fit (pool larger than the image with 'valid')."""
    if padding not in PADDINGS:
        raise PoolError("bad_padding", f"padding must be one of {PADDINGS}, got {padding!r}")
    for name, value in (("pool_size", pool_size), ("strides", strides)):
        if not (isinstance(value, (int, np.integer)) and value >= 1):
            raise PoolError("not_positive", f"{name} must be a whole number of at least 1, got {value!r}",
                            arg=name, value=value)
    if padding == "valid" and pool_size > min(shape[:2]):
        raise PoolError("too_large", f"a {pool_size}×{pool_size} window is larger than the "
                                     f"{shape[0]}×{shape[1]} image", size=pool_size, height=shape[0], width=shape[1])


def pool(image, *, pool_size=2, strides=None, padding="valid", mode="max"):
    """The pooled image (h', w') of a 2-D image, by a Keras MaxPooling2D or AveragePooling2D."""
    image = np.asarray(image, dtype="float32")
    strides = strides or pool_size
    check(image.shape, pool_size, strides, padding)
    out = _layer(mode, pool_size, strides, padding)(image[None, :, :, None])
    return np.asarray(out)[0, :, :, 0]


def global_pool(image, *, mode="max"):
    """The limit case: one number for the whole image (GlobalMaxPooling2D / GlobalAveragePooling2D)."""
    out = _layer(mode, None, None, None, global_=True)(np.asarray(image, dtype="float32")[None, :, :, None])
    return float(np.asarray(out)[0, 0])


def trainable_params(*, pool_size=2, mode="max"):
    """How many weights a pooling layer learns (always 0: it only picks or averages)."""
    layer = _layer(mode, pool_size, pool_size, "valid")
    layer.build((None, 8, 8, 1))
    return layer.count_params()


def output_side(n, pool_size, strides, padding):
    """One side of the output: ⌊(n − p) / s⌋ + 1 with 'valid', ⌈n / s⌉ with 'same'."""
    return math.ceil(n / strides) if padding == "same" else (n - pool_size) // strides + 1


@dataclasses.dataclass(frozen=True)
class Window:
    """One pooling window: its output cell, its cells in the input (clipped to the image), and
    for max pooling the input cell whose value it keeps."""
    out_row: int
    out_col: int
    top: int
    left: int
    bottom: int  # exclusive
    right: int  # exclusive
    kept: tuple  # (row, col) in the input


def windows(image, *, pool_size=2, strides=None, padding="valid"):
    """Every window of a pooling over `image`, row by row, as Keras places them ('same' pads the
    bottom/right first, and padded cells never win a max)."""
    image = np.asarray(image)
    strides = strides or pool_size
    check(image.shape, pool_size, strides, padding)
    h, w = image.shape
    out_h, out_w = output_side(h, pool_size, strides, padding), output_side(w, pool_size, strides, padding)
    pad_top = max((out_h - 1) * strides + pool_size - h, 0) // 2 if padding == "same" else 0
    pad_left = max((out_w - 1) * strides + pool_size - w, 0) // 2 if padding == "same" else 0
    found = []
    for i in range(out_h):
        for j in range(out_w):
            top, left = i * strides - pad_top, j * strides - pad_left
            t, l_ = max(top, 0), max(left, 0)
            b, r = min(top + pool_size, h), min(left + pool_size, w)
            block = image[t:b, l_:r]
            k = np.unravel_index(np.argmax(block), block.shape)
            found.append(Window(i, j, t, l_, b, r, (t + int(k[0]), l_ + int(k[1]))))
    return found


@dataclasses.dataclass(frozen=True)
class ShiftChange:
    """What a one-pixel shift does: relative change of the raw and the pooled image, and where."""
    raw: float  # mean |x - shifted x| / mean |x|
    pooled: float  # the same after pooling both
    raw_difference: np.ndarray
    pooled_difference: np.ndarray


def shift_change(image, *, pool_size=2, mode="max", shift=1):
    """Move the image `shift` pixels to the right (the edge column repeated, so the border adds no
    fake change) and compare, before and after pooling, how much changed."""
    image = np.asarray(image, dtype="float32")
    moved = np.concatenate([np.repeat(image[:, :1], shift, axis=1), image[:, :-shift]], axis=1)
    a, b = pool(image, pool_size=pool_size, mode=mode), pool(moved, pool_size=pool_size, mode=mode)

    def relative(x, y):
        return float(np.abs(x - y).mean() / max(float(np.abs(x).mean()), 1e-12))

    return ShiftChange(relative(image, moved), relative(a, b), np.abs(image - moved), np.abs(a - b))
