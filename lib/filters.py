"""Convolution filters: step 1 of feature extraction, done by a real Keras Conv2D.

`convolve` puts a hand-made kernel into a `keras.layers.Conv2D` as its only weights and runs it
on an image: like Keras (and every deep-learning library) it computes a cross-correlation, the
kernel is not flipped. `window` shows the numbers behind one output pixel; `output_size` the
textbook formula; `learned_kernels` what a small CNN trained on the digits learned by itself.
"""
import dataclasses
import fractions
import math

import numpy as np

from lib.errors import Refusal

KERNELS = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "box_blur": np.ones((3, 3)) / 9,
    "gaussian_blur": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16,
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    "sobel_x": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "sobel_y": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "emboss": np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
}
KERNELS = {name: k.astype("float32") for name, k in KERNELS.items()}
PADDINGS = ("valid", "same")
MAX_KERNEL = 7


class KernelError(Refusal):
    """A kernel the page cannot use: `code` says why; for a cell, `details` row/col (1-based) say where."""

    catalog = "filters.error"


def _conv_layer(kernels, stride, padding):
    """A Conv2D whose weights are `kernels` (n, kh, kw), one filter each, no bias."""
    import keras

    n, kh, kw = kernels.shape
    weights = np.transpose(kernels, (1, 2, 0))[:, :, None, :].astype("float32")  # (kh, kw, 1 channel, n)
    # The kernel goes in as the initial weights: no random initialisation to overwrite (it was a
    # fifth of a slider nudge).
    return keras.layers.Conv2D(filters=n, kernel_size=(kh, kw), strides=stride, padding=padding, use_bias=False,
                               kernel_initializer=keras.initializers.Constant(weights), name="hand_made_filters")


def convolve(image, kernel, *, stride=1, padding="valid"):
    """The feature map of one kernel on a gray image (h, w): a Keras Conv2D with it as weights."""
    return convolve_many(image, np.asarray(kernel)[None], stride=stride, padding=padding)[0]


def convolve_many(image, kernels, *, stride=1, padding="valid"):
    """One Conv2D with `filters=len(kernels)`: one feature map per kernel, shape (n, h', w')."""
    image, kernels = np.asarray(image, dtype="float32"), np.asarray(kernels, dtype="float32")
    check(image, kernels.shape[1:], stride, padding)
    out = _conv_layer(kernels, stride, padding)(image[None, :, :, None])
    return np.transpose(np.asarray(out)[0], (2, 0, 1))


def check(image, kernel_shape, stride, padding):
    """KernelError when these settings cannot give a feature map (e.g. kernel larger than image)."""
    if padding not in PADDINGS:
        raise KernelError("bad_padding", f"padding must be one of {PADDINGS}, got {padding!r}")
    if not (isinstance(stride, (int, np.integer)) and stride >= 1):
        raise KernelError("bad_stride", f"stride must be a whole number of at least 1, got {stride!r}")
    if padding == "valid" and (kernel_shape[0] > image.shape[0] or kernel_shape[1] > image.shape[1]):
        raise KernelError("too_large", f"a {kernel_shape[0]}×{kernel_shape[1]} kernel does not fit in a "
                                       f"{image.shape[0]}×{image.shape[1]} image with padding 'valid'",
                          kh=kernel_shape[0], kw=kernel_shape[1], h=image.shape[0], w=image.shape[1])


@dataclasses.dataclass(frozen=True)
class OutputSize:
    """One side of the output: ⌊(n + P − k) / s⌋ + 1, with P the total padding."""
    n: int
    k: int
    s: int
    padding_total: int

    @property
    def size(self):
        return (self.n + self.padding_total - self.k) // self.s + 1

    @property
    def pad_before(self):  # Keras puts the smaller half first
        return self.padding_total // 2

    def __str__(self):
        return f"⌊({self.n} + {self.padding_total} − {self.k}) / {self.s}⌋ + 1 = {self.size}"


def output_size(n, k, stride, padding):
    """The textbook formula for one side, with Keras's padding ('same' keeps ⌈n / s⌉)."""
    total = max((math.ceil(n / stride) - 1) * stride + k - n, 0) if padding == "same" else 0
    return OutputSize(n, k, stride, total)


def window(image, kernel_shape, row, col, *, stride=1, padding="valid"):
    """The input numbers under the kernel for output pixel (row, col), zeros where it hangs over
    the border (padding 'same'), and the input coordinate of its top-left cell."""
    kh, kw = kernel_shape
    top = row * stride - output_size(image.shape[0], kh, stride, padding).pad_before
    left = col * stride - output_size(image.shape[1], kw, stride, padding).pad_before
    padded = np.zeros((kh, kw), dtype="float32")
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + kh, image.shape[0]), min(left + kw, image.shape[1])
    padded[r0 - top:r1 - top, c0 - left:c1 - left] = image[r0:r1, c0:c1]
    return padded, (top, left)


def parse_cell(text):
    """A kernel cell as typed: '2', '-0.5', '1/9'. None when it is not a number."""
    text = str(text).strip().replace("−", "-")
    try:
        value = float(fractions.Fraction(text))
    except (ValueError, ZeroDivisionError, OverflowError):  # '1e309' is a fine fraction but no float
        return None
    return value if math.isfinite(value) else None


def parse_kernel(rows):
    """A square grid of typed cells -> float32 kernel; KernelError naming the first bad cell."""
    rows = [list(r) for r in rows]
    size = len(rows)
    if not 1 <= size <= MAX_KERNEL or any(len(r) != size for r in rows):
        raise KernelError("not_square", f"a kernel must be square, 1×1 to {MAX_KERNEL}×{MAX_KERNEL}",
                          largest=MAX_KERNEL)
    kernel = np.zeros((size, size), dtype="float32")
    for i, r in enumerate(rows):
        for j, text in enumerate(r):
            value = parse_cell(text)
            if value is None:
                raise KernelError("not_a_number", f"cell ({i + 1}, {j + 1}) is not a number: {text!r}",
                                  row=i + 1, col=j + 1, text=str(text))
            kernel[i, j] = value
    return kernel


def cell_text(value):
    """A kernel number as a student would type it: '2', '-0.5', '1/9' (a small fraction whenever
    it gives exactly the same float32), else its full decimal form."""
    exact = fractions.Fraction(float(value)).limit_denominator(1000)
    if np.float32(float(exact)) == np.float32(value):
        return str(exact.numerator) if exact.denominator == 1 else f"{exact.numerator}/{exact.denominator}"
    return repr(float(value))


def kernel_text(kernel):
    """A kernel as rows of typed cells (see `cell_text`); `parse_kernel` reads them back exactly."""
    return [[cell_text(v) for v in row] for row in np.asarray(kernel)]


def is_all_zero(kernel):
    return not np.any(np.asarray(kernel))


def edge_responses(kernel):
    """(vertical, horizontal): how strongly a kernel answers an edge from 0 to 1 across its
    window, left to right (a vertical edge) or top to bottom (a horizontal one): |Σ kernel ×
    window|, the largest over where in the window the edge falls. 0 means blind to that edge."""
    k = np.asarray(kernel, dtype="float64")
    bright = [np.cumsum(sums[::-1])[:-1] for sums in (k.sum(axis=0), k.sum(axis=1))]
    vertical, horizontal = (float(np.abs(b).max(initial=0.0)) for b in bright)
    return vertical, horizontal


# --- What a CNN learns by itself ---------------------------------------------------------

def learned_kernels():
    """(kernels (8, 3, 3), test accuracy) of the first Conv2D of the class model: the small CNN
    trained once per server on the digits (lib.class_model)."""
    from lib.class_model import class_model

    shared = class_model()
    kernel = shared.model.layers[0].get_weights()[0]  # (3, 3, 1, 8)
    return np.transpose(kernel[:, :, 0, :], (2, 0, 1)).copy(), shared.accuracy


def learned_feature_maps(image):
    """What the learned first layer (with its bias and ReLU) makes of an 8x8 digit: (8, 8, 8)."""
    from lib.class_model import class_model

    out = class_model().model.layers[0](np.asarray(image, dtype="float32")[None, :, :, None])
    return np.transpose(np.asarray(out)[0], (2, 0, 1))


def encode_cells(rows):
    """Typed kernel cells for a link: cells by '_', rows by '~' (e.g. '1_0_-1~2_0_-2~1_0_-1')."""
    return "~".join("_".join(str(c).strip() for c in row) for row in rows)


def decode_cells(text):
    """The typed cells of `encode_cells`, still text (parse_kernel checks them)."""
    return [row.split("_") for row in str(text).split("~")]


def resize_cells(rows, size):
    """Grow (zeros around) or shrink (keep the centre) a square grid of typed cells to size x size."""
    rows = [list(r) for r in rows]
    while len(rows) < size:
        width = len(rows) + 2
        rows = [["0"] * width] + [["0", *r, "0"] for r in rows] + [["0"] * width]
    while len(rows) > size:
        rows = [r[1:-1] for r in rows[1:-1]]
    return rows
