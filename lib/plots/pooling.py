"""Pooling figures: before and after, the windows one by one, and what a shift changes."""
import numpy as np

from lib.i18n import translate
from lib.plots.base import Canvas, category_color, paint, pair_height, png, size



def pooled_pair_figure(picture, pooled, lang, *, signed=False):
    """Before and after pooling at the same height: fewer, bigger pixels, the same picture.
    A feature map (`signed`) keeps the red-blue scale, the same for both."""
    canvas = Canvas(1, 2, (translate("pooling.fig.before", lang, shape=size(picture)),
                           translate("pooling.fig.after", lang, shape=size(pooled))))
    limit = max(float(np.abs(picture).max()), 1e-6) if signed else None
    canvas.image(picture, col=1, signed=signed, limit=limit)
    canvas.image(pooled, col=2, signed=signed, limit=limit)
    return canvas.figure(pair_height(picture), top=40)


def windows_figure(grid, windows, pooled, lang, *, mode="max"):
    """A small grid with every window framed in its colour and (max) the kept value ringed;
    the pooled grid beside it, each cell in the colour of its window."""
    canvas = Canvas(1, 2, (translate("pooling.fig.grid", lang, shape=size(grid)),
                           translate("pooling.fig.pooled", lang, shape=size(pooled))), spacing=0.08)
    limit = (0.0, max(float(np.max(grid)), 1e-6))
    canvas.image(grid, col=1, numbers="%{z:.0f}", limit=limit, hover="%{z:.0f}")
    canvas.image(pooled, col=2, numbers="%{z:.1f}" if mode == "average" else "%{z:.0f}", limit=limit,
                 hover="%{z:.2f}")
    for k, w in enumerate(windows):
        color = category_color(k)
        canvas.outline(w.top, w.left, w.bottom - w.top, w.right - w.left, color,
                       dash="dot" if (w.out_row + w.out_col) % 2 else None)
        if mode == "max":
            canvas.outline(w.kept[0], w.kept[1], 1, 1, color, line=4)
        canvas.outline(w.out_row, w.out_col, 1, 1, color, at=canvas.at(1, 2), line=4)
    return canvas.figure(420, top=40)


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
