"""Overfitting figures: a fit bending through noisy points, and runs compared on one axis."""
import numpy as np

from lib.i18n import translate
from lib.plots.base import Canvas, TEST, TRAIN, category_color


def curve_fit_figure(x, y, x_val, y_val, grid, truth, fitted, lang, *, epoch=None):
    """The training points, fresh points from the same curve, the true curve and the network's
    curve at `epoch` — which, trained long enough, bends through every training point."""
    canvas = Canvas()
    canvas.trace("scatter", x=x_val.ravel().tolist(), y=y_val.ravel().tolist(), mode="markers",
                 name=translate("overfitting.fig.fresh", lang), marker=dict(color=TEST, size=6, opacity=0.35))
    canvas.trace("scatter", x=grid.ravel().tolist(), y=np.round(truth.ravel(), 4).tolist(), mode="lines",
                 name=translate("overfitting.fig.truth", lang), line=dict(color="#64748b", width=2, dash="dash"))
    if fitted is not None:
        canvas.trace("scatter", x=grid.ravel().tolist(), y=np.round(fitted.ravel(), 4).tolist(), mode="lines",
                     name=translate("overfitting.fig.model", lang, epoch=epoch), line=dict(color=TRAIN, width=3))
    canvas.trace("scatter", x=x.ravel().tolist(), y=y.ravel().tolist(), mode="markers",
                 name=translate("overfitting.fig.points", lang),
                 marker=dict(color=TRAIN, size=11, line=dict(color="white", width=1.5)))
    canvas.axis("x", title=dict(text="x"), zeroline=False)
    canvas.axis("y", title=dict(text="y"), range=[-2.2, 2.2], zeroline=False)
    return canvas.figure(360, top=20, showlegend=True, legend=dict(orientation="h", y=-0.2, x=0))


def runs_loss_figure(runs, lang):
    """Each run's validation cross-entropy (solid) and training cross-entropy (dotted), one colour
    per run: the data loss without an L2 penalty (which Keras adds to loss and val_loss), so that
    runs with and without L2 are drawn on the same axis (histories without it: Keras's losses)."""
    canvas = Canvas()
    for k, (label, history) in enumerate(runs):
        color = category_color(k)
        for key, dash, name in (("val_data_loss", None, label), ("data_loss", "dot", None)):
            values = history.get(key) or history.get(key.replace("data_", ""), [])
            canvas.trace("scatter", x=list(range(1, len(values) + 1)), y=list(values), mode="lines",
                         name=name or f"{label} ({translate('overfitting.fig.train_loss', lang)})", legendgroup=label,
                         showlegend=name is not None, line=dict(color=color, width=2.5 if name else 1.5, dash=dash),
                         hovertemplate=f"{name or label}<br>epoch %{{x}}: %{{y:.3f}}<extra></extra>")
    canvas.axis("x", title=dict(text="epoch"))
    canvas.axis("y", title=dict(text=translate("overfitting.fig.loss_axis", lang)), rangemode="tozero")
    return canvas.figure(340, translate("overfitting.fig.runs_title", lang), showlegend=True,
                         legend=dict(orientation="h", y=-0.25, x=0))
