"""The Model & layers figure: the stack, with the shape of the data after each layer."""
import numpy as np

from lib.i18n import translate
from lib.plots.base import LAYER_COLORS, Canvas, alpha


def model_diagram(infos, input_shape, lang, *, failed=None):
    """The stack as the classic picture: image-shaped outputs as stacked feature maps (size ~
    height x width, one sheet per channel up to 6), flat outputs as a column of units, and
    layers that keep the shape (Activation, Dropout) as thin bars. `failed`: (index, type) of
    the layer Keras refused, drawn in red after the valid part. Hover shows the arithmetic."""
    canvas = Canvas()
    blocks = [("Input", "Input", tuple(input_shape), 0, "")]
    blocks += [(i.type, _layer_caption(i), i.output_shape, i.params, i.formula) for i in infos]
    biggest_side = max([s[0] for _, _, s, _, _ in blocks if len(s) == 3] + [1])
    biggest_flat = max([s[0] for _, _, s, _, _ in blocks if len(s) == 1] + [2])
    step = 1.7
    for k, (kind, caption, shape, params, formula) in enumerate(blocks):
        x, color = k * step, LAYER_COLORS[kind]
        if kind in ("Activation", "Dropout", "RandomTranslation"):
            canvas.box(x - 0.1, -0.9, x + 0.1, 0.9, color, fill=0.35, width=1.5)
        elif len(shape) == 3:
            _feature_maps(canvas, x, shape, biggest_side, color)
        else:
            _unit_column(canvas, x, shape[0], biggest_flat, color)
        canvas.text(x, 1.3, f"<b>{caption}</b>", font=dict(color=color, size=12))
        canvas.text(x, -1.28, _shape_caption(shape), font=dict(size=12))
        if params:
            canvas.text(x, -1.58, translate("model.fig.params", lang, params=f"{params:,}"),
                       font=dict(size=11, color="#475569"))
        hover = translate("model.fig.hover", lang, shape=_shape_caption(shape), params=f"{params:,}")
        if formula and params:
            hover += f"<br>{formula} = {params:,}"
        canvas.trace("scatter", x=[x], y=[0], mode="markers", marker=dict(size=60, opacity=0),
                     hovertemplate=hover + "<extra></extra>")
        if k:
            canvas.arrow(x - step + 0.62, x - 0.62, 0)
    if failed:
        x = len(blocks) * step
        canvas.box(x - 0.45, -0.6, x + 0.45, 0.6, "#dc2626", fill=0.12, dash="dash")
        canvas.text(x, 0, "✕", font=dict(size=26, color="#dc2626"))
        canvas.text(x, 1.3, f"<b>{failed[1]}</b>", font=dict(color="#dc2626", size=12))
        canvas.arrow(x - step + 0.62, x - 0.5, 0, color="#dc2626")
    n = len(blocks) + bool(failed)
    canvas.axis("x", range=[-0.85, (n - 1) * step + 0.85])
    canvas.axis("y", range=[-1.75, 1.45])
    canvas.hide_axes()
    return canvas.figure(330, translate("model.fig.title", lang))


def _feature_maps(canvas, x, shape, biggest_side, color):
    """Up to 6 offset sheets, one per channel; the front sheet's size follows height x width."""
    h, w, channels = shape
    sheets = min(channels, 6)
    side = 0.35 + 0.85 * (h / biggest_side) ** 0.5
    half_w, half_h = side * 0.42 * min(w / h, 1.5), side * 0.6
    shift = 0.07
    for j in reversed(range(sheets)):
        d = (j - (sheets - 1) / 2) * shift
        canvas.box(x - half_w + d, -half_h + d, x + half_w + d, half_h + d, color, fill=0.1 + 0.5 * (j == 0), width=1.2)
    if channels > sheets:
        canvas.text(x + half_w + sheets * shift / 2 + 0.05, half_h + sheets * shift / 2, "…", font=dict(color=color, size=12))


def _unit_column(canvas, x, units, biggest_flat, color):
    """A column of dots, one per unit up to 9; longer vectors get a ⋮ in the middle."""
    height = 0.35 + 0.6 * np.log10(units) / np.log10(biggest_flat)
    shown = units if units <= 9 else 8
    ys = np.linspace(height, -height, shown) if shown > 1 else np.array([0.0])
    if units > 9:
        ys = np.concatenate([ys[:4] + 0.04, ys[4:] - 0.04])
        canvas.text(x, 0, "⋮", font=dict(color=color, size=16))
    canvas.box(x - 0.22, -height - 0.13, x + 0.22, height + 0.13, color, fill=0.08, width=1.2)
    canvas.trace("scatter", x=[x] * len(ys), y=ys.tolist(), mode="markers", hoverinfo="skip",
                 marker=dict(size=9, color=alpha(color, 0.55), line=dict(color=color, width=1)))


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
    if info.type == "RandomTranslation":
        return f"shift ±{a['factor']:g}"
    if info.type == "Activation":
        return a["activation"]
    return info.type


def _shape_caption(shape):
    return "(" + ", ".join(map(str, shape)) + ")"
