"""Optimizer figures: paths on a picture of the landscape (animated in the browser), the
learning-rate trio, and a race of optimizers on real data."""
import base64
import io

import numpy as np

from lib.i18n import translate
from lib.plots.base import Canvas, category_color

MARKERS = 60  # step dots drawn per path: each is an SVG node the browser restyles on every redraw
FRAMES = 25  # animation frames: the browser plays them, the server is not asked again
LANDSCAPE_SCALE = [[0.0, "#bfdbfe"], [0.35, "#e0f2fe"], [1.0, "#ffffff"]]  # the valley floor blue, the heights white
BANDS = 24  # heights between the lowest and the highest point of the map, one shade each
BAND_LINE = (0x94, 0xa3, 0xb8)  # the line between two bands
PICTURE_PIXELS = 400  # the landscape's picture: about the plot's size on a laptop


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


def landscape_rgb(landscape, log_levels=False, *, pixels=PICTURE_PIXELS):
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


def landscape_picture(landscape, log_levels=False, *, pixels=PICTURE_PIXELS):
    """The landscape (`landscape_rgb`) as a PNG data URI. The browser decodes a picture once and
    stretches it under the paths; a contour trace it traced anew on every nudge (on the Optimizers
    page, more of a nudge than the paths)."""
    from PIL import Image

    picture = Image.fromarray(landscape_rgb(landscape, log_levels, pixels=pixels)).quantize(64)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


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
        buffer = io.BytesIO()
        picture.save(buffer, "PNG", compress_level=1)
        pictures.append(buffer.getvalue())
    return pictures, [label for label, _, _ in trio]


def _star(x, y, r):
    """A five-pointed star's corners around (x, y), `r` its outer radius."""
    angles = np.pi / 2 + np.arange(10) * np.pi / 5
    radii = np.where(np.arange(10) % 2 == 0, r, r * 0.45)
    return [(float(x + q * np.cos(a)), float(y - q * np.sin(a))) for q, a in zip(radii, angles)]


def _backdrop(canvas, surface, landscape, at=(1, 1)):
    """The landscape under cell `at`: its picture, or a grid (xs, ys, z) made into one."""
    picture = landscape if isinstance(landscape, str) else landscape_picture(landscape, surface.log_levels)
    canvas.backdrop(picture, surface.x_range, surface.y_range, *at)


def race_figure(surface, landscape, paths, lang, *, height=520):
    """The landscape (a grid (xs, ys, z) or its `landscape_picture`), every optimizer's path from
    the same start, the minima as stars; a Play button and a step slider move a ball along each
    path in the browser, all at the same step."""
    canvas = Canvas()
    _backdrop(canvas, surface, landscape)
    frame = (surface.x_range, surface.y_range)
    shown = []
    for k, (label, path) in enumerate(paths):
        color = category_color(k)
        visible, left = _visible(path, frame)
        shown.append(np.round(visible, 3))
        canvas.trace("scatter", x=shown[-1][:, 0], y=shown[-1][:, 1],
                     mode="lines+markers", name=label + (" ✕" if left else ""), line=dict(color=color, width=2.5),
                     marker=dict(size=3, maxdisplayed=MARKERS), hovertemplate=f"{label}<br>(%{{x:.3f}}, %{{y:.3f}})<extra></extra>")
    balls = len(canvas.data)  # the first ball's trace: one a path, under the stars and the start
    for k, path in enumerate(shown):
        canvas.trace("scatter", x=path[-1:, 0], y=path[-1:, 1], mode="markers", showlegend=False, hoverinfo="skip",
                     marker=dict(size=10, color=category_color(k), line=dict(color="white", width=1.5)))
    if surface.minima:
        canvas.trace("scatter", x=[m[0] for m in surface.minima], y=[m[1] for m in surface.minima], mode="markers",
                     name=translate("optimizers.fig.minimum", lang),
                     marker=dict(symbol="star", size=16, color="#facc15", line=dict(color="#713f12", width=1)))
    start = paths[0][1][0] if paths else surface.start
    canvas.trace("scatter", x=[float(start[0])], y=[float(start[1])], mode="markers",
                 name=translate("optimizers.fig.start", lang), marker=dict(symbol="circle-open", size=14, color="#0f172a",
                                                                           line=dict(width=3)))
    plain = dict(constrain="domain", showgrid=False, zeroline=False)  # no grid over the landscape's lines
    canvas.axis("x", range=list(surface.x_range), title=dict(text="x"), **plain)
    canvas.axis("y", range=list(surface.y_range), title=dict(text="y"), scaleanchor="x", **plain)
    animation = _animation(shown, balls, lang)
    # Margins fixed by hand, wide enough for the axis titles, the legend and the Play bar: letting
    # Plotly grow them to fit ("autoexpand") redraws the whole figure a second time on every update.
    margin = dict(l=55, r=210, t=20, b=120 if animation else 50, autoexpand=False)
    return canvas.figure(height, top=20, showlegend=True, legend=dict(orientation="v", x=1.02, y=1),
                         margin=margin, **animation)


def _animation(shown, first, lang):
    """Frames that put every path's ball (traces `first`, `first` + 1, ...) at the same step, with
    Play and a step slider. A frame moves the balls only (one point each), not the paths: frames
    that grew every path step by step sent each path FRAMES times over (two thirds of the figure)
    for the browser to read on every nudge."""
    longest = max((len(p) for p in shown), default=1)
    if longest < 3:
        return {}
    steps = sorted(set(np.linspace(0, longest - 1, FRAMES).astype(int)))
    frames = [dict(name=str(s), traces=list(range(first, first + len(shown))), data=[_ball(p, s) for p in shown])
              for s in steps]
    play = translate("optimizers.fig.play", lang)
    return dict(
        frames=frames,
        updatemenus=[dict(type="buttons", x=0, y=-0.12, xanchor="left", yanchor="top", showactive=False, buttons=[
            dict(label=f"▶ {play}", method="animate",
                 args=[None, dict(frame=dict(duration=80, redraw=False), transition=dict(duration=0), fromcurrent=False)])])],
        sliders=[dict(x=0.16, y=-0.08, len=0.8, pad=dict(t=10), active=len(steps) - 1,
                      currentvalue=dict(prefix=translate("optimizers.fig.step", lang) + " ", xanchor="right", font=dict(size=12)),
                      steps=[dict(label=str(s), method="animate",
                                  args=[[str(s)], dict(mode="immediate", frame=dict(duration=0, redraw=False))])
                             for s in steps])])


def _ball(path, step):
    """Where a ball is at `step`: the path's point then, or its last one (a path that left the map)."""
    at = min(step, len(path) - 1)
    return dict(type="scatter", x=path[at:at + 1, 0], y=path[at:at + 1, 1])


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
