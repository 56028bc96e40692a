"""Training figures: live loss and accuracy curves, the noise of per-step losses, runs compared."""
import numpy as np

from lib.i18n import translate
from lib.plots.base import Canvas, TEST, TRAIN, category_color, wrap



def _line(canvas, x, y, name, color, *, col=1, dash=None, width=2.5, legend=True, group=None):
    canvas.trace("scatter", col=col, x=list(x), y=list(y), mode="lines+markers" if len(x) < 30 else "lines",
                 name=name, legendgroup=group or name, showlegend=legend, line=dict(color=color, width=width, dash=dash),
                 marker=dict(size=5), hovertemplate=f"{name}<br>%{{x}}: %{{y:.4f}}<extra></extra>")


def curves_figure(history, lang, *, epochs, best_epoch=None, message=None, panels=("loss", "accuracy")):
    """Loss and accuracy per epoch (or just the `panels` asked for), train (blue) and validation
    (orange), on an x-axis already as long as the run will be, so the curves grow into it.
    `best_epoch` marks the lowest validation loss; `message` is written across an empty chart."""
    canvas = Canvas(1, len(panels), tuple(translate(f"training.fig.{p}", lang) for p in panels), spacing=0.1)
    if len(panels) == 1:
        canvas.text(0.5, 1.0, translate(f"training.fig.{panels[0]}", lang), at=("paper", "paper"), yanchor="bottom",
                    font=dict(size=14))
    for col, metric in enumerate(panels, start=1):
        for key, color, label in ((metric, TRAIN, "train"), (f"val_{metric}", TEST, "validation")):
            values = history.get(key, [])
            if values:
                _line(canvas, range(1, len(values) + 1), values, translate(f"training.fig.{label}", lang), color,
                      col=col, legend=col == 1, group=label)
        x, y = canvas.at(1, col)
        canvas.axis(x, title=dict(text="epoch"), range=[0.5, max(epochs, 1) + 0.5], zeroline=False)
        canvas.axis(y, rangemode="tozero" if metric == "accuracy" else "normal", zeroline=False,
                    type="log" if metric == "loss" and _spans_decades(history.get("loss", [])) else "linear")
    if best_epoch:
        canvas.shapes.append(dict(type="line", xref="x", yref="y domain", x0=best_epoch, x1=best_epoch, y0=0, y1=1,
                                  line=dict(color="#16a34a", width=2, dash="dot")))
        canvas.text(best_epoch, 1.0, translate("training.fig.best", lang, epoch=best_epoch), at=("x", "y domain"),
                    yanchor="bottom", font=dict(size=11, color="#16a34a"))
    if message:
        canvas.text(0.5, 0.5, wrap(message, 36 * len(panels)), at=("paper", "paper"), font=dict(size=15, color="#64748b"))
    return canvas.figure(340, top=40, showlegend=True, legend=dict(orientation="h", y=-0.22, x=0))


def _spans_decades(values):
    """A loss that blew up (1e19) would flatten every other curve: switch to a log scale."""
    finite = [v for v in values if np.isfinite(v) and v > 0]
    return len(finite) > 1 and max(finite) / min(finite) > 1000


def step_loss_figure(runs, lang):
    """The loss after every step of each run, on an axis of epochs (step / steps per epoch):
    small batches take many noisy steps, big batches few smooth ones."""
    canvas = Canvas()
    for k, (label, losses, steps_per_epoch) in enumerate(runs):
        x = (np.arange(len(losses)) + 1) / max(steps_per_epoch, 1)
        keep = slice(None, None, max(1, len(losses) // 1500))  # at most ~1,500 points a run: the browser stays quick
        _line(canvas, np.round(x[keep], 4), np.round(np.asarray(losses)[keep], 4), label,
              category_color(k), width=1.2)
    canvas.axis("x", title=dict(text="epoch"))
    canvas.axis("y", title=dict(text=translate("training.fig.step_loss", lang)), rangemode="tozero")
    return canvas.figure(300, translate("training.fig.steps_title", lang), showlegend=True,
                         legend=dict(orientation="h", y=-0.25, x=0))


def compare_figure(runs, lang):
    """Validation accuracy per epoch of the session's recent runs, each labelled by its settings."""
    canvas = Canvas()
    for k, (label, history) in enumerate(runs):
        values = history.get("val_accuracy", [])
        _line(canvas, range(1, len(values) + 1), values, label, category_color(k))
    canvas.axis("x", title=dict(text="epoch"))
    canvas.axis("y", title=dict(text=translate("training.fig.val_accuracy", lang)), range=[0, 1.02])
    return canvas.figure(320, translate("training.fig.compare_title", lang), showlegend=True,
                         legend=dict(orientation="h", y=-0.25, x=0))
