"""Every figure the app draws, in one visual language (Plotly).

Train is always blue and test/validation orange; images are gray; signed values (feature maps,
kernels) use one red-blue scale centred on zero; layer kinds keep their colours everywhere.
Builders take the numbers and the language and return a `plotly.graph_objects.Figure`.
"""
import unicodedata

import numpy as np
import plotly.graph_objects as go

from lib.i18n import translate

TRAIN, TEST = "#2563eb", "#ea580c"
SIGNED_SCALE = "RdBu_r"  # negative blue, zero white, positive red
GRAY_SCALE = "gray"
FONT = dict(family="Inter, 'Noto Sans KR', 'Malgun Gothic', sans-serif", size=13)
LAYER_COLORS = {
    "Input": "#94a3b8", "Conv2D": "#2563eb", "MaxPooling2D": "#0d9488", "AveragePooling2D": "#0d9488",
    "Flatten": "#64748b", "Dense": "#ea580c", "Dropout": "#a3a3a3", "Activation": "#9333ea",
}


def _layout(fig, height, title=None, *, top=None, **extra):
    top = top if top is not None else (40 if title else 10)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=top, b=10),
                      font=FONT, title=dict(text=title, x=0, xanchor="left") if title else None,
                      paper_bgcolor="white", plot_bgcolor="white", showlegend=False, **extra)
    return fig


def _blank_axes(fig):
    fig.update_xaxes(visible=False, fixedrange=True)
    fig.update_yaxes(visible=False, fixedrange=True)
    return fig


def _box(fig, x0, y0, x1, y1, color, *, fill_alpha=0.12, width=2, dash=None):
    fig.add_shape(type="rect", x0=x0, y0=y0, x1=x1, y1=y1, line=dict(color=color, width=width, dash=dash),
                  fillcolor=_alpha(color, fill_alpha), layer="below")


def _alpha(hex_color, alpha):
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _cells(text):
    """Display width: a Hangul or other wide character takes two cells."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _wrap(text, width):
    """Break a label over lines of at most `width` cells (Plotly does not wrap annotations)."""
    lines, line = [], ""
    for word in text.split():
        if line and _cells(line + " " + word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join(lines + [line])


def _arrow(fig, x0, x1, y, color="#475569"):
    fig.add_annotation(x=x1, y=y, ax=x0, ay=y, xref="x", yref="y", axref="x", ayref="y", text="",
                       showarrow=True, arrowhead=2, arrowsize=1.2, arrowwidth=1.8, arrowcolor=color)


# --- Overview: the seed's "figure needed" ----------------------------------------------------

PIPELINE = (  # (step, colour, sub-steps drawn inside the box)
    ("data", "#64748b", ("train", "test", "labels")),
    ("layers", "#2563eb", ("conv", "pool", "dense")),
    ("compile", "#9333ea", ("loss", "optimizer", "metrics")),
    ("fit", "#ea580c", ("epochs", "batch", "lr")),
    ("evaluate", "#0d9488", ("evaluate", "predict")),
    ("save", "#475569", ("save", "load")),
)


def pipeline_figure(lang):
    """Data -> layers -> compile -> fit -> evaluate/predict -> save/load, each with its parts."""
    fig = go.Figure()
    width, gap = 1.0, 0.3
    for i, (step, color, parts) in enumerate(PIPELINE):
        x0 = i * (width + gap)
        _box(fig, x0, 0, x0 + width, 1, color, fill_alpha=0.08)
        title = _wrap(f"{i + 1}. {translate(f'overview.fig.{step}', lang)}", 12)
        fig.add_annotation(x=x0 + width / 2, y=0.88, text=f"<b>{title}</b>", showarrow=False,
                           font=dict(color=color, size=13))
        for j, part in enumerate(parts):
            y = 0.62 - j * 0.21
            if step == "layers":  # feature extraction (Conv -> Pool) then classification (Dense)
                _box(fig, x0 + 0.08, y - 0.085, x0 + width - 0.08, y + 0.085,
                     LAYER_COLORS[{"conv": "Conv2D", "pool": "MaxPooling2D", "dense": "Dense"}[part]], fill_alpha=0.18, width=1)
            fig.add_annotation(x=x0 + width / 2, y=y, text=_wrap(translate(f"overview.fig.{step}_{part}", lang), 14),
                               showarrow=False, font=dict(size=11.5, color="#1e293b"))
        if i:
            _arrow(fig, x0 - gap + 0.03, x0 - 0.03, 0.5)
    fig.update_xaxes(range=[-0.05, len(PIPELINE) * (width + gap) - gap + 0.05])
    fig.update_yaxes(range=[-0.04, 1.04])
    return _blank_axes(_layout(fig, 280))


# --- Model & layers: the stack, with shapes flowing through it -------------------------------

def model_diagram(infos, input_shape, lang, *, failed=None):
    """The stack as the classic picture: image-shaped outputs as stacked feature maps (size ~
    height x width, one sheet per channel up to 6), flat outputs as a column of units, and
    layers that keep the shape (Activation, Dropout) as thin bars. `failed`: (index, type) of
    the layer Keras refused, drawn in red after the valid part. Hover shows the arithmetic."""
    fig = go.Figure()
    blocks = [("Input", "Input", tuple(input_shape), 0, "")]
    blocks += [(i.type, _layer_caption(i), i.output_shape, i.params, i.formula) for i in infos]
    biggest_side = max([s[0] for _, _, s, _, _ in blocks if len(s) == 3] + [1])
    biggest_flat = max([s[0] for _, _, s, _, _ in blocks if len(s) == 1] + [2])
    step = 1.7
    for k, (kind, caption, shape, params, formula) in enumerate(blocks):
        x, color = k * step, LAYER_COLORS[kind]
        if kind in ("Activation", "Dropout"):
            _box(fig, x - 0.1, -0.9, x + 0.1, 0.9, color, fill_alpha=0.35, width=1.5)
        elif len(shape) == 3:
            _feature_maps(fig, x, shape, biggest_side, color)
        else:
            _unit_column(fig, x, shape[0], biggest_flat, color)
        fig.add_annotation(x=x, y=1.3, text=f"<b>{caption}</b>", showarrow=False, font=dict(color=color, size=12))
        fig.add_annotation(x=x, y=-1.28, text=_shape_caption(shape), showarrow=False, font=dict(size=12))
        if params:
            fig.add_annotation(x=x, y=-1.58, text=translate("model.fig.params", lang, params=f"{params:,}"),
                               showarrow=False, font=dict(size=11, color="#475569"))
        hover = translate("model.fig.hover", lang, shape=_shape_caption(shape), params=f"{params:,}")
        if formula and params:
            hover += f"<br>{formula} = {params:,}"
        fig.add_trace(go.Scatter(x=[x], y=[0], mode="markers", marker=dict(size=60, opacity=0),
                                 hovertemplate=hover + "<extra></extra>"))
        if k:
            _arrow(fig, x - step + 0.62, x - 0.62, 0)
    if failed:
        x = len(blocks) * step
        _box(fig, x - 0.45, -0.6, x + 0.45, 0.6, "#dc2626", fill_alpha=0.12, dash="dash")
        fig.add_annotation(x=x, y=0, text="✕", showarrow=False, font=dict(size=26, color="#dc2626"))
        fig.add_annotation(x=x, y=1.3, text=f"<b>{failed[1]}</b>", showarrow=False, font=dict(color="#dc2626", size=12))
        _arrow(fig, x - step + 0.62, x - 0.5, 0, color="#dc2626")
    n = len(blocks) + bool(failed)
    fig.update_xaxes(range=[-0.85, (n - 1) * step + 0.85])
    fig.update_yaxes(range=[-1.75, 1.45])
    return _blank_axes(_layout(fig, 330, translate("model.fig.title", lang)))


def _feature_maps(fig, x, shape, biggest_side, color):
    """Up to 6 offset sheets, one per channel; the front sheet's size follows height x width."""
    h, w, channels = shape
    sheets = min(channels, 6)
    side = 0.35 + 0.85 * (h / biggest_side) ** 0.5
    half_w, half_h = side * 0.42 * min(w / h, 1.5), side * 0.6
    shift = 0.07
    for j in reversed(range(sheets)):
        dx, dy = (j - (sheets - 1) / 2) * shift, (j - (sheets - 1) / 2) * shift
        _box(fig, x - half_w + dx, -half_h + dy, x + half_w + dx, half_h + dy, color,
             fill_alpha=0.1 + 0.5 * (j == 0), width=1.2)
    if channels > sheets:
        fig.add_annotation(x=x + half_w + sheets * shift / 2 + 0.05, y=half_h + sheets * shift / 2, text="…",
                           showarrow=False, font=dict(color=color, size=12))


def _unit_column(fig, x, units, biggest_flat, color):
    """A column of dots, one per unit up to 9; longer vectors get a ⋮ in the middle."""
    height = 0.35 + 0.6 * np.log10(units) / np.log10(biggest_flat)
    shown = units if units <= 9 else 8
    ys = np.linspace(height, -height, shown) if shown > 1 else np.array([0.0])
    if units > 9:
        ys = np.concatenate([ys[:4] + 0.04, ys[4:] - 0.04])
        fig.add_annotation(x=x, y=0, text="⋮", showarrow=False, font=dict(color=color, size=16))
    _box(fig, x - 0.22, -height - 0.13, x + 0.22, height + 0.13, color, fill_alpha=0.08, width=1.2)
    fig.add_trace(go.Scatter(x=[x] * len(ys), y=ys, mode="markers", hoverinfo="skip",
                             marker=dict(size=9, color=_alpha(color, 0.55), line=dict(color=color, width=1))))


def _layer_caption(info):
    a = info.args
    activation = f", {a['activation']}" if a.get("activation", "linear") != "linear" else ""
    if info.type == "Dense":
        return f"Dense({a['units']}{activation})"
    if info.type == "Conv2D":
        return f"Conv2D({a['filters']}, {a['kernel_size']}×{a['kernel_size']}{activation})"
    if info.type in ("MaxPooling2D", "AveragePooling2D"):
        return f"{info.type[:3]}Pool {a['pool_size']}×{a['pool_size']}"
    if info.type == "Dropout":
        return f"Dropout({a['rate']:g})"
    if info.type == "Activation":
        return a["activation"]
    return info.type


def _shape_caption(shape):
    return "(" + ", ".join(map(str, shape)) + ")"


# --- Data: the seed's analogies ---------------------------------------------------------------

def _strip(images, gap=1):
    """Images side by side in one array, separated by NaN columns (drawn blank)."""
    h, w = images.shape[1:3]
    strip = np.full((h, len(images) * (w + gap) - gap), np.nan, dtype="float32")
    for k, image in enumerate(images):
        strip[:, k * (w + gap):k * (w + gap) + w] = image
    return strip


def image_strip(fig, images, captions, colors, *, row=1, col=1):
    """Gray images in a row with a caption under each (digits: dark ink on white paper)."""
    w = images.shape[2]
    fig.add_trace(go.Heatmap(z=_strip(images), colorscale="Greys", zmin=0, zmax=1, showscale=False,
                             hoverinfo="skip"), row=row, col=col)
    for k, (caption, color) in enumerate(zip(captions, colors)):
        fig.add_annotation(x=k * (w + 1) + (w - 1) / 2, y=images.shape[1] + 0.4, text=f"<b>{caption}</b>",
                           showarrow=False, yanchor="top", font=dict(size=15, color=color), row=row, col=col)
    fig.update_xaxes(visible=False, row=row, col=col)
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor=None, row=row, col=col)


def workbook_figure(train_x, train_y, test_x, test_y, lang):
    """Train set = the workbook, answers printed; test set = the mock exam, answers kept for grading."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.08, subplot_titles=(
        translate("glossary.fig.workbook", lang), translate("glossary.fig.exam", lang)))
    image_strip(fig, train_x, [str(y) for y in train_y], [TRAIN] * len(train_y), col=1)
    image_strip(fig, test_x, ["?"] * len(test_y), [TEST] * len(test_y), col=2)
    return _layout(fig, 200, top=40)
