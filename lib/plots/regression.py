"""Regression figures: the mean absolute error in MPG epoch by epoch (training part and validation
slice), and the test part's predictions against the truth with the errors' histogram."""
import numpy as np

from lib.i18n import translate
from lib.plots.base import HIGHLIGHT, TEST, TRAIN, Canvas, wrap


def mae_curves_figure(history, lang, *, epochs, message=None):
    """MAE in MPG per epoch: the training part (blue; a running mean over each epoch, as fit
    reports it) and the validation slice (orange), on an x-axis as long as the run will be."""
    canvas = Canvas()
    for key, color, label in (("mae", TRAIN, "train"), ("val_mae", TEST, "validation")):
        values = history.get(key, [])
        if values:
            name = translate(f"regression.fig.{label}", lang)
            canvas.trace("scatter", x=list(range(1, len(values) + 1)), y=np.round(values, 4).tolist(),
                         mode="lines", name=name, line={"color": color, "width": 2.5},
                         hovertemplate=f"{name}<br>epoch %{{x}}: %{{y:.2f}} MPG<extra></extra>")
    canvas.axis("x", title={"text": "epoch"}, range=[0.5, max(epochs, 1) + 0.5], zeroline=False)
    # from ~23 MPG (a fresh model guesses about 0) down to ~2: a log axis shows both ends
    canvas.axis("y", title={"text": translate("regression.fig.mae", lang)}, type="log")
    if message:
        canvas.text(0.5, 0.5, wrap(message, 40), at=("paper", "paper"), font={"size": 15, "color": "#64748b"})
    return canvas.figure(330, top=20, showlegend=True, legend={"orientation": "h", "y": -0.22, "x": 0})


def predictions_figure(truth, predictions, mae, lang):
    """Left: each test car's predicted MPG against its true MPG; on the diagonal the prediction
    is right. Right: the errors (prediction − truth) in bins of 1 MPG, ± MAE marked."""
    truth, predictions = np.asarray(truth, "float64"), np.asarray(predictions, "float64")
    errors = predictions - truth
    canvas = Canvas(1, 2, (translate("regression.fig.scatter", lang), translate("regression.fig.errors", lang)),
                    spacing=0.1)
    low, high = float(min(truth.min(), predictions.min())) - 2, float(max(truth.max(), predictions.max())) + 2
    canvas.trace("scatter", x=[low, high], y=[low, high], mode="lines", hoverinfo="skip",
                 line={"color": "#94a3b8", "width": 1.5, "dash": "dot"})
    canvas.trace("scatter", x=np.round(truth, 2).tolist(), y=np.round(predictions, 2).tolist(), mode="markers",
                 marker={"color": TEST, "size": 8, "line": {"color": "white", "width": 1}},
                 hovertemplate=translate("regression.fig.hover", lang) + "<extra></extra>")
    canvas.axis("x", title={"text": translate("regression.fig.truth", lang)}, range=[low, high])
    canvas.axis("y", title={"text": translate("regression.fig.prediction", lang)}, range=[low, high])
    edge = float(np.ceil(np.abs(errors).max())) if errors.size else 1.0
    canvas.trace("histogram", col=2, x=np.round(errors, 3).tolist(), xbins={"start": -edge, "end": edge, "size": 1},
                 marker={"color": TEST, "line": {"color": "white", "width": 1}},
                 hovertemplate="%{x} MPG: %{y}<extra></extra>")
    for sign in (-1, 1):
        canvas.shapes.append({"type": "line", "xref": "x2", "yref": "y2 domain", "x0": sign * mae,
                              "x1": sign * mae, "y0": 0, "y1": 1,
                              "line": {"color": HIGHLIGHT, "width": 2, "dash": "dot"}})
    canvas.text(mae, 0.98, f" ±MAE {mae:.2f}", at=("x2", "y2 domain"), yanchor="top", xanchor="left",
                font={"size": 11, "color": HIGHLIGHT})
    canvas.axis("x2", title={"text": translate("regression.fig.error", lang)}, zeroline=True)
    canvas.axis("y2", title={"text": translate("regression.fig.cars", lang)})
    return canvas.figure(380, top=40)
