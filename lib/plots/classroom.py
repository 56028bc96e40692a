"""The teacher's class view: where the class is, how far each task got, what the done ones reached."""
from lib.i18n import translate
from lib.plots.base import HIGHLIGHT, TRAIN, Canvas, category_color


def where_figure(pages, lang):
    """One bar per page: how many students are on it now (`pages`: {page label: students})."""
    canvas = Canvas()
    labels = list(pages)
    canvas.trace("bar", x=[pages[p] for p in labels], y=labels, orientation="h", marker_color=TRAIN,
                 text=[pages[p] for p in labels], textposition="auto",
                 hovertemplate="%{y}: %{x}<extra></extra>")
    canvas.axis("x", title={"text": translate("teacher.fig.students", lang)}, dtick=1, rangemode="tozero")
    canvas.axis("y", autorange="reversed")
    return canvas.figure(max(160, 34 * len(labels) + 70), top=10)


def tasks_figure(rows, lang):
    """One bar per task, done (green) then tried (amber): `rows` [(task title, done, tried)]."""
    canvas = Canvas()
    titles = [title for title, _, _ in rows]
    for k, (name, color) in enumerate((("done", "#16a34a"), ("tried", HIGHLIGHT))):
        counts = [row[1 + k] for row in rows]
        canvas.trace("bar", x=counts, y=titles, orientation="h", name=translate(f"teacher.fig.{name}", lang),
                     marker_color=color, hovertemplate="%{y}: %{x}<extra></extra>")
    canvas.axis("x", title={"text": translate("teacher.fig.students", lang)}, dtick=1, rangemode="tozero")
    canvas.axis("y", autorange="reversed")
    return canvas.figure(max(200, 26 * len(rows) + 90), top=10, barmode="stack", showlegend=True,
                         legend={"orientation": "h", "y": 1.02, "x": 0, "yanchor": "bottom"})


def results_figure(values, label, lang, k=0):
    """Every student's number for one fact (a dot each) and their spread: `values` a list, or
    {name: list} for one row per name (each racer of the Optimizers page)."""
    canvas = Canvas()
    rows = values if isinstance(values, dict) else {label: values}
    for j, (name, numbers) in enumerate(rows.items()):
        canvas.trace("box", x=list(numbers), boxpoints="all", jitter=0.4, pointpos=0, name=name,
                     marker_color=category_color(k + j), hovertemplate=f"{name}: %{{x}}<extra></extra>")
    canvas.axis("x", title={"text": label})
    canvas.axis("y", visible=isinstance(values, dict), autorange="reversed")
    return canvas.figure(150 if not isinstance(values, dict) else 60 + 44 * len(rows), top=10, showlegend=False)


def digits_figure(counts, lang):
    """One bar per digit 0-9: how many drawings of it the class's set holds."""
    canvas = Canvas()
    digits = [str(d) for d in range(len(counts))]
    canvas.trace("bar", x=digits, y=[int(n) for n in counts], marker_color=TRAIN, text=[int(n) for n in counts],
                 textposition="auto", hovertemplate="%{x}: %{y}<extra></extra>")
    canvas.axis("x", title={"text": translate("classroom.drawing.fig.digit", lang)}, type="category")
    canvas.axis("y", title={"text": translate("classroom.drawing.fig.drawings", lang)}, rangemode="tozero")
    return canvas.figure(260, top=10)
