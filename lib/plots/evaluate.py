"""Evaluate & predict figures: the confusion matrix, the confident mistakes, and one input followed
through every layer of the network."""
import html

import numpy as np

from lib.i18n import translate
from lib.plots.base import HIGHLIGHT, TEST, TRAIN, Canvas, paint, png, tiles, unit_domain


def confusion_figure(matrix, class_names, lang, *, chosen=None):
    """Rows the answer key, columns the prediction, each cell its count; the diagonal (right
    answers) in blue, mistakes in orange, the chosen cell framed."""
    matrix = np.asarray(matrix)
    n = len(matrix)
    right = np.where(np.eye(n, dtype=bool), matrix, np.nan)
    wrong = np.where(np.eye(n, dtype=bool), np.nan, np.where(matrix > 0, matrix, np.nan))
    canvas = Canvas()
    names = [str(c) for c in class_names]
    hover = translate("evaluate.fig.cell", lang) + "<extra></extra>"
    for z, scale in ((right, [[0, "#dbeafe"], [1, TRAIN]]), (wrong, [[0, "#ffedd5"], [1, TEST]])):
        canvas.trace("heatmap", z=z.tolist(), x=names, y=names, colorscale=scale, showscale=False, xgap=1, ygap=1,
                     zmin=0, zmax=max(float(np.nanmax(z)) if np.isfinite(z).any() else 1.0, 1.0), hovertemplate=hover)
    canvas.trace("heatmap", z=np.zeros((n, n)).tolist(), x=names, y=names, text=matrix.astype(str).tolist(),
                 texttemplate="%{text}", showscale=False, colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]],
                 hoverinfo="skip")
    if chosen is not None:
        r, c = chosen
        canvas.shapes.append(dict(type="rect", xref="x", yref="y", x0=c - 0.5, x1=c + 0.5, y0=r - 0.5, y1=r + 0.5,
                                  line=dict(color=HIGHLIGHT, width=3)))
    canvas.axis("x", title=dict(text=translate("evaluate.fig.predicted", lang)), side="top", type="category")
    canvas.axis("y", title=dict(text=translate("evaluate.fig.answer_key", lang)), autorange="reversed", type="category",
                scaleanchor="x")
    return canvas.figure(440, top=60)


def per_class_figure(accuracy, class_names, lang):
    """The share of each class's test images answered right."""
    canvas = Canvas()
    canvas.trace("bar", x=[str(c) for c in class_names], y=np.round(np.nan_to_num(accuracy), 4).tolist(),
                 marker_color=TRAIN, text=[f"{a:.0%}" if np.isfinite(a) else "–" for a in accuracy],
                 textposition="outside", hovertemplate="%{x}: %{y:.3f}<extra></extra>")
    canvas.axis("x", title=dict(text=translate("evaluate.fig.answer_key", lang)), type="category")
    canvas.axis("y", range=[0, 1.12], title=dict(text=translate("evaluate.fig.class_accuracy", lang)))
    return canvas.figure(300, top=20)


def mistakes_figure(images, probabilities, labels, lang):
    """Each chosen test image (a mistake, or a right answer of a diagonal cell) with its answer
    key and the model's answer, and under it the ten probabilities the model gave (its answer
    orange, the right class outlined green)."""
    images, probabilities = np.asarray(images), np.asarray(probabilities)
    cols = max(len(images), 1)
    canvas = Canvas(2, cols, spacing=0.02, vspacing=0.08)
    classes = [str(k) for k in range(probabilities.shape[1])] if len(probabilities) else []
    for k, (image, p, label) in enumerate(zip(images, probabilities, labels), start=1):
        canvas.image(image, row=1, col=k, gray="Greys")
        answer = int(np.argmax(p))
        x, y = canvas.at(1, k)
        canvas.text(0.5, 1.0, translate("evaluate.fig.mistake", lang, label=label, answer=answer, p=f"{p[answer]:.2f}"),
                    at=(f"{x} domain", f"{y} domain"), yanchor="bottom", font=dict(size=11))
        canvas.trace("bar", row=2, col=k, x=classes, y=np.round(p, 3).tolist(), hovertemplate="%{x}: %{y:.3f}<extra></extra>",
                     marker=dict(color=[TEST if c == answer else "#94a3b8" for c in range(len(p))],
                                 line=dict(color=["#16a34a" if c == label else "rgba(0,0,0,0)" for c in range(len(p))],
                                           width=2)))
        x2, y2 = canvas.at(2, k)
        canvas.axis(x2, type="category", tickfont=dict(size=9))
        canvas.axis(y2, range=[0, 1], visible=k == 1)
    return canvas.figure(330, top=30)


def answer_table(logits, probabilities, true_class, lang):
    """The model's answer for one input as HTML, a row a class: its score (logit) as a gray bar either
    side of zero, its probability (softmax) as a bar — orange for the answer, blue for the rest — and
    the answer key's row framed in green, each with its number. HTML, not a chart: it changes at
    every nudge of the followed image, and a changed chart is drawn anew (~30 ms of the browser)."""
    logits, probabilities = np.asarray(logits, dtype="float64"), np.asarray(probabilities, dtype="float64")
    widest = max(float(np.abs(logits).max()) if logits.size else 0.0, 1e-6)
    best = int(np.argmax(probabilities))
    track = "position:relative;height:16px;background:#f1f5f9;width:100%"
    head = "".join(f'<th style="text-align:left;font-weight:500;padding:2px 6px">{html.escape(text)}</th>'
                   for text in (translate("activations.fig.class", lang), translate("activations.fig.logits", lang),
                                "", translate("activations.fig.probabilities", lang), ""))
    rows = []
    for k, (score, p) in enumerate(zip(logits, probabilities)):
        half = 50 * abs(score) / widest  # % of the track, from its middle
        left = 50 - half if score < 0 else 50
        frame = "outline:2px solid #16a34a;outline-offset:1px;" if k == true_class else ""
        rows.append(
            f'<tr style="font-weight:{700 if k == best else 400}"><td style="padding:2px 6px">{k}</td>'
            f'<td style="width:34%;padding:2px 6px"><div style="{track}"><div style="position:absolute;left:50%;'
            f'top:0;bottom:0;border-left:1px solid #64748b"></div><div style="position:absolute;left:{left:.2f}%;'
            f'width:{half:.2f}%;top:2px;bottom:2px;background:#94a3b8"></div></div></td>'
            f'<td style="text-align:right;padding:2px 6px">{score:.2f}</td>'
            f'<td style="width:34%;padding:2px 6px"><div style="{track};{frame}"><div style="width:{100 * p:.2f}%;'
            f'height:100%;background:{TEST if k == best else TRAIN}"></div></div></td>'
            f'<td style="text-align:right;padding:2px 6px">{p:.3f}</td></tr>')
    key = ("" if true_class is None else '<div style="font-size:13px;color:#475569;margin-top:6px">'
           f'<span style="outline:2px solid #16a34a;padding:0 6px;margin-right:6px"></span>'
           f'{html.escape(translate("activations.fig.one_hot", lang))}</div>')
    return ('<table style="border-collapse:collapse;width:100%;font-size:14px;font-variant-numeric:tabular-nums">'
            f"<tr>{head}</tr>{''.join(rows)}</table>{key}")


def input_picture(image, *, width=224):
    """The one image the model is given, as it sees it, as a PNG: dark ink on white, each pixel
    scaled up whole to about `width` px. A picture, not a chart: it changes at every nudge of the
    test image, and a changed chart is drawn anew (~30 ms of the browser's time on this page)."""
    image = np.asarray(image, dtype="float64")
    image = image.reshape(image.shape[:2])  # (h, w) or (h, w, 1)
    return png(paint(image, gray="Greys"), whole=max(1, round(width / image.shape[1])))


def maps_picture(maps, *, limit=16, width=960):
    """A layer's maps ((h, w, channels), its first `limit`) side by side, MAPS_ACROSS a row, on the
    layer's own red-blue scale, white between, each pixel scaled up whole to about `width` px across:
    (PNG, how many maps it shows, the scale's limit ±). A picture, not a heatmap: the maps change at
    every nudge of the followed image, and Plotly drew them anew (with the flat layers' bars, 108-117
    ms of Chromium's main thread a nudge, the class model; the bars alone are a small figure)."""
    maps = np.transpose(np.asarray(maps, dtype="float64")[..., :limit], (2, 0, 1))
    z, _ = tiles(maps, MAPS_ACROSS, gap=max(1, maps.shape[2] // 8))
    largest = max(float(np.abs(maps).max()) if maps.size else 0.0, 1e-6)
    return png(paint(z, signed=True, limit=largest), whole=max(1, round(width / z.shape[1]))), len(maps), largest


MAP_ROW_PX, BAR_ROW_PX, TITLE_PX, TICKS_PX = 110, 140, 34, 22  # a row of maps, bars, a title, the bars' numbers
MAPS_ACROSS = 8


def layers_figure(layers, *, limit=16, bars=256):
    """One input followed through the network in one figure, a row per layer (`layers`: (title,
    output) with the batch axis gone): a layer of maps as its first `limit` maps side by side on one
    red-blue scale (hover: which map, where, how much), a flat one as its first `bars` numbers as bars
    (the title then says how many of how many).
    One figure, not one a layer: the browser draws a changed figure anew, ~30 ms each on the Evaluate
    page in Chromium, and all of them change with the image (the class model's four layers: 150-168
    ms of Plotly a nudge as four figures, 108-117 as one)."""
    rows = []  # (title, output, height in px)
    for title, output in layers:
        output = np.asarray(output)
        if output.ndim == 3:
            tile_rows = -(-min(output.shape[-1], limit) // MAPS_ACROSS)
            rows.append((title, output, MAP_ROW_PX * tile_rows))
        else:
            output = output.ravel()
            if len(output) > bars:
                title, output = f"{title}  (0–{bars - 1} / {len(output):,})", output[:bars]
            rows.append((title, output, BAR_ROW_PX))
    total = sum(px + TITLE_PX + (TICKS_PX if output.ndim == 1 else 0) for _, output, px in rows)
    canvas = Canvas(max(len(rows), 1), 1)
    top = total
    for row, (title, output, px) in enumerate(rows, start=1):
        x, y = canvas.at(row, 1)
        top -= TITLE_PX
        canvas.notes.append(dict(text=title, x=0, y=top / total, xref="paper", yref="paper", xanchor="left",
                                 yanchor="bottom", showarrow=False, font=dict(size=14)))
        canvas.axis(y, domain=unit_domain((top - px) / total, top / total))
        top -= px
        if output.ndim == 3:
            _maps_row(canvas, row, output[..., :limit])
        else:
            canvas.trace("bar", row=row, x=list(range(len(output))), y=np.round(output, 4).tolist(),
                         marker_color=TRAIN, hovertemplate="%{x}: %{y:.4f}<extra></extra>")
            canvas.axis(x, dtick=max(1, len(output) // 16))
            top -= TICKS_PX
    return canvas.figure(total + 20, top=10)


def _maps_row(canvas, row, maps):
    """A layer's maps (h, w, channels) side by side in one red-blue heatmap, NaN between them; its
    hover names the map and the cell within it."""
    maps = np.transpose(maps, (2, 0, 1))
    n, h, w = maps.shape
    z, corners = tiles(maps, MAPS_ACROSS, gap=max(1, w // 8))
    where = np.full(z.shape + (3,), -1)  # each cell's map number (from 1), row and column
    for k, (top, left) in enumerate(corners):
        where[top:top + h, left:left + w] = np.stack(np.broadcast_arrays(k + 1, *np.indices((h, w))), axis=-1)
    canvas.image(z, row=row, signed=True)
    hover = "#%{customdata[0]} (%{customdata[1]}, %{customdata[2]}): %{z:.3f}<extra></extra>"
    canvas.data[-1].update(customdata=where, hoverongaps=False, hovertemplate=hover)

