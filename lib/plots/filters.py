"""Convolution figures: an image beside its feature map, and the arithmetic of one pixel."""
import html

import numpy as np

from lib.i18n import translate
from lib.plots.base import image_grid, paint, png, size


def feature_map_pictures(picture, feature_map, lang, *, window=None, pixel=None, width=320):
    """The input beside its feature map, as two PNG pictures with their titles: the input gray, the
    map red-blue about zero (± its largest magnitude), each pixel scaled up whole to about `width`
    px; `window` (top, left, h, w) framed on the input, `pixel` (row, col) on the map, the output
    pixel computed below. Pictures, not a chart: they change at every nudge of the page's controls,
    and a changed chart is drawn anew (this one: ~40 ms of Chromium's main thread a nudge)."""
    whole = max(1, round(width / max(picture.shape[1], 1)))
    pixel = None if pixel is None else (*pixel, 1, 1)
    pictures = [png(paint(picture), whole=whole, frame=window),
                png(paint(feature_map, signed=True), whole=whole, frame=pixel)]
    return pictures, [translate("filters.fig.input", lang, shape=size(picture)),
                      translate("filters.fig.feature_map", lang, shape=size(feature_map))]


def pixel_arithmetic(patch, kernel, lang):
    """Window × kernel = products, summed — the arithmetic of one output pixel — as HTML: three
    small grids coloured as the charts colour them (the window gray from 0 to 1, the kernel and the
    products red-blue about zero), every cell numbered, its value to four places on hover. HTML, not
    a chart: it changes at every nudge of the pixel, and a changed chart is drawn anew (~25 ms of
    the browser's time a nudge, measured in Chromium), a table is laid out in a few."""
    products = patch * kernel
    grids = ((translate("filters.fig.window", lang), patch, False, "{:.2f}"),
             (translate("filters.fig.kernel", lang), kernel, True, "{:.3g}"),
             (translate("filters.fig.products", lang, total=f"{products.sum():.3f}"), products, True, "{:.2f}"))
    side = 52 if max(kernel.shape) <= 3 else 40  # a cell: wide enough for "-0.25" on a projector
    blocks = [_grid_html(title, z, signed, number, side) for title, z, signed, number in grids]
    symbol = '<div style="font-size:30px;font-weight:700;color:#475569;padding-top:24px">{}</div>'
    return ('<div style="display:flex;flex-wrap:wrap;align-items:center;gap:14px">'
            + symbol.format("×").join(blocks[:2]) + symbol.format("=") + blocks[2] + "</div>")


def _grid_html(title, z, signed, number, side):
    """One grid of the arithmetic: its title above, a cell a value."""
    colors = paint(z, signed=signed)  # as the pictures and charts beside it colour them
    rows = []
    for r, row in enumerate(np.asarray(z, dtype="float64")):
        cells = []
        for c, value in enumerate(row):
            red, green, blue = (int(v) for v in colors[r, c])
            ink = "#ffffff" if 0.299 * red + 0.587 * green + 0.114 * blue < 140 else "#0f172a"
            cells.append(f'<td title="({r}, {c}): {value:.4f}" style="background:rgb({red}, {green}, {blue});'
                         f'color:{ink};width:{side}px;height:{side - 12}px;text-align:center;padding:0;'
                         f'border:1px solid #e2e8f0">{number.format(value)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return ('<div><div style="font-size:14px;margin-bottom:4px">' + html.escape(title) + "</div>"
            '<table style="border-collapse:collapse;font-size:15px;font-variant-numeric:tabular-nums;'
            'margin:0">' + "".join(rows) + "</table></div>")


def bank_pictures(maps, names, lang, *, width=240):
    """The feature maps of one Conv2D with several kernels (`maps`: (kernels, h, w)) as PNG pictures
    on one red-blue scale, each pixel scaled up whole to about `width` px, and their kernels' names:
    (pictures, captions, the scale's limit ±). Pictures, not a chart: they change at every nudge of the stride, and a
    changed chart is drawn anew (the bank's four maps as one: 30-55 ms of the browser's main thread
    a nudge, Chromium's profile); a picture is decoded in a few."""
    maps = np.asarray(maps, dtype="float64")
    shared = max(float(np.abs(maps).max()) if maps.size else 0.0, 1e-6)
    whole = max(1, round(width / max(maps.shape[2], 1)))
    pictures = [png(paint(feature_map, signed=True, limit=shared), whole=whole) for feature_map in maps]
    return pictures, [translate(f"filters.kernels.{n}", lang) for n in names], shared


def learned_kernels_figure(kernels):
    """The 3×3 kernels a CNN learned by itself, each cell numbered."""
    return image_grid(kernels, [f"#{k + 1}" for k in range(len(kernels))], cols=8, numbers="%{z:.1f}", height_per_row=170)


def learned_maps_figure(image, maps, lang):
    """A digit, then what each learned kernel (with its bias and ReLU) makes of it."""
    titles = [translate("filters.learned_input", lang)] + [f"#{k + 1}" for k in range(len(maps))]
    return image_grid([image, *maps], titles, cols=len(maps) + 1, signed=[False] + [True] * len(maps),
                      height_per_row=170)
