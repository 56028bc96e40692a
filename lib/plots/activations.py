"""Activation figures: functions and their slopes, softmax bars, Maxout pieces, vanishing
gradients, and a decision boundary as training goes."""
import numpy as np

from lib.i18n import translate
from lib.plots.base import HIGHLIGHT, TEST, TRAIN, Canvas

FUNCTION_COLORS = {"relu": "#2563eb", "sigmoid": "#ea580c", "tanh": "#16a34a", "leaky_relu": "#0891b2",
                   "elu": "#9333ea", "gelu": "#db2777", "swish": "#ca8a04", "softplus": "#475569",
                   "linear": "#94a3b8", "maxout": "#dc2626"}
CLASS_SCALE = [[0.0, TRAIN], [0.5, "#ffffff"], [1.0, TEST]]  # class 0 blue, undecided white, class 1 orange


def functions_figure(curves, x0, lang):
    """f(x) on the left and f'(x) on the right, one colour per function; the chosen x marked."""
    canvas = Canvas(1, 2, (translate("activations.fig.value", lang), translate("activations.fig.slope", lang)),
                    spacing=0.08)
    for name, (x, y, dy) in curves.items():
        color = FUNCTION_COLORS[name]
        k = int(np.argmin(np.abs(x - x0)))
        for col, values in ((1, y), (2, dy)):
            canvas.trace("scatter", col=col, x=np.round(x, 4), y=np.round(values, 4), mode="lines",
                         name=name, legendgroup=name, showlegend=col == 1, line=dict(color=color, width=2.5),
                         hovertemplate=f"{name}(%{{x:.2f}}) = %{{y:.3f}}<extra></extra>")
            canvas.trace("scatter", col=col, x=[float(x[k])], y=[float(values[k])], mode="markers",
                         showlegend=False, hoverinfo="skip", marker=dict(color=color, size=10, line=dict(color="white", width=1)))
    for col in (1, 2):
        x_axis, y_axis = canvas.at(1, col)
        canvas.shapes.append(dict(type="line", xref=x_axis, yref=f"{y_axis} domain", x0=x0, x1=x0, y0=0, y1=1,
                                  line=dict(color=HIGHLIGHT, width=1.5, dash="dot")))
        canvas.axis(x_axis, title=dict(text="x"), zeroline=True, zerolinecolor="#cbd5e1")
        canvas.axis(y_axis, zeroline=True, zerolinecolor="#cbd5e1")
    return canvas.figure(360, top=40, showlegend=True, legend=dict(orientation="h", y=-0.2, x=0))


def softmax_figure(logits, probabilities, true_class, lang):
    """Scores in, probabilities out (they add up to 1); the true class's one-hot answer outlined."""
    classes = [str(k) for k in range(len(logits))]
    canvas = Canvas(1, 2, (translate("activations.fig.logits", lang), translate("activations.fig.probabilities", lang)),
                    spacing=0.1)
    best = int(np.argmax(probabilities))
    canvas.trace("bar", col=1, x=classes, y=np.round(logits, 3).tolist(), marker_color="#94a3b8",
                 hovertemplate="%{x}: %{y:.2f}<extra></extra>")
    colors = [TEST if k == best else TRAIN for k in range(len(logits))]
    canvas.trace("bar", col=2, x=classes, y=np.round(probabilities, 4).tolist(), marker_color=colors,
                 text=[f"{p:.2f}" for p in probabilities], textposition="outside", hovertemplate="%{x}: %{y:.4f}<extra></extra>")
    one_hot = [1.0 if k == true_class else 0.0 for k in range(len(logits))]
    canvas.trace("bar", col=2, x=classes, y=one_hot, marker=dict(color="rgba(0,0,0,0)", line=dict(color="#16a34a", width=2.5)),
                 name=translate("activations.fig.one_hot", lang), hoverinfo="skip")
    canvas.axis("x", title=dict(text=translate("activations.fig.class", lang)))
    canvas.axis("x2", title=dict(text=translate("activations.fig.class", lang)))
    canvas.axis("y2", range=[0, 1.15])
    return canvas.figure(320, top=40, barmode="overlay")


def maxout_figure(pieces, x, lang, *, target=None, fitted=None, epoch=None):
    """Each linear piece (thin), their max (thick): a convex piecewise-linear function. With a
    target (gray) and the fitted Maxout (blue), the same as training goes."""
    canvas = Canvas()
    xs = np.asarray(x).ravel()
    values = np.stack([w * xs + b for w, b in pieces]) if pieces else np.full((1, len(xs)), np.nan)
    for k, (w, b) in enumerate(pieces):
        canvas.trace("scatter", x=xs.tolist(), y=np.round(values[k], 4).tolist(), mode="lines",
                     name=translate("activations.fig.piece", lang, k=k + 1, w=f"{w:.2f}", b=f"{b:+.2f}"),
                     line=dict(color="#94a3b8", width=1.5, dash="dot"))
    if target is not None:
        canvas.trace("scatter", x=xs.tolist(), y=np.round(target, 4).tolist(), mode="lines",
                     name=translate("activations.fig.target", lang), line=dict(color="#475569", width=6), opacity=0.3)
    label = translate("activations.fig.maxout_epoch", lang, epoch=epoch) if epoch is not None \
        else translate("activations.fig.maxout", lang)
    top = values.max(axis=0) if fitted is None else np.asarray(fitted).ravel()
    if np.isfinite(top).any():  # nothing to draw before the first epoch of a training
        canvas.trace("scatter", x=xs.tolist(), y=np.round(top, 4).tolist(), mode="lines", name=label,
                     line=dict(color=FUNCTION_COLORS["maxout"], width=3.5))
    canvas.axis("x", title=dict(text="x"), zeroline=True, zerolinecolor="#cbd5e1")
    canvas.axis("y", range=[-2.5, 4.5], zeroline=True, zerolinecolor="#cbd5e1")
    return canvas.figure(340, top=20, showlegend=True, legend=dict(orientation="h", y=-0.2, x=0))


def gradients_figure(norms, lang):
    """The gradient reaching each hidden layer (1 = next to the input), one line per activation,
    on a log scale: sigmoids pass back a shrinking share at every layer."""
    canvas = Canvas()
    for name, values in norms.items():
        layers = list(range(1, len(values) + 1))
        shown = np.maximum(values, 1e-12)  # a log axis cannot show 0
        canvas.trace("scatter", x=layers, y=shown.tolist(), mode="lines+markers", name=name,
                     line=dict(color=FUNCTION_COLORS[name], width=2.5),
                     hovertemplate=f"{name} · layer %{{x}}: %{{y:.2e}}<extra></extra>")
    canvas.axis("x", title=dict(text=translate("activations.fig.layer", lang)), dtick=1)
    canvas.axis("y", title=dict(text=translate("activations.fig.gradient", lang)), type="log", exponentformat="power")
    return canvas.figure(340, top=20, showlegend=True, legend=dict(orientation="h", y=-0.22, x=0))


def boundary_figure(axis, probabilities, points, labels, lang, *, epoch=None):
    """The network's answer everywhere on the plane (blue: class 0, orange: class 1, white: unsure),
    with the training points on top — the decision boundary, as in TensorFlow Playground."""
    canvas = Canvas()
    if probabilities is not None:
        canvas.trace("heatmap", x=np.round(axis, 3).tolist(), y=np.round(axis, 3).tolist(),
                     z=np.round(np.asarray(probabilities).reshape(len(axis), len(axis)), 3), zmin=0, zmax=1,
                     colorscale=CLASS_SCALE, showscale=False, opacity=0.75, hoverinfo="skip")
    for cls, color in ((0, TRAIN), (1, TEST)):
        chosen = np.asarray(labels) == cls
        canvas.trace("scatter", x=np.round(points[chosen, 0], 3).tolist(), y=np.round(points[chosen, 1], 3).tolist(),
                     mode="markers", name=translate("activations.fig.class_n", lang, n=cls),
                     marker=dict(color=color, size=7, line=dict(color="white", width=1)), hoverinfo="skip")
    canvas.axis("x", range=[axis[0], axis[-1]], visible=False, constrain="domain")
    canvas.axis("y", range=[axis[0], axis[-1]], visible=False, scaleanchor="x", constrain="domain")
    title = translate("activations.fig.boundary", lang, epoch=epoch) if epoch else None
    return canvas.figure(380, title, top=40 if title else 10)
