"""Pooling pictures (and the seed's figure): before and after, the windows one by one, and what a
shift changes."""
import numpy as np

from lib.i18n import translate
from lib.plots.base import Canvas, category_color, paint, pair_height, png, png_of, size



def pooled_pair_figure(picture, pooled, lang, *, signed=False):
    """Before and after pooling at the same height: fewer, bigger pixels, the same picture.
    A feature map (`signed`) keeps the red-blue scale, the same for both."""
    canvas = Canvas(1, 2, (translate("pooling.fig.before", lang, shape=size(picture)),
                           translate("pooling.fig.after", lang, shape=size(pooled))))
    limit = max(float(np.abs(picture).max()), 1e-6) if signed else None
    canvas.image(picture, col=1, signed=signed, limit=limit)
    canvas.image(pooled, col=2, signed=signed, limit=limit)
    return canvas.figure(pair_height(picture), top=40)


def windows_pictures(grid, windows, pooled, lang, *, mode="max", cell=48):
    """A small grid and its pooling as two PNG pictures of one width with their titles: the grid,
    every cell `cell` px and its value written on it, every window framed in its colour (every other
    one dotted) and (max) the kept value ringed; the pooled grid beside it, bigger cells, each framed
    in its window's colour. Pictures, not a chart: they change at every nudge of the pool, and a
    changed chart with a number a cell and a frame a window is drawn anew."""
    from PIL import Image, ImageDraw, ImageFont

    limit = (0.0, max(float(np.max(grid)), 1e-6))
    big = max(cell, round(cell * grid.shape[1] / max(pooled.shape[1], 1)))  # a pooled cell: the same width in all

    def drawn(z, written, side):  # (picture, its ImageDraw): the cells in gray, each value on its cell
        picture = Image.fromarray(paint(z, limit=limit).repeat(side, axis=0).repeat(side, axis=1))
        draw, font = ImageDraw.Draw(picture), ImageFont.load_default(size=round(min(side, 2 * cell) * 0.36))
        for (row, col), value in np.ndenumerate(z):
            light = (value - limit[0]) / (limit[1] - limit[0]) > 0.5
            draw.text(((col + 0.5) * side, (row + 0.5) * side), written.format(value),
                      fill="#0f172a" if light else "#ffffff", font=font, anchor="mm")
        return picture, draw

    left, draw_left = drawn(grid, "{:.0f}", cell)
    right, draw_right = drawn(pooled, "{:.1f}" if mode == "average" else "{:.0f}", big)
    for k, w in enumerate(windows):
        color = category_color(k)
        box = [w.left * cell + 1, w.top * cell + 1, w.right * cell - 2, w.bottom * cell - 2]
        _frame(draw_left, box, color, width=3, dotted=(w.out_row + w.out_col) % 2 == 1)
        if mode == "max":
            row, col = w.kept
            draw_left.rectangle([col * cell + 6, row * cell + 6, (col + 1) * cell - 7, (row + 1) * cell - 7],
                                outline=color, width=3)
        draw_right.rectangle([w.out_col * big + 1, w.out_row * big + 1, (w.out_col + 1) * big - 2,
                              (w.out_row + 1) * big - 2], outline=color, width=4)
    return [png_of(left), png_of(right)], [translate("pooling.fig.grid", lang, shape=size(grid)),
                      translate("pooling.fig.pooled", lang, shape=size(pooled))]


def _frame(draw, box, color, *, width, dotted):
    """A rectangle's outline, whole or dotted (dashes of 6 px)."""
    if not dotted:
        draw.rectangle(box, outline=color, width=width)
        return
    x0, y0, x1, y1 = box
    for a, b in (((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x1, y1), (x0, y1)), ((x0, y1), (x0, y0))):
        length = max(abs(b[0] - a[0]), abs(b[1] - a[1]))
        for start in range(0, int(length), 12):
            end = min(start + 6, length)
            draw.line([(a[0] + (b[0] - a[0]) * start / length, a[1] + (b[1] - a[1]) * start / length),
                       (a[0] + (b[0] - a[0]) * end / length, a[1] + (b[1] - a[1]) * end / length)],
                      fill=color, width=width)


def pooled_pair_pictures(picture, pooled, lang, *, signed=False, width=400):
    """Before and after pooling as two PNG pictures of the same width, with their titles: fewer,
    bigger pixels, the same picture (each pixel scaled up whole). A feature map (`signed`) keeps the
    red-blue scale, the same for both. Pictures, not a chart: they change at every nudge of the
    pool, and a changed chart is drawn anew."""
    limit = max(float(np.abs(picture).max()), 1e-6) if signed else None
    pictures = _same_width([paint(z, signed=signed, limit=limit) for z in (picture, pooled)], width)
    return pictures, [translate("pooling.fig.before", lang, shape=size(picture)),
                      translate("pooling.fig.after", lang, shape=size(pooled))]


def shift_pictures(change, lang, *, width=320):
    """Where a one-pixel shift changes the image, before and after max pooling, as two PNG pictures
    of the same width on one red-blue scale (red: changed), with their titles."""
    limit = max(float(change.raw_difference.max()), float(change.pooled_difference.max()), 1e-6)
    pictures = _same_width([paint(change.raw_difference, signed=True, limit=limit),
                            paint(change.pooled_difference, signed=True, limit=limit)], width)
    return pictures, [translate("pooling.fig.raw", lang, change=f"{100 * change.raw:.1f}"),
                      translate("pooling.fig.pooled_change", lang, change=f"{100 * change.pooled:.1f}")]


def _same_width(rgbs, width):
    """PNGs of RGB pictures, each pixel scaled up whole: the first to about `width` px across, the
    others to the first's width (as near as whole pixels go)."""
    across = rgbs[0].shape[1] * max(1, round(width / rgbs[0].shape[1]))
    return [png(rgb, whole=max(1, round(across / rgb.shape[1]))) for rgb in rgbs]
