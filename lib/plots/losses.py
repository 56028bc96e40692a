"""Loss figures: a line through points with each point's share of the loss, how much a confident
wrong answer costs, and two models trained with two losses."""
import numpy as np

from lib.i18n import translate
from lib.plots.base import HIGHLIGHT, TEST, TRAIN, Canvas

LOSS_COLORS = {"mse": "#2563eb", "mae": "#ea580c", "huber": "#16a34a", "binary_crossentropy": "#9333ea",
               "categorical_crossentropy": "#db2777"}


def regression_figure(x, y, slope, intercept, shares, lang):
    """Left: the points, the line y = slope·x + intercept, and each point's error as a segment.
    Right: each point's share of MSE, MAE and Huber — squares make a far point count far more."""
    x, y = np.asarray(x).ravel(), np.asarray(y).ravel()
    prediction = slope * x + intercept
    canvas = Canvas(1, 2, (translate("losses.fig.line", lang), translate("losses.fig.shares", lang)), spacing=0.1)
    for xi, yi, pi in zip(x, y, prediction):
        canvas.shapes.append(dict(type="line", xref="x", yref="y", x0=float(xi), x1=float(xi), y0=float(yi),
                                  y1=float(pi), line=dict(color=HIGHLIGHT, width=2, dash="dot")))
    grid = np.array([-1.2, 1.2])
    canvas.trace("scatter", x=grid.tolist(), y=(slope * grid + intercept).tolist(), mode="lines",
                 name=translate("losses.fig.prediction", lang), line=dict(color=TEST, width=3))
    canvas.trace("scatter", x=np.round(x, 3).tolist(), y=np.round(y, 3).tolist(), mode="markers",
                 name=translate("losses.fig.points", lang), marker=dict(color=TRAIN, size=10, line=dict(color="white", width=1)))
    points = [str(k + 1) for k in range(len(x))]
    for name in ("mse", "mae", "huber"):
        canvas.trace("bar", col=2, x=points, y=np.round(shares[name], 4).tolist(), name=name.upper() if name != "huber" else "Huber",
                     marker_color=LOSS_COLORS[name], hovertemplate=f"{name} · %{{x}}: %{{y:.3f}}<extra></extra>")
    canvas.axis("x", title=dict(text="x"), range=[-1.3, 1.3])
    canvas.axis("y", title=dict(text="y"), range=[-3.2, 4.2])
    canvas.axis("x2", title=dict(text=translate("losses.fig.point", lang)))
    return canvas.figure(360, top=40, showlegend=True, barmode="group", legend=dict(orientation="h", y=-0.22, x=0))


def confidence_figure(p, curves, p0, values, lang):
    """The loss of one example against the probability given to its true class: cross-entropy
    shoots up as that probability goes to 0; squared and absolute errors stay below 1."""
    canvas = Canvas()
    for name, losses in curves.items():
        canvas.trace("scatter", x=np.round(p, 4).tolist(), y=np.round(losses, 4).tolist(), mode="lines", name=name,
                     line=dict(color=LOSS_COLORS.get(name, "#475569"), width=2.5,
                               dash="dot" if name == "categorical_crossentropy" else None),
                     hovertemplate=f"{name}<br>p = %{{x:.3f}}: %{{y:.3f}}<extra></extra>")
        canvas.trace("scatter", x=[p0], y=[values[name]], mode="markers", showlegend=False, hoverinfo="skip",
                     marker=dict(color=LOSS_COLORS.get(name, "#475569"), size=10, line=dict(color="white", width=1)))
    canvas.shapes.append(dict(type="line", xref="x", yref="y domain", x0=p0, x1=p0, y0=0, y1=1,
                              line=dict(color=HIGHLIGHT, width=1.5, dash="dot")))
    canvas.axis("x", title=dict(text=translate("losses.fig.p_true", lang)), range=[0, 1])
    canvas.axis("y", title=dict(text=translate("losses.fig.loss", lang)), range=[0, 7])
    return canvas.figure(340, top=20, showlegend=True, legend=dict(orientation="h", y=-0.22, x=0))


def race_lines_figure(x, y, fits, lang, *, epoch=None):
    """The points and the line each model has learned so far, one per loss."""
    canvas = Canvas()
    canvas.trace("scatter", x=np.asarray(x).ravel().round(3).tolist(), y=np.asarray(y).ravel().round(3).tolist(),
                 mode="markers", name=translate("losses.fig.points", lang), marker=dict(color="#0f172a", size=9))
    for name, (grid, line) in fits.items():
        canvas.trace("scatter", x=np.asarray(grid).ravel().round(3).tolist(), y=np.asarray(line).ravel().round(4).tolist(),
                     mode="lines", name=translate("losses.fig.trained_with", lang, loss=name),
                     line=dict(color=LOSS_COLORS.get(name, "#475569"), width=3))
    canvas.axis("x", title=dict(text="x"), range=[-1.3, 1.3])
    canvas.axis("y", title=dict(text="y"), range=[-3.2, 4.2])
    title = translate("activations.fig.boundary", lang, epoch=epoch) if epoch else None
    return canvas.figure(340, title, top=40 if title else 10, showlegend=True, legend=dict(orientation="h", y=-0.22, x=0))


def metric_race_figure(histories, metrics, lang, *, epochs):
    """The metrics both models report, per epoch, one line per loss: the same yardsticks for
    models that were steered by different losses."""
    canvas = Canvas(1, len(metrics), tuple(m.upper() if m != "accuracy" else translate("training.fig.accuracy", lang)
                                           for m in metrics), spacing=0.08)
    for loss, history in histories:
        for col, metric in enumerate(metrics, start=1):
            values = history.get(f"val_{metric}") or history.get(metric, [])
            canvas.trace("scatter", col=col, x=list(range(1, len(values) + 1)), y=list(values), mode="lines",
                         name=translate("losses.fig.trained_with", lang, loss=loss), legendgroup=loss,
                         showlegend=col == 1, line=dict(color=LOSS_COLORS.get(loss, "#475569"), width=2.5),
                         hovertemplate=f"{loss} · {metric}<br>epoch %{{x}}: %{{y:.4f}}<extra></extra>")
    for col in range(1, len(metrics) + 1):
        canvas.axis(canvas.at(1, col)[0], title=dict(text="epoch"), range=[0.5, epochs + 0.5])
    return canvas.figure(300, top=40, showlegend=True, legend=dict(orientation="h", y=-0.25, x=0))
