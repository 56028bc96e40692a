"""Save & load figures: where the bytes of a saved model go."""
from lib.i18n import translate
from lib.plots.base import Canvas, category_color


def file_figure(members, file, lang):
    """Two bars of bytes: the .keras file by member (metadata, config, weights), and its
    model.weights.h5 by part — each layer's weights, the optimizer's state (Adam's m and v: as
    much again as the weights, twice), HDF5's bookkeeping — so the second bar is the whole member.
    `file` is a lib.saving.optimizer_state.WeightsFile."""
    canvas = Canvas()
    rows = (translate("save_load.fig.members", lang), translate("save_load.fig.layers", lang))
    for k, member in enumerate(members):
        canvas.trace("bar", x=[member.size], y=[rows[0]], orientation="h", name=member.name,
                     marker_color=category_color(k), hovertemplate=f"{member.name}: %{{x:,}} B<extra></extra>")
    parts = [(p.name, p.bytes) for p in file.layers if p.bytes]
    parts += [(translate("save_load.fig.slot", lang, optimizer=file.optimizer, slot=p.name), p.bytes) for p in file.slots]
    parts.append((translate("save_load.part.bookkeeping", lang), file.bookkeeping))
    for k, (name, size) in enumerate(parts):
        canvas.trace("bar", x=[size], y=[rows[1]], orientation="h", name=name, showlegend=True,
                     marker_color=category_color(k + len(members)), hovertemplate=f"{name}: %{{x:,}} B<extra></extra>")
    canvas.axis("x", title={"text": translate("save_load.fig.bytes", lang)})
    canvas.axis("y", autorange="reversed")
    return canvas.figure(260, top=20, barmode="stack", showlegend=True, legend={"orientation": "h", "y": -0.35, "x": 0})
