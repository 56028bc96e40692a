"""The model builder: a Sequential stack of layers, described as plain dicts.

A layer is `{"type": <Keras class name>, <constructor argument>: <value>, ...}`, e.g.
`{"type": "Dense", "units": 32, "activation": "relu"}`. `describe` checks a stack and works out
every layer's output shape and parameter count by the textbook formulas, before Keras allocates
anything (so a stack too big for a shared server is refused cheaply); `build_sequential` then
builds the real `keras.Sequential`. A stack that cannot be built raises `ModelSpecError`, a
`ValueError` that names the layer and carries a reason code the pages translate.
"""
import dataclasses
import math
import re

from lib import cost
from lib.errors import Refusal

MAX_LAYERS = 20
MAX_PARAMS = 2_000_000  # a classroom server builds (and trains) many of these at once
# Numbers one example produces at any layer: the app's largest is far below 1 M (a 32x32x3 image
# through Conv2D with the builder's 4,096 filters is 4.2 M); 16.8 M float32 values is 64 MB per
# example, already a lot for a shared server. Uploads have the same limit (lib.saving).
MAX_LAYER_OUTPUT = 2 ** 24

ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "softmax", "elu", "gelu", "swish",
               "softplus", "leaky_relu")
PADDINGS = ("valid", "same")


@dataclasses.dataclass(frozen=True)
class Arg:
    """One constructor argument the builder offers: its kind decides how a value is checked."""
    name: str
    kind: str  # "count" (int >= 1), "stride" (count or None), "rate" ([0, 1)), "penalty" (>= 0), "padding", "activation"
    default: object  # the builder's starting value; for optional arguments also Keras's default
    positional: bool = False  # always written, positionally in Keras's order (units, filters, ...)
    offered: bool = True  # shown in the Model & layers editor (L2 is set on the Overfitting page)


_POOL_ARGS = (Arg("pool_size", "count", 2, True), Arg("strides", "stride", None),
              Arg("padding", "padding", "valid"))
LAYER_TYPES = {
    "Dense": (Arg("units", "count", 32, True), Arg("activation", "activation", "linear"),
              Arg("l2", "penalty", 0.0, offered=False)),
    "Conv2D": (Arg("filters", "count", 8, True), Arg("kernel_size", "count", 3, True), Arg("strides", "count", 1),
               Arg("padding", "padding", "valid"), Arg("activation", "activation", "linear")),
    "MaxPooling2D": _POOL_ARGS,
    "AveragePooling2D": _POOL_ARGS,
    "Flatten": (),
    "Dropout": (Arg("rate", "rate", 0.5, True),),
    "Activation": (Arg("activation", "activation", "relu", True),),
    # Data augmentation: random shifts of up to `factor` of the height and width, during training only.
    "RandomTranslation": (Arg("factor", "rate", 0.125, True),),
}
BUILDER_TYPES = ("Dense", "Conv2D", "MaxPooling2D", "AveragePooling2D", "Flatten", "Dropout", "Activation")
IMAGE_LAYERS = ("Conv2D", "MaxPooling2D", "AveragePooling2D", "RandomTranslation")

INPUT_SHAPES = {"784": (784,), "64": (64,), "28x28x1": (28, 28, 1), "8x8x1": (8, 8, 1),
                "32x32x3": (32, 32, 3)}
PRESETS = {
    # The seed's sample, in Keras 3 form: 784 -> 32 -> 10, 25,450 parameters.
    "seed": ((784,), [{"type": "Dense", "units": 32}, {"type": "Activation", "activation": "relu"},
                      {"type": "Dense", "units": 10}, {"type": "Activation", "activation": "softmax"}]),
    "small_cnn": ((28, 28, 1), [
        {"type": "Conv2D", "filters": 8, "kernel_size": 3, "activation": "relu"},
        {"type": "MaxPooling2D", "pool_size": 2},
        {"type": "Conv2D", "filters": 16, "kernel_size": 3, "activation": "relu"},
        {"type": "MaxPooling2D", "pool_size": 2},
        {"type": "Flatten"},
        {"type": "Dropout", "rate": 0.25},
        {"type": "Dense", "units": 10, "activation": "softmax"}]),
    "digits_cnn": ((8, 8, 1), [
        {"type": "Conv2D", "filters": 8, "kernel_size": 3, "padding": "same", "activation": "relu"},
        {"type": "MaxPooling2D", "pool_size": 2},
        {"type": "Flatten"},
        {"type": "Dense", "units": 32, "activation": "relu"},
        {"type": "Dense", "units": 10, "activation": "softmax"}]),
}


class ModelSpecError(Refusal):
    """A stack that cannot be built. `index` is the 1-based layer (0: the input or the whole
    stack), `code` a reason the pages translate, `details` the numbers that go with it."""

    catalog = "errors.model"

    def __init__(self, index, layer_type, code, summary, **details):
        where = f"layer {index} ({layer_type})" if index else "the model"
        super().__init__(code, f"{where}: {summary}", **details)
        self.index, self.layer_type = index, layer_type


@dataclasses.dataclass(frozen=True)
class LayerInfo:
    """One layer as the builder sees it: its checked arguments, shapes and parameter count."""
    index: int
    name: str
    type: str
    args: dict
    input_shape: tuple
    output_shape: tuple
    params: int
    formula: str  # how `params` comes about, e.g. "784 × 32 + 32"
    multiply_adds: int = 0  # for one example (lib.cost's formulas)

    def __repr__(self):
        return f"{self.name}: {self.type} {self.input_shape} -> {self.output_shape}, {self.params:,} params"


def layer_name(index, layer_type):
    """The explicit name of layer `index`: never Keras's process-wide auto-name counter."""
    snake = "".join("_" + c.lower() if c.isupper() else c for c in layer_type).lstrip("_")
    return f"{snake.replace('2_d', '2d')}_{index}"


def check_layer(spec, index):
    """A layer dict with every argument present and of the right kind, or ModelSpecError."""
    if not isinstance(spec, dict) or spec.get("type") not in LAYER_TYPES:
        kind = spec.get("type") if isinstance(spec, dict) else spec
        raise ModelSpecError(index, kind, "unknown_type", f"unknown layer type {kind!r}",
                             value=str(kind), choices=", ".join(LAYER_TYPES))
    layer_type = spec["type"]
    out = {"type": layer_type}
    for arg in LAYER_TYPES[layer_type]:
        out[arg.name] = _check_arg(arg, spec.get(arg.name, arg.default), index, layer_type)
    unknown = set(spec) - set(out)
    if unknown:
        raise ModelSpecError(index, layer_type, "unknown_arg", f"unknown argument {sorted(unknown)[0]!r}",
                             arg=sorted(unknown)[0])
    return out


def _check_arg(arg, value, index, layer_type):
    def fail(code, message, **details):
        raise ModelSpecError(index, layer_type, code, message, arg=arg.name, value=str(value), **details)

    if arg.kind in ("count", "stride"):
        if value is None and arg.kind == "stride":
            return None
        number = _number(value)
        if number is None:
            fail("not_a_number", f"{arg.name} must be a number, got {value!r}")
        if number != int(number):
            fail("not_whole", f"{arg.name} must be a whole number, got {value!r}")
        if number < 1:
            fail("not_positive", f"{arg.name} must be at least 1, got {value!r}")
        return int(number)
    if arg.kind in ("rate", "penalty"):
        number = _number(value)
        if number is None:
            fail("not_a_number", f"{arg.name} must be a number, got {value!r}")
        if arg.kind == "rate" and not 0 <= number < 1:
            fail("not_a_rate", f"{arg.name} must be at least 0 and below 1, got {value!r}")
        if arg.kind == "penalty" and number < 0:
            fail("negative", f"{arg.name} must not be negative, got {value!r}")
        return float(number)
    choices = PADDINGS if arg.kind == "padding" else ACTIVATIONS
    value = "linear" if value is None and arg.kind == "activation" else value
    if value not in choices:
        fail("unknown_choice", f"{arg.name} must be one of {', '.join(choices)}, got {value!r}",
             choices=", ".join(choices))
    return value


def _number(value):
    """A finite float from a number or numeric text; None for anything else (bools included)."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def check_input_shape(shape):
    """The input shape as a tuple of positive ints: flat (n,) or an image (height, width, channels)."""
    try:
        shape = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise ModelSpecError(0, "Input", "bad_input_shape", f"bad input shape {shape!r}", value=str(shape))
    if len(shape) not in (1, 3) or min(shape) < 1:
        raise ModelSpecError(0, "Input", "bad_input_shape", f"bad input shape {shape!r}", value=str(shape))
    return shape


def describe(layers, input_shape):
    """Check a stack and follow the shapes through it: a list of `LayerInfo`, one per layer."""
    shape = check_input_shape(input_shape)
    if len(layers) > MAX_LAYERS:
        raise ModelSpecError(0, "Sequential", "too_many_layers", f"more than {MAX_LAYERS} layers",
                             limit=MAX_LAYERS)
    infos, total = [], 0
    for index, spec in enumerate(layers, start=1):
        args = check_layer(spec, index)
        out, params, formula = _follow(args, shape, index)
        if math.prod(out) > MAX_LAYER_OUTPUT:
            raise ModelSpecError(index, args["type"], "too_large_output",
                                 f"{math.prod(out):,} numbers per example; the limit is {MAX_LAYER_OUTPUT:,}",
                                 values=f"{math.prod(out):,}", limit=f"{MAX_LAYER_OUTPUT:,}")
        window = (args.get("kernel_size") or args.get("pool_size") or 1,) * 2
        infos.append(LayerInfo(index, layer_name(index, args["type"]), args["type"], args, shape, out, params,
                               formula, cost.multiply_adds(args["type"], shape, out, window=window)))
        total += params
        shape = out
    if total > MAX_PARAMS:
        raise ModelSpecError(0, "Sequential", "too_many_params",
                             f"{total:,} parameters; the limit here is {MAX_PARAMS:,}",
                             params=f"{total:,}", limit=f"{MAX_PARAMS:,}")
    return infos


def _follow(args, shape, index):
    """(output shape, parameter count, formula) of one checked layer on an input of `shape`."""
    kind = args["type"]
    if kind in IMAGE_LAYERS and len(shape) != 3:
        raise ModelSpecError(index, kind, "needs_image",
                             f"needs an image input (height, width, channels), got {shape}",
                             shape=_shape_text(shape))
    if kind == "Dense":
        n_in, units = shape[-1], args["units"]
        return shape[:-1] + (units,), n_in * units + units, f"{n_in} × {units} + {units}"
    if kind == "Conv2D":
        k, s, f, channels = args["kernel_size"], args["strides"], args["filters"], shape[2]
        out = _spatial(shape, k, s, args["padding"], index, kind)
        return out + (f,), k * k * channels * f + f, f"{k} × {k} × {channels} × {f} + {f}"
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        p = args["pool_size"]
        out = _spatial(shape, p, args["strides"] or p, args["padding"], index, kind)
        return out + (shape[2],), 0, "0"
    if kind == "Flatten":
        return (math.prod(shape),), 0, "0"
    return shape, 0, "0"  # Dropout, Activation: same shape, nothing to learn


def _spatial(shape, window, stride, padding, index, kind):
    """Height and width after a window slides with `stride`: (n - k) // s + 1, or ceil(n / s)."""
    if padding == "same":
        return tuple(-(-n // stride) for n in shape[:2])
    if window > min(shape[:2]):
        raise ModelSpecError(index, kind, "window_too_large",
                             f"window {window}×{window} is larger than its input "
                             f"{shape[0]}×{shape[1]}", window=window, height=shape[0], width=shape[1])
    return tuple((n - window) // stride + 1 for n in shape[:2])


def _shape_text(shape):
    return "(" + ", ".join(["None", *map(str, shape)]) + ")"


def shape_text(shape):
    """A shape as Keras prints it, batch first: (None, 26, 26, 8)."""
    return _shape_text(tuple(shape))


def build_sequential(layers, input_shape, *, seed=None, name="sequential"):
    """The real `keras.Sequential` for a stack; ModelSpecError (a ValueError) when it cannot be.

    Every layer gets an explicit name, so models built at the same moment by many sessions never
    collide; with `seed`, weight initialisers and Dropout are seeded per layer (seed + index).
    """
    import keras

    infos = describe(layers, input_shape)
    model = keras.Sequential(name=name)
    model.add(keras.Input(shape=check_input_shape(input_shape), name="input"))
    for info in infos:
        try:
            model.add(make_layer(info.type, info.args, info.name, None if seed is None else seed + info.index))
        except Exception as e:  # Keras has the last word; say which layer it refused
            raise ModelSpecError(info.index, info.type, "keras", str(e).splitlines()[0], message=str(e))
    return model


def _plain(error):
    """Keras's message without terminal colours, cut to a readable length."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip()
    return text if len(text) <= 400 else text[:400] + "…"


def make_layer(layer_type, args, name, seed=None):
    """One Keras layer from checked arguments (see `check_layer`)."""
    import keras

    kwargs = {k: v for k, v in args.items() if k != "type"}
    if layer_type == "Dense":
        l2 = kwargs.pop("l2", 0.0)
        if l2:
            kwargs["kernel_regularizer"] = keras.regularizers.L2(l2)
    if layer_type == "RandomTranslation":
        factor = kwargs.pop("factor")
        kwargs.update(height_factor=factor, width_factor=factor, fill_mode="constant")
    if seed is not None and layer_type in ("Dense", "Conv2D"):
        kwargs["kernel_initializer"] = keras.initializers.GlorotUniform(seed=seed)
    if seed is not None and layer_type == "Dropout":
        kwargs["seed"] = seed
    return getattr(keras.layers, layer_type)(name=name, **kwargs)


def example_input(input_shape, seed=0):
    """One input for a model of this shape, to follow real numbers through it: (x, "digit") — the
    first of the bundled digits, 0..1, when the shape holds its 64 pixels — else (x, "random"):
    seeded uniform numbers in 0..1 (there is no data set of that shape offline)."""
    import numpy as np

    shape = tuple(input_shape)
    if math.prod(shape) == 64:
        from lib import data

        return data.digit(0)[0].reshape(shape), "digit"
    return np.random.default_rng(seed).uniform(0, 1, shape).astype("float32"), "random"


def summary_table(model):
    """`model.summary()` as a table: layer, type, output_shape, params (one row per layer)."""
    import pandas as pd

    rows = [{"layer": layer.name, "type": type(layer).__name__,
             "output_shape": shape_text(layer.output.shape[1:]), "params": layer.count_params()}
            for layer in model.layers]
    return pd.DataFrame(rows, columns=["layer", "type", "output_shape", "params"])


# --- A stack in one line, for links: "Dense-32-relu~Activation-relu~Dense-10" -------------

def encode_stack(layers):
    """A compact, URL-safe text for a stack: fields by '-', layers by '~', trailing optional defaults dropped."""
    parts = []
    for spec in layers:
        args = LAYER_TYPES[spec["type"]]
        fields = [_field(spec.get(a.name, a.default)) for a in args]
        while fields and not args[len(fields) - 1].positional and fields[-1] == _field(args[len(fields) - 1].default):
            fields.pop()
        parts.append("-".join([spec["type"], *fields]))
    return "~".join(parts)


def _field(value):
    return "" if value is None else str(value)


def decode_stack(text):
    """The layer dicts of `encode_stack`'s text; values stay text until `describe` checks them."""
    layers = []
    for index, part in enumerate(filter(None, str(text).split("~")), start=1):
        layer_type, *fields = part.split("-")
        if layer_type not in LAYER_TYPES:
            raise ModelSpecError(index, layer_type, "unknown_type", f"unknown layer type {layer_type!r}",
                                 value=layer_type, choices=", ".join(LAYER_TYPES))
        args = LAYER_TYPES[layer_type]
        if len(fields) > len(args):
            raise ModelSpecError(index, layer_type, "too_many_fields", f"too many values in {part!r}",
                                 value=part)
        spec = {"type": layer_type}
        for arg, field in zip(args, fields):
            spec[arg.name] = None if field == "" else field
        layers.append(check_layer(spec, index))
    return layers


def encode_shape(shape):
    return "x".join(map(str, shape))


def decode_shape(text):
    """'28x28x1' -> (28, 28, 1); ModelSpecError for anything that is not such a shape."""
    try:
        return check_input_shape(int(d) for d in str(text).split("x"))
    except ValueError:
        raise ModelSpecError(0, "Input", "bad_input_shape", f"bad input shape {text!r}", value=str(text))
