"""Optimizer pictures and figures: the racers' paths on a picture of the landscape (and played as
an animation when asked), the learning-rate trio, and a race of optimizers on real data."""
import html
import io

import numpy as np

from lib.i18n import translate
from lib.plots.base import CATEGORICAL, Canvas, category_color, png_of

MARKERS = 60  # step dots drawn per path
FRAMES = 25  # Play's frames: the steps at which every ball is shown, the first to the longest path's last
LANDSCAPE_SCALE = [[0.0, "#bfdbfe"], [0.35, "#e0f2fe"], [1.0, "#ffffff"]]  # the valley floor blue, the heights white
BANDS = 24  # heights between the lowest and the highest point of the map, one shade each
BAND_LINE = (0x94, 0xa3, 0xb8)  # the line between two bands
RACE_PIXELS = 520  # a side of the race's map: about the chart it replaced, on a laptop


def _visible(path, frame):
    """The part of a path to draw: up to its first step outside the frame (or not a number)."""
    (x0, x1), (y0, y1) = frame
    ok = np.isfinite(path).all(axis=1) & (path[:, 0] >= x0) & (path[:, 0] <= x1) & (path[:, 1] >= y0) & (path[:, 1] <= y1)
    stop = int(np.argmin(ok)) if not ok.all() else len(path)
    return path[:max(stop, 1)], stop < len(path)


def _scale_colors(t):
    """LANDSCAPE_SCALE's colour at each t in [0, 1], as RGB."""
    stops = np.array([at for at, _ in LANDSCAPE_SCALE])
    rgb = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for _, c in LANDSCAPE_SCALE], dtype="float64")
    return np.stack([np.interp(t, stops, rgb[:, k]) for k in range(3)], axis=-1)


def landscape_rgb(landscape, log_levels=False, *, pixels=RACE_PIXELS):
    """The landscape as an RGB picture (uint8, `pixels` × `pixels`, its top row the highest y): its
    heights in BANDS shades (on a log scale with `log_levels`) and a line where one band meets the
    next — a contour map as a picture. A landscape grid finer than `pixels` (two points a pixel)
    smooths the lines when shrunk."""
    from PIL import Image

    _, _, z = landscape
    shown = np.log10(z - z.min() + 1e-3) if log_levels else np.asarray(z, dtype="float64")
    low, high = float(shown.min()), float(shown.max())
    band = np.clip(np.floor((shown - low) / max(high - low, 1e-12) * BANDS), 0, BANDS - 1).astype(int)
    rgb = _scale_colors((band + 0.5) / BANDS)
    edge = np.zeros(band.shape, dtype=bool)
    edge[:, 1:] |= band[:, 1:] != band[:, :-1]
    edge[1:, :] |= band[1:, :] != band[:-1, :]
    rgb[edge] = BAND_LINE
    picture = Image.fromarray(np.round(rgb[::-1]).astype("uint8"))  # row 0 of z is the lowest y: the bottom
    return np.asarray(picture.resize((pixels, pixels), Image.Resampling.BOX))


def trio_pictures(surface, background, trio):
    """One optimizer at three learning rates, side by side — too small, chosen, too large — as PNG
    pictures of its path on the landscape (`background`: its `landscape_rgb`), a dot a step (at most
    MARKERS), the minima as stars, a path that left the map ended by a red ✕; `trio`: (label, path, colour) each. Returns
    (pictures, labels). Pictures, not a chart: the trio changes at every nudge of the rate or the
    steps, and a changed chart is drawn anew (~30 ms of the browser's main thread a nudge)."""
    from PIL import Image, ImageDraw

    (x0, x1), (y0, y1) = surface.x_range, surface.y_range
    side = len(background)

    def at(x, y):  # a point of the surface -> a pixel of the picture
        return (x - x0) / (x1 - x0) * (side - 1), (y1 - y) / (y1 - y0) * (side - 1)

    pictures = []
    for _, path, color in trio:
        picture = Image.fromarray(np.asarray(background, dtype="uint8").copy())
        draw = ImageDraw.Draw(picture)
        visible, left = _visible(path, (surface.x_range, surface.y_range))
        points = [at(x, y) for x, y in visible]
        if len(points) > 1:
            draw.line(points, fill=color, width=3, joint="curve")
        for x, y in points[::max(1, len(points) // MARKERS)]:  # the steps' dots: how far each step went
            draw.ellipse([x - 2.5, y - 2.5, x + 2.5, y + 2.5], fill=color)
        for m in surface.minima:
            draw.polygon(_star(*at(*m), 9), fill="#facc15", outline="#713f12")
        if left:
            (x, y), r = points[-1], 7
            draw.line([(x - r, y - r), (x + r, y + r)], fill="#dc2626", width=3)
            draw.line([(x - r, y + r), (x + r, y - r)], fill="#dc2626", width=3)
        pictures.append(png_of(picture))
    return pictures, [label for label, _, _ in trio]


MARGIN = (40, 10, 14, 26)  # the race picture's white strips left, above, right and under the map: the axes' numbers
BALL, RING = 6, 8  # radii of a racer's ball and of the start's ring, pixels
RED, STAR, STAR_EDGE, INK = "#dc2626", "#facc15", "#713f12", "#0f172a"


def race_backdrop(landscape_rgb_picture, surface):
    """The race's picture before any racer: the landscape (its `landscape_rgb`) in 64 colours plus
    the racers' and the marks' own, with the axes' numbers in a white margin — a palette picture,
    so that each of Play's frames is drawn on a copy without choosing colours again. Made once a
    surface (the page keeps it)."""
    from PIL import Image, ImageDraw, ImageFont

    landscape = Image.fromarray(np.asarray(landscape_rgb_picture, dtype="uint8")).quantize(64)
    shades = landscape.getpalette()[:64 * 3]
    exact = ["#ffffff", INK, RED, STAR, STAR_EDGE, *CATEGORICAL]  # from entry 64 on, whatever the map's shades
    palette = shades + [255] * (64 * 3 - len(shades)) + [int(c[i:i + 2], 16) for c in exact for i in (1, 3, 5)]
    side, (left, top, right, bottom) = landscape.width, MARGIN
    picture = Image.new("P", (left + side + right, top + side + bottom), 64)  # 64: white
    picture.putpalette(palette)
    picture.paste(landscape, (left, top))
    draw, font = ImageDraw.Draw(picture), ImageFont.load_default(size=13)
    for axis, (low, high) in (("x", surface.x_range), ("y", surface.y_range)):
        for value in _ticks(low, high):
            x, y = _to_pixel(surface, side, value if axis == "x" else low, value if axis == "y" else low)
            if axis == "x":
                draw.line([(x, top + side), (x, top + side + 4)], fill=_index(palette, INK))
                draw.text((x, top + side + 7), f"{value:g}", fill=_index(palette, INK), font=font, anchor="mt")
            else:
                draw.line([(left - 4, y), (left, y)], fill=_index(palette, INK))
                draw.text((left - 7, y), f"{value:g}", fill=_index(palette, INK), font=font, anchor="rm")
    return picture


def _index(palette, color):
    """The palette's entry for `color` (one of the exact colours `race_backdrop` added)."""
    rgb = [int(color[i:i + 2], 16) for i in (1, 3, 5)]
    for k in range(64, len(palette) // 3):
        if palette[3 * k:3 * k + 3] == rgb:
            return k
    raise ValueError(f"{color} is not one of the race's colours")


def _ticks(low, high):
    """About five round numbers from `low` to `high` (1, 2 or 5 times a power of ten apart)."""
    rough = (high - low) / 5
    power = 10.0 ** np.floor(np.log10(rough))
    step = power * min(f for f in (1, 2, 5, 10) if f * power >= rough)
    return [float(round(v, 10)) for v in np.arange(np.ceil(low / step) * step, high + step / 1e6, step)]


def _to_pixel(surface, side, x, y):
    """A point of the surface -> a pixel of the race's picture (the map inside its margins)."""
    (x0, x1), (y0, y1) = surface.x_range, surface.y_range
    return MARGIN[0] + (x - x0) / (x1 - x0) * (side - 1), MARGIN[1] + (y1 - y) / (y1 - y0) * (side - 1)


def race_picture(surface, backdrop, paths):
    """The race as a PNG: every optimizer's path (`paths`: (label, path) each, coloured
    `category_color(k)` in order) on its `race_backdrop`, a dot a step (at most MARKERS), its ball
    where it ended, a path that left the map ended by a red ✕, the minima as stars, the start as a
    ring. A picture, not a chart: Streamlit draws a changed chart anew, and the animated chart this
    replaced cost ~85 ms of Chromium's main thread a nudge (its frames, dots, legend and play bar)."""
    return png_of(_with_balls(*_race_still(surface, backdrop, paths), None))


def race_animation(surface, backdrop, paths, *, tag=0):
    """Play: the race as a GIF that plays once — every ball stepping along its own path, all at the
    same step (FRAMES steps from the first to the longest path's last, 80 ms each) — and stops where
    `race_picture` is. Drawn only when asked: the frames cost nothing at a nudge. `tag` is written
    into the file, so that Play pressed again is a new picture, which the browser plays from its start."""
    still, shown = _race_still(surface, backdrop, paths)
    longest = max((len(points) for points, _ in shown), default=1)
    steps = sorted(set(np.linspace(0, longest - 1, FRAMES).astype(int)))
    frames = [_with_balls(still, shown, step) for step in steps]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=80, comment=f"play {tag}")
    return buffer.getvalue()


def race_legend(labels, lang):
    """Who is who on the race's picture, as HTML: each racer's colour before its name (`labels` in
    the paths' order), then the minimum's star and the start's ring."""
    def item(mark, text):
        return f'<span style="white-space:nowrap;margin-right:16px">{mark}{html.escape(text)}</span>'
    line = ('<span style="display:inline-block;width:20px;height:4px;margin-right:6px;vertical-align:middle;'
            'background:{}"></span>')
    items = [item(line.format(category_color(k)), label) for k, label in enumerate(labels)]
    items += [item(f'<span style="color:{STAR};-webkit-text-stroke:0.6px {STAR_EDGE};margin-right:4px">★</span>',
                   translate("optimizers.fig.minimum", lang)),
              item(f'<span style="color:{INK};font-weight:700;margin-right:4px">◯</span>',
                   translate("optimizers.fig.start", lang))]
    return f'<div style="font-size:14px;line-height:1.9">{"".join(items)}</div>'


def _race_still(surface, backdrop, paths):
    """(the backdrop with every path, dot, ✕ and star and the start drawn, each path's (pixels,
    colour index))."""
    from PIL import ImageDraw

    picture = backdrop.copy()
    draw, palette, side = ImageDraw.Draw(picture), picture.getpalette(), picture.height - MARGIN[1] - MARGIN[3]
    red, star, star_edge, ink = (_index(palette, c) for c in (RED, STAR, STAR_EDGE, INK))
    shown = []
    for k, (_, path) in enumerate(paths):
        visible, left = _visible(path, (surface.x_range, surface.y_range))
        points, color = [_to_pixel(surface, side, x, y) for x, y in visible], _index(palette, category_color(k))
        shown.append((points, color))
        if len(points) > 1:
            draw.line(points, fill=color, width=3, joint="curve")
        for x, y in points[::max(1, len(points) // MARKERS)]:  # the steps' dots: how far each step went
            draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=color)
        if left:
            (x, y), r = points[-1], 7
            draw.line([(x - r, y - r), (x + r, y + r)], fill=red, width=3)
            draw.line([(x - r, y + r), (x + r, y - r)], fill=red, width=3)
    for m in surface.minima:
        draw.polygon(_star(*_to_pixel(surface, side, *m), 11), fill=star, outline=star_edge)
    start = paths[0][1][0] if paths else surface.start
    x, y = _to_pixel(surface, side, float(start[0]), float(start[1]))
    draw.ellipse([x - RING, y - RING, x + RING, y + RING], outline=ink, width=3)
    return picture, shown


def _with_balls(still, shown, step):
    """A copy of the race's `still` with each path's ball at `step` (None: where the path ended)."""
    from PIL import ImageDraw

    picture = still.copy()
    draw, white = ImageDraw.Draw(picture), _index(picture.getpalette(), "#ffffff")
    for points, color in shown:
        x, y = points[-1] if step is None else points[min(step, len(points) - 1)]
        draw.ellipse([x - BALL, y - BALL, x + BALL, y + BALL], fill=color, outline=white, width=2)
    return picture


def _star(x, y, r):
    """A five-pointed star's corners around (x, y), `r` its outer radius."""
    angles = np.pi / 2 + np.arange(10) * np.pi / 5
    radii = np.where(np.arange(10) % 2 == 0, r, r * 0.45)
    return [(float(x + q * np.cos(a)), float(y - q * np.sin(a))) for q, a in zip(radii, angles)]


def data_race_figure(histories, lang, *, epochs):
    """Training loss and validation accuracy per epoch, one colour per optimizer, same start."""
    canvas = Canvas(1, 2, (translate("training.fig.loss", lang), translate("optimizers.fig.val_accuracy", lang)),
                    spacing=0.1)
    for k, (label, history) in enumerate(histories):
        color = category_color(k)
        for col, key in ((1, "loss"), (2, "val_accuracy")):
            values = history.get(key, [])
            canvas.trace("scatter", col=col, x=list(range(1, len(values) + 1)), y=list(values), mode="lines+markers",
                         name=label, legendgroup=label, showlegend=col == 1, line=dict(color=color, width=2.5),
                         marker=dict(size=5), hovertemplate=f"{label}<br>epoch %{{x}}: %{{y:.4f}}<extra></extra>")
    for col in (1, 2):
        x, _ = canvas.at(1, col)
        canvas.axis(x, title=dict(text="epoch"), range=[0.5, epochs + 0.5])
    canvas.axis("y2", range=[0, 1.02])
    return canvas.figure(340, top=40, showlegend=True, legend=dict(orientation="h", y=-0.22, x=0))
