"""Convolution figures: an image beside its feature map, and the arithmetic of one pixel."""
from lib.i18n import translate
from lib.plots.base import HIGHLIGHT, Canvas, image_grid, pair_height, size


def feature_map_figure(picture, feature_map, lang, *, window=None, pixel=None):
    """The input beside its feature map. `window`: (top, left, h, w) framed on the input;
    `pixel`: (row, col) framed on the feature map — the output pixel computed below."""
    canvas = Canvas(1, 2, (translate("filters.fig.input", lang, shape=size(picture)),
                           translate("filters.fig.feature_map", lang, shape=size(feature_map))))
    canvas.image(picture, col=1)
    canvas.image(feature_map, col=2, signed=True, colorbar=dict(len=0.8, thickness=12, x=1.0))
    if window is not None:
        canvas.outline(*window, HIGHLIGHT, at=canvas.at(1, 1))
    if pixel is not None:
        canvas.outline(pixel[0], pixel[1], 1, 1, HIGHLIGHT, at=canvas.at(1, 2))
    return canvas.figure(pair_height(picture), top=40)


def pixel_figure(patch, kernel, lang):
    """Window × kernel = products, summed: the arithmetic of one output pixel, every cell numbered."""
    products = patch * kernel
    canvas = Canvas(1, 3, (translate("filters.fig.window", lang), translate("filters.fig.kernel", lang),
                           translate("filters.fig.products", lang, total=f"{products.sum():.3f}")), spacing=0.08)
    small = patch.shape[0] <= 5
    canvas.image(patch, col=1, numbers="%{z:.2f}" if small else None)
    canvas.image(kernel, col=2, signed=True, numbers="%{z:.3~g}" if small else None)
    canvas.image(products, col=3, signed=True, numbers="%{z:.2f}" if small else None)
    for x, symbol in ((0.31, "×"), (0.655, "=")):
        canvas.text(x, 0.45, f"<b>{symbol}</b>", at=("paper", "paper"), font=dict(size=28, color="#475569"))
    return canvas.figure(300, top=50)


def bank_figure(maps, names, lang):
    """The feature maps of one Conv2D with several kernels, side by side on one colour scale."""
    return image_grid(maps, [translate(f"filters.kernels.{n}", lang) for n in names], cols=min(4, len(names)))


def learned_kernels_figure(kernels):
    """The 3×3 kernels a CNN learned by itself, each cell numbered."""
    return image_grid(kernels, [f"#{k + 1}" for k in range(len(kernels))], cols=8, numbers="%{z:.1f}", height_per_row=170)


def learned_maps_figure(image, maps, lang):
    """A digit, then what each learned kernel (with its bias and ReLU) makes of it."""
    titles = [translate("filters.learned_input", lang)] + [f"#{k + 1}" for k in range(len(maps))]
    return image_grid([image, *maps], titles, cols=len(maps) + 1, signed=[False] + [True] * len(maps),
                      height_per_row=170)
