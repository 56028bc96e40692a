"""The overview's diagram (the seed's "figure needed", in HTML) and the seed's data analogies."""
import html

from lib.i18n import translate
from lib.plots.base import LAYER_COLORS, TEST, TRAIN, Canvas, alpha, tiles

PIPELINE = (  # (step, colour, sub-steps drawn inside the box)
    ("data", "#64748b", ("train", "test", "labels")),
    ("layers", "#2563eb", ("conv", "pool", "dense")),
    ("compile", "#9333ea", ("loss", "optimizer", "metrics")),
    ("fit", "#ea580c", ("epochs", "batch", "lr")),
    ("evaluate", "#0d9488", ("evaluate", "predict")),
    ("save", "#475569", ("save", "load")),
)
_LAYER_OF_PART = {"conv": "Conv2D", "pool": "MaxPooling2D", "dense": "Dense"}


def pipeline_html(lang):
    """Data -> layers -> compile -> fit -> evaluate/predict -> save/load as boxes in HTML, each step
    in its colour with its parts inside: the first page a student opens then needs no chart drawn (Plotly's 4.7 MB loaded and compiled by the
    browser while a fresh server imports TensorFlow took it 1.5-2 s), and its words wrap and scale
    with the screen in either language."""
    cards = []
    for number, (step, color, parts) in enumerate(PIPELINE, start=1):
        items = "".join(
            f'<div style="margin:5px 0;padding:3px 4px;border-radius:5px;{_part_style(step, part)}">'
            f'{html.escape(translate(f"overview.fig.{step}_{part}", lang))}</div>' for part in parts)
        cards.append(f'<div class="kc-step" style="flex:1 1 0;min-width:0;border:2px solid {color};border-radius:8px;'
                     f'background:{alpha(color, 0.08)};padding:8px 6px;text-align:center">'
                     f'<div style="color:{color};font-weight:700;font-size:15px;margin-bottom:4px">'
                     f'{number}. {html.escape(translate(f"overview.fig.{step}", lang))}</div>{items}</div>')
    arrow = '<div style="align-self:center;color:#475569;font-size:20px">→</div>'
    return (f'<div class="kc-diagram" style="display:flex;gap:4px;align-items:stretch;font-size:13.5px;'
            f'line-height:1.35;color:#1e293b;margin:4px 0 12px">{arrow.join(cards)}</div>')


def _part_style(step, part):
    """The layers' parts in their layers' colours (as the model page draws them), the others plain."""
    if step != "layers":
        return ""
    color = LAYER_COLORS[_LAYER_OF_PART[part]]
    return f"background:{alpha(color, 0.18)};border:1px solid {color}"


def image_strip(canvas, images, captions, colors, *, col=1):
    """Gray images in a row with a caption under each (digits: dark ink on white paper)."""
    w = images.shape[2]
    strip, _ = tiles(images, across=len(images))
    canvas.trace("heatmap", col=col, z=strip, colorscale="Greys", zmin=0, zmax=1, showscale=False, hoverinfo="skip")
    for k, (caption, color) in enumerate(zip(captions, colors)):
        canvas.text(k * (w + 1) + (w - 1) / 2, images.shape[1] + 0.4, f"<b>{caption}</b>", at=canvas.at(1, col),
                    yanchor="top", font=dict(size=15, color=color))
    x, y = canvas.at(1, col)
    canvas.axis(x, visible=False)
    canvas.axis(y, visible=False, autorange="reversed")


def workbook_figure(train_x, train_y, test_x, test_y, lang):
    """Train set = the workbook, answers printed; test set = the mock exam, answers kept for grading."""
    canvas = Canvas(1, 2, (translate("glossary.fig.workbook", lang), translate("glossary.fig.exam", lang)),
                    spacing=0.08)
    image_strip(canvas, train_x, [str(y) for y in train_y], [TRAIN] * len(train_y), col=1)
    image_strip(canvas, test_x, ["?"] * len(test_y), [TEST] * len(test_y), col=2)
    return canvas.figure(200, top=40)
