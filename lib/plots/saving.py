"""Save & load figures: where the bytes of a saved model go."""
from lib.i18n import translate
from lib.plots.base import Canvas, category_color


def file_figure(members, layers, lang):
    """Two bars of bytes: the .keras file by member (metadata, config, weights), and its weights
    by layer — almost all of a saved model is its weights, and most weights sit in a few layers."""
    canvas = Canvas()
    rows = (translate("save_load.fig.members", lang), translate("save_load.fig.layers", lang))
    for k, member in enumerate(members):
        canvas.trace("bar", x=[member.size], y=[rows[0]], orientation="h", name=member.name,
                     marker_color=category_color(k), hovertemplate=f"{member.name}: %{{x:,}} B<extra></extra>")
    for k, (name, size) in enumerate((layer.name, layer.bytes) for layer in layers if layer.bytes):
        canvas.trace("bar", x=[size], y=[rows[1]], orientation="h", name=name, showlegend=True,
                     marker_color=category_color(k + len(members)), hovertemplate=f"{name}: %{{x:,}} B<extra></extra>")
    canvas.axis("x", title=dict(text=translate("save_load.fig.bytes", lang)))
    canvas.axis("y", autorange="reversed")
    return canvas.figure(240, top=20, barmode="stack", showlegend=True, legend=dict(orientation="h", y=-0.35, x=0))
