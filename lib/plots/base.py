"""The visual language every figure shares, and the pieces figures are made of.

Train is always blue and test/validation orange; images are gray; signed values (feature maps,
kernels, differences) use one red-blue scale centred on zero; layer kinds keep their colours.
"""
import functools
import io
import os
import unicodedata

import numpy as np
import plotly.graph_objects as go

# Plotly checks every property of a figure against its schema when the figure is built: with many
# points, most of a nudge's server time (the optimizer map: ~60% of it). The tests build every
# figure with the check on (tests/conftest.py sets this); a running server trusts them.
VALIDATE = os.environ.get("KERAS_CLASSROOM_VALIDATE_FIGURES") == "1"

TRAIN, TEST = "#2563eb", "#ea580c"
HIGHLIGHT = "#f59e0b"
# One colour per item when items are compared (runs, racers, windows): the same order everywhere.
CATEGORICAL = ("#2563eb", "#ea580c", "#16a34a", "#9333ea", "#db2777", "#0891b2", "#ca8a04", "#475569",
               "#dc2626", "#65a30d", "#7c3aed")


def category_color(k):
    """The colour of item k of a comparison."""
    return CATEGORICAL[k % len(CATEGORICAL)]
SIGNED_SCALE = "RdBu_r"  # negative blue, zero white, positive red
GRAY_SCALE = "gray"
FONT = dict(family="Inter, 'Noto Sans KR', 'Malgun Gothic', sans-serif", size=13)
LAYER_COLORS = {
    "Input": "#94a3b8", "Conv2D": "#2563eb", "MaxPooling2D": "#0d9488", "AveragePooling2D": "#0d9488",
    "Flatten": "#64748b", "Dense": "#ea580c", "Dropout": "#a3a3a3", "Activation": "#9333ea",
    "RandomTranslation": "#a3a3a3",
}


def alpha(hex_color, opacity):
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{opacity})"


@functools.lru_cache(maxsize=16)
def _named_scale(name):
    from plotly.colors import get_colorscale

    return tuple(tuple(stop) for stop in get_colorscale(name))  # (Plotly looks a name up in ~1.5 ms)


def scale_colors(name):
    """A colour scale by its Plotly (Python) name, as the list of colours the browser is sent.
    Plotly turns a name into its colours only when it checks a figure, which a running server does
    not (VALIDATE); Plotly.js knows other names — "gray" and "RdBu_r" not at all, "Greys" the other
    way round — and draws a name it does not know in its default red-blue (a gray photo came out
    red and blue, a feature map's zero gray instead of white)."""
    return [list(stop) for stop in _named_scale(name)]


def paint(z, *, signed=False, limit=None, gray=GRAY_SCALE):
    """`z` as an RGB picture (uint8, one more axis of 3) in the colours `Canvas.image` gives it: gray
    from 0 to 1 (or `limit` (low, high); `gray`: the scale's name), or red-blue centred on zero
    (`signed`, ± `limit`, else ± the largest magnitude); NaN white. For pictures drawn without
    Plotly that must read like the charts."""
    z = np.asarray(z, dtype="float64")
    if signed:
        largest = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 0.0
        limit = limit or max(largest, 1e-6)
        low, high, scale = -limit, limit, SIGNED_SCALE
    else:
        (low, high), scale = limit or (0.0, 1.0), gray
    where = np.clip((z - low) / max(high - low, 1e-12), 0.0, 1.0)
    stops = scale_colors(scale)
    at = [position for position, _ in stops]
    rgb = np.array([[float(v) for v in color[color.index("(") + 1:-1].split(",")] for _, color in stops])
    channels = np.stack([np.interp(where, at, rgb[:, k]) for k in range(3)], axis=-1)
    channels[np.isnan(z)] = 255
    return np.round(channels).astype("uint8")


def png(rgb, *, whole=1, frame=None, color=None):
    """An RGB picture (uint8) as PNG bytes, each pixel scaled up to `whole` × `whole` (no blur);
    `frame` (top, left, height, width) in its pixels: a 2-px line of `color` (HIGHLIGHT) just
    outside those cells, which stay as they are."""
    from PIL import Image, ImageDraw

    rgb = np.asarray(rgb)
    if frame is None and (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all():
        rgb = rgb[..., 0]  # gray: one channel, a third of the bytes to compress
    picture = Image.fromarray(rgb.repeat(whole, axis=0).repeat(whole, axis=1))
    if frame is not None:
        top, left, height, width = frame
        box = [left * whole - 2, top * whole - 2, (left + width) * whole + 1, (top + height) * whole + 1]
        ImageDraw.Draw(picture).rectangle(box, outline=color or HIGHLIGHT, width=2)
    return png_of(picture)


def png_of(picture):
    """A PIL picture as PNG bytes, compressed lightly: it is drawn again at the next nudge."""
    buffer = io.BytesIO()
    picture.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def cells(text):
    """Display width: a Hangul or other wide character takes two cells."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def wrap(text, width):
    """Break a label over lines of at most `width` cells (Plotly does not wrap annotations)."""
    lines, line = [], ""
    for word in text.split():
        if line and cells(line + " " + word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join(lines + [line])


def pair_height(picture, *, top=40, per_image=290, low=220, high=440):
    """A figure height that fits two images side by side: a wide photo gets a short figure, a
    square digit a taller one (about 290 px of width per image in the page's wide column)."""
    h, w = np.shape(picture)[:2]
    return int(min(max(top + per_image * h / w, low), high))


def size(array):
    """'85×128' for an array of that shape."""
    return "×".join(map(str, np.shape(array)))


def unit_domain(start, end):
    """An axis domain inside [0, 1]: sums of fractions can land a hair outside it (-5.5e-17),
    which Plotly refuses."""
    return [min(max(round(start, 9), 0.0), 1.0), min(max(round(end, 9), 0.0), 1.0)]


class Canvas:
    """A figure put together from plain dicts — traces, axes, shapes, annotations — and checked
    by Plotly once, when `figure()` builds it.

    Building the same figure step by step (make_subplots, add_shape, update_layout) took 21 ms;
    from one dict it takes 1 ms. Plotly re-validates the whole layout at every step, which is
    the difference between a slider the picture follows and one it lags behind.
    """

    def __init__(self, rows=1, cols=1, titles=(), *, spacing=0.06, vspacing=0.12):
        self.rows, self.cols = rows, cols
        self.data, self.shapes, self.notes, self.axes, self.pictures = [], [], [], {}, []
        width = (1 - spacing * (cols - 1)) / cols
        height = (1 - vspacing * (rows - 1)) / rows
        for row in range(1, rows + 1):
            for col in range(1, cols + 1):
                x, y = self.at(row, col)
                left, top = (col - 1) * (width + spacing), 1 - (row - 1) * (height + vspacing)
                self.axes[x] = dict(domain=unit_domain(left, left + width), anchor=y)
                self.axes[y] = dict(domain=unit_domain(top - height, top), anchor=x)
                title = titles[(row - 1) * cols + col - 1] if len(titles) >= (row - 1) * cols + col else ""
                if title and (rows > 1 or cols > 1):
                    self.notes.append(dict(text=title, x=left + width / 2, y=top, xref="paper", yref="paper",
                                           xanchor="center", yanchor="bottom", showarrow=False, font=dict(size=14)))

    def at(self, row=1, col=1):
        """The axes ('x3', 'y3') of cell (row, col)."""
        n = (row - 1) * self.cols + col
        return ("x", "y") if n == 1 else (f"x{n}", f"y{n}")

    def axis(self, name, **props):
        """Set properties of an axis ('x', 'y2', ...)."""
        self.axes.setdefault(name, {}).update(props)

    def hide_axes(self):
        for props in self.axes.values():
            props.update(visible=False, fixedrange=True)

    def trace(self, kind, row=1, col=1, **props):
        """Add a trace (kind: 'heatmap', 'scatter', 'bar', ...) to cell (row, col); a colour scale
        named ("gray", "RdBu_r") goes as its colours (`scale_colors`)."""
        x, y = self.at(row, col)
        if isinstance(props.get("colorscale"), str):
            props["colorscale"] = scale_colors(props["colorscale"])
        self.data.append(dict(type=kind, xaxis=x, yaxis=y, **props))

    def image(self, z, *, row=1, col=1, signed=False, limit=None, numbers=None, colorbar=None,
              hover="%{z:.3f}", gray="gray"):
        """An image as a heatmap: square pixels, row 0 on top; gray from 0 to 1 (or `limit`
        (low, high)), or red-blue centred on zero (`signed`, ± `limit`). `numbers` writes each
        cell's value on it (a Plotly texttemplate, for small grids)."""
        z = np.asarray(z, dtype="float64")
        if signed:
            limit = limit or max(float(np.nanmax(np.abs(z))) if z.size else 0.0, 1e-6)
            scale = dict(colorscale=SIGNED_SCALE, zmin=-limit, zmax=limit, zmid=0)
        else:
            low, high = (0.0, 1.0) if limit is None else limit
            scale = dict(colorscale=gray, zmin=low, zmax=high)
        extra = dict(texttemplate=numbers, textfont=dict(size=12)) if numbers else {}
        self.trace("heatmap", row, col, z=np.round(z, 4), showscale=colorbar is not None, colorbar=colorbar,
                   hovertemplate="(%{y}, %{x}): " + hover + "<extra></extra>", **scale, **extra)
        x, y = self.at(row, col)
        self.axis(x, visible=False, constrain="domain")
        self.axis(y, visible=False, autorange="reversed", scaleanchor=x, constrain="domain")

    def box(self, x0, y0, x1, y1, color, *, fill=0.12, width=2, dash=None, at=("x", "y")):
        """A filled rectangle in data coordinates, drawn under the traces."""
        self.shapes.append(dict(type="rect", xref=at[0], yref=at[1], x0=x0, y0=y0, x1=x1, y1=y1, layer="below",
                                line=dict(color=color, width=width, dash=dash), fillcolor=alpha(color, fill)))

    def text(self, x, y, text, *, at=("x", "y"), **style):
        self.notes.append(dict(x=x, y=y, xref=at[0], yref=at[1], text=text, showarrow=False, **style))

    def arrow(self, x0, x1, y, color="#475569"):
        self.notes.append(dict(x=x1, y=y, ax=x0, ay=y, xref="x", yref="y", axref="x", ayref="y", text="",
                               showarrow=True, arrowhead=2, arrowsize=1.2, arrowwidth=1.8, arrowcolor=color))

    def figure(self, height, title=None, *, top=None, frames=None, **layout):
        """The Plotly figure, checked once: size, margins, font, a left-aligned title, no legend;
        `frames` (plain dicts) animate it in the browser."""
        top = top if top is not None else (40 if title else 10)
        spec = dict(height=height, margin=dict(l=10, r=10, t=top, b=10), font=FONT, paper_bgcolor="white",
                    plot_bgcolor="white", showlegend=False, shapes=self.shapes, annotations=self.notes)
        if title:
            spec["title"] = dict(text=title, x=0, xanchor="left")
        if self.pictures:
            spec["images"] = self.pictures
        for name, props in self.axes.items():
            spec[name.replace("x", "xaxis", 1) if name[0] == "x" else name.replace("y", "yaxis", 1)] = props
        spec.update(layout)
        if frames and not VALIDATE:
            return _AnimatedFigure(dict(data=self.data, layout=spec), frames)
        return go.Figure(dict(data=self.data, layout=spec, frames=frames or []), _validate=VALIDATE)


class _AnimatedFigure(go.Figure):
    """A figure whose animation frames stay the plain dicts they were made as, added to what it
    sends (`to_dict`, which st.plotly_chart reads): Plotly checks and copies every frame's traces
    even when told not to check the figure (the optimizer race's 25 frames, when each held every path
    up to its step, cost ~80 ms of a nudge).
    The tests build the same frames into a checked go.Figure (VALIDATE)."""

    def __init__(self, spec, frames):
        super().__init__(spec, _validate=False)
        self._plain_frames = frames

    def to_dict(self):
        return {**super().to_dict(), "frames": self._plain_frames}


def tiles(images, across, gap=1):
    """Equal images in rows of `across` in one array, NaN (drawn blank) `gap` cells between them:
    one heatmap instead of a subplot each. Returns (array, each image's top-left (row, column))."""
    images = np.asarray(images, dtype="float64")
    n, h, w = images.shape[:3]
    rows = -(-n // across)
    tiled = np.full((rows * (h + gap) - gap, min(n, across) * (w + gap) - gap), np.nan)
    corners = [((k // across) * (h + gap), (k % across) * (w + gap)) for k in range(n)]
    for picture, (top, left) in zip(images, corners):
        tiled[top:top + h, left:left + w] = picture
    return tiled, corners


def image_grid(images, titles, *, cols=4, signed=True, height_per_row=200, numbers=None):
    """Small images in a grid (feature maps of a filter bank, learned kernels). `signed` (one flag,
    or one per image): signed images share one red-blue scale, so they compare; gray ones (inputs)
    are drawn from 0 to 1."""
    images = [np.asarray(i) for i in images]
    signed = list(signed) if isinstance(signed, (list, tuple)) else [signed] * len(images)
    rows = max(1, -(-len(images) // cols))
    canvas = Canvas(rows, cols, list(titles), spacing=0.03)
    shared = max([float(np.abs(i).max()) for i, s in zip(images, signed) if s] + [1e-6])
    for k, picture in enumerate(images):
        canvas.image(picture, row=k // cols + 1, col=k % cols + 1, signed=signed[k],
                     limit=shared if signed[k] else None, numbers=numbers)
    canvas.hide_axes()
    for note in canvas.notes:
        note["font"] = dict(size=12)
    return canvas.figure(height_per_row * rows + 30, top=30)
