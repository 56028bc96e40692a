"""A digit drawn on a canvas, turned into an image of a data set: cropped to its ink, scaled into
the set's box, centred as the set centres its digits, so the model sees what it was trained on."""
import numpy as np

from lib.errors import Refusal

# The page's canvas (streamlit-drawable-canvas, freedraw, return_image_data=True): CANVAS_SIDE
# pixels square, black pen STROKE_WIDTH wide on white. A digit drawn to fill it then has strokes
# about as thick, for its height, as the 8x8 digits' (thinner pens give faint 1s the CNN misreads).
CANVAS_SIDE = 280
STROKE_WIDTH = 32
# The output shapes, and the side of the box the digit's longer side is scaled to: the 8x8 digits
# fill their whole height (every image of the set has ink in all 8 rows); MNIST fits each digit in
# 20x20 and centres that in 28x28 by its centre of mass.
DRAWING_BOXES = {(8, 8): 8, (28, 28): 20}
INK_THRESHOLD = 0.1  # a pixel with less ink than this (faint anti-aliasing) does not count as drawn
MIN_DIGIT_FRACTION = 0.15  # a drawing whose longer side is below this share of the canvas is a dot


class EmptyDrawing(Refusal):
    """A canvas with no digit to read. `code` is "empty" (nothing drawn) or "too_small" (a dot or
    a scribble too small to be a digit: the page asks for a bigger one); `details` the numbers."""

    catalog = "evaluate.drawing"


def ink(rgba):
    """How much ink each pixel holds, 0..1, from a canvas image (h, w, 4) or (h, w, 3) of uint8.

    A canvas with a transparent background: the ink is the alpha channel, whatever the stroke's
    colour. An opaque one (black on white, or white on black): the ink is each pixel's gray-level
    distance from the background's (the median of the border), as a share of the largest possible.
    """
    from lib.data import LUMA

    rgba = np.asarray(rgba)
    if rgba.ndim != 3 or rgba.shape[2] not in (3, 4):
        raise ValueError(f"expected an RGBA or RGB image (h, w, 4 or 3), got shape {rgba.shape}")
    values = rgba.astype("float32") / 255.0
    if rgba.shape[2] == 4 and values[:, :, 3].min() < 1.0:
        return values[:, :, 3]
    gray = values[:, :, :3] @ LUMA
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    background = float(np.median(border))
    return np.abs(gray - background) / max(background, 1.0 - background, 1e-6)


def preprocess_drawing(rgba, shape):
    """A canvas drawing as one image of the data set: float32 `shape` in [0, 1], ink bright (1)
    on a dark (0) background. Raises EmptyDrawing ("empty" or "too_small").

    (8, 8), scikit-learn's digits: crop to the ink, put it in a square (the longer side fills it,
    the shorter is centred by its centre of mass), average 8x8 areas (as the set was made: counts
    of ink in 4x4 blocks of a 32x32 bitmap), and scale so the brightest pixel is 1 (16/16, as in
    95% of the set). (28, 28), MNIST: the same square averaged to 20x20, then placed in 28x28 with
    its centre of mass in the middle, brightest pixel 1.
    """
    if rgba is None:  # the canvas before its first stroke
        raise EmptyDrawing("empty", "nothing drawn yet")
    shape = tuple(shape)
    if shape not in DRAWING_BOXES:
        raise ValueError(f"shape must be one of {sorted(DRAWING_BOXES)}, got {shape}")
    amount = ink(rgba)
    rows, cols = np.nonzero(amount >= INK_THRESHOLD)
    if rows.size == 0:
        raise EmptyDrawing("empty", "nothing is drawn on the canvas")
    height, width = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    smallest = MIN_DIGIT_FRACTION * min(amount.shape)
    if max(height, width) < smallest:
        raise EmptyDrawing("too_small", f"the drawing is {height}×{width} pixels; a digit is at least "
                                        f"{smallest:.0f} high or wide", height=int(height), width=int(width),
                           minimum=int(np.ceil(smallest)))
    crop = amount[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    box = DRAWING_BOXES[shape]
    digit = _area_average(_square(crop), box)
    if box < shape[0]:
        digit = _centre_by_mass(digit, shape[0])
    return (digit / digit.max()).astype("float32")


def centre_of_mass(image):
    """(row, column) of the ink's centre of mass, in pixel-index coordinates."""
    image = np.asarray(image, dtype="float64")
    rows, cols = np.indices(image.shape)
    total = image.sum()
    return float((rows * image).sum() / total), float((cols * image).sum() / total)


def _square(crop):
    """The crop in a square whose side is its longer side; along the shorter side its centre of
    mass goes to the middle, as far as the square allows."""
    height, width = crop.shape
    side = max(height, width)
    square = np.zeros((side, side), dtype="float32")
    row, col = centre_of_mass(crop)
    top = int(np.clip(round(side / 2 - row - 0.5), 0, side - height))
    left = int(np.clip(round(side / 2 - col - 0.5), 0, side - width))
    square[top:top + height, left:left + width] = crop
    return square


def _area_average(square, side):
    """Shrink (or grow) a square image to side x side: each output pixel the mean of the input
    area it covers, partial pixels weighted by how much of them it covers (PIL's box filter)."""
    from PIL import Image

    return np.asarray(Image.fromarray(square).resize((side, side), Image.Resampling.BOX), dtype="float32")


def _centre_by_mass(digit, side):
    """`digit` pasted into a side x side field of zeros, its centre of mass in the middle (whole
    pixels, the digit kept inside the field): MNIST's second step."""
    field = np.zeros((side, side), dtype="float32")
    row, col = centre_of_mass(digit)
    room = side - digit.shape[0]
    top = int(np.clip(round(side / 2 - row - 0.5), 0, room))
    left = int(np.clip(round(side / 2 - col - 0.5), 0, room))
    field[top:top + digit.shape[0], left:left + digit.shape[1]] = digit
    return field
