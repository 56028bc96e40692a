"""A model config outlined: every layer's shapes, parameters and multiply-adds worked out by the
textbook formulas from the config alone, layer after layer from the input, before Keras sees it
(Sequential and Functional configs; lib.saving.config checks what a config may name first)."""
import dataclasses
import math

from lib import cost, models
from lib.saving.refusals import BadArchive, UnsafeModel

MAX_PARAMS = models.MAX_PARAMS  # what the builder allows; an upload may not be bigger
MAX_LAYERS = 2 * models.MAX_LAYERS  # the app builds at most 20 (+ the input); room for a student's own
# Numbers one example may produce at any layer of an upload: a sanity bound on the outline's
# arithmetic (256 MB of float32). What a pass may really cost is priced by lib.cost (a batch's
# activations within PASS_MEMORY_BYTES, the mock exam within EXAM_SECONDS) before each pass.
MAX_LAYER_OUTPUT = 2 ** 26
_MODEL_CLASSES = ("Sequential", "Functional")
_TENSOR_REFERENCE = "__keras_tensor__"  # how a Functional config says "the output of layer x"

@dataclasses.dataclass(frozen=True)
class LayerOutline:
    """A layer as the config describes it, with the shapes and parameters worked out by hand."""
    name: str
    class_name: str
    input_shape: tuple
    output_shape: tuple  # without the batch dimension
    params: int
    multiply_adds: int = 0  # for one example (lib.cost's formulas)


@dataclasses.dataclass(frozen=True)
class ModelOutline:
    """A model config, checked: its class, name, layers and parameter count (from the config)."""
    class_name: str
    name: str
    input_shape: tuple
    output_shape: tuple
    layers: tuple  # LayerOutline, InputLayer first

    @property
    def params(self):
        return sum(layer.params for layer in self.layers)

    @property
    def layer_classes(self):
        return [layer.class_name for layer in self.layers]

    @property
    def cost(self):
        """What one example's pass costs (memory, multiply-adds), from the outline alone."""
        return cost.PassCost.of(self.layers)


def outline(config):
    """Follow the layers from the input: shapes and parameter counts, by hand, before Keras."""
    name = config.get("class_name")
    inner = config.get("config")
    if name not in _MODEL_CLASSES or not isinstance(inner, dict):
        raise BadArchive("not_a_model", f"the top object is {name!r}, not a model", name=str(name)[:100])
    layers = inner.get("layers")
    if not isinstance(layers, list) or not all(isinstance(x, dict) for x in layers):
        raise BadArchive("bad_config", "no list of layers", where="config.config.layers")
    if len(layers) > MAX_LAYERS + 1:  # the InputLayer is not counted
        raise UnsafeModel("too_many_layers", f"{len(layers)} layers", count=len(layers), limit=MAX_LAYERS)
    follow = _follow_sequential if name == "Sequential" else _follow_functional
    outlines = follow(config, inner, layers)  # arithmetic only: nothing is allocated for any layer
    names = [x.name for x in outlines]
    if len(set(names)) != len(names):
        raise BadArchive("bad_config", "two layers share a name", where="config.config.layers")
    total = sum(x.params for x in outlines)
    if total > MAX_PARAMS:
        raise UnsafeModel("too_many_params", f"{total:,} parameters; the limit is {MAX_PARAMS:,}",
                          params=f"{total:,}", limit=f"{MAX_PARAMS:,}")
    return ModelOutline(name, str(inner.get("name", ""))[:100], outlines[0].output_shape,
                        outlines[-1].output_shape, tuple(outlines))


def _follow_sequential(config, inner, layers):
    first = layers[0] if layers else {}
    declared = inner.get("build_input_shape") or (config.get("build_config") or {}).get("input_shape")
    if first.get("class_name") == "InputLayer":
        input_outline = _input_layer(first)
        layers = layers[1:]
    elif declared is not None:
        shape = _batch_shape(declared, "config.build_input_shape")
        input_outline = LayerOutline("input", "InputLayer", shape, shape, 0)
    else:
        raise BadArchive("no_input_shape", "the model was saved before it was built")
    if declared is not None and _batch_shape(declared, "config.build_input_shape") != input_outline.output_shape:
        raise BadArchive("config_mismatch", "build_input_shape differs from the InputLayer",
                         layer=input_outline.name, declared=_declared_text(declared),
                         computed=models.shape_text(input_outline.output_shape))
    outlines, shape = [input_outline], input_outline.output_shape
    for k, layer in enumerate(layers, start=1):
        outline = _follow_layer(layer, shape, f"config.config.layers[{k}]")
        outlines.append(outline)
        shape = outline.output_shape
    return outlines


def _follow_functional(config, inner, layers):
    """A Functional graph: one input, one output, each layer called once on one tensor."""
    inputs, outputs = _single_reference(inner.get("input_layers")), _single_reference(inner.get("output_layers"))
    if inputs is None or outputs is None:
        raise UnsafeModel("unsupported_config", "not one input and one output", layer=str(inner.get("name")),
                          option="input_layers/output_layers")
    shapes, outlines = {}, []
    for k, layer in enumerate(layers):
        where = f"config.config.layers[{k}]"
        layer_name = layer.get("name") or (layer.get("config") or {}).get("name")
        if layer.get("class_name") == "InputLayer":
            outline = _input_layer(layer)
        else:
            nodes = layer.get("inbound_nodes")
            if not isinstance(nodes, list) or len(nodes) != 1 or not isinstance(nodes[0], dict):
                raise UnsafeModel("unsupported_config", f"{layer_name} is not called exactly once",
                                  layer=str(layer_name)[:100], option="inbound_nodes")
            args = nodes[0].get("args")
            if not isinstance(args, list) or len(args) != 1 or not isinstance(args[0], dict) \
                    or args[0].get("class_name") != _TENSOR_REFERENCE:
                raise UnsafeModel("unsupported_config", f"{layer_name} does not take one tensor",
                                  layer=str(layer_name)[:100], option="inbound_nodes")
            tensor = args[0].get("config") or {}
            history = tensor.get("keras_history")
            if not (isinstance(history, list) and len(history) == 3 and history[0] in shapes
                    and history[1:] == [0, 0]):
                raise UnsafeModel("unsupported_config", f"{layer_name} takes an unknown tensor",
                                  layer=str(layer_name)[:100], option="keras_history")
            shape = shapes[history[0]]
            if "shape" in tensor and _batch_shape(tensor["shape"], where) != shape:
                raise BadArchive("config_mismatch", f"{layer_name}'s input shape", layer=str(layer_name)[:100],
                                 declared=_declared_text(tensor["shape"]), computed=models.shape_text(shape))
            outline = _follow_layer(layer, shape, where)
        if outline.name in shapes or (layer.get("name") not in (None, outline.name)):
            raise BadArchive("bad_config", f"layer name {outline.name!r} reused or inconsistent", where=where)
        shapes[outline.name] = outline.output_shape
        outlines.append(outline)
    if not outlines or outlines[0].class_name != "InputLayer" or outlines[0].name != inputs[0]:
        raise UnsafeModel("unsupported_config", "the input is not the first layer", layer=str(inputs[0])[:100],
                          option="input_layers")
    if outputs[0] != outlines[-1].name:
        raise UnsafeModel("unsupported_config", "the output is not the last layer", layer=str(outputs[0])[:100],
                          option="output_layers")
    return outlines


def _single_reference(value):
    """["name", 0, 0] or [["name", 0, 0]] -> ["name", 0, 0]; None for anything else."""
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
        value = value[0]
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str) and value[1:] == [0, 0]:
        return value
    return None


def _batch_shape(value, where):
    """[None, 8, 8, 1] -> (8, 8, 1): a batch dimension, then positive whole numbers."""
    if not isinstance(value, list) or not 2 <= len(value) <= 4 or not (value[0] is None or _is_count(value[0])):
        raise BadArchive("bad_config", f"bad shape {value!r}", where=where)
    if not all(_is_count(d) for d in value[1:]):
        raise BadArchive("bad_config", f"bad shape {value!r}", where=where)
    return tuple(value[1:])


def _declared_text(value):
    return "(" + ", ".join("None" if d is None else str(d) for d in value) + ")" if isinstance(value, list) \
        else str(value)[:100]


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _input_layer(layer):
    cfg = layer.get("config") if isinstance(layer.get("config"), dict) else {}
    name = str(cfg.get("name", "input"))[:100]
    for option in ("sparse", "ragged"):
        if cfg.get(option):
            raise UnsafeModel("unsupported_config", f"{option} input", layer=name, option=f"{option}=True")
    shape = _batch_shape(cfg.get("batch_shape", cfg.get("batch_input_shape")), "InputLayer.batch_shape")
    _check_output(name, shape)
    return LayerOutline(name, "InputLayer", shape, shape, 0)


def _check_output(name, shape):
    values = math.prod(shape)
    if values > MAX_LAYER_OUTPUT:
        raise UnsafeModel("too_large_output", f"{name} outputs {values:,} numbers per example", layer=name,
                          values=f"{values:,}", limit=f"{MAX_LAYER_OUTPUT:,}")


def _follow_layer(layer, shape, where):
    """(output shape, parameters) of one allowed layer on an input of `shape` (batch left out)."""
    class_name = layer.get("class_name")
    cfg = layer.get("config")
    if not isinstance(cfg, dict):
        raise BadArchive("bad_config", f"no config at {where}", where=where)
    name = str(cfg.get("name", class_name))[:100]

    def unsupported(option):
        raise UnsafeModel("unsupported_config", f"{name}: {option}", layer=name, option=option)

    def count(key, default=None):
        value = cfg.get(key, default)
        if not _is_count(value):
            raise BadArchive("bad_config", f"{key} of {name} is {value!r}", where=f"{where}.config.{key}")
        return value

    def pair(key, default=None):
        value = cfg.get(key, default)
        value = [value, value] if _is_count(value) else value
        if not (isinstance(value, list) and len(value) == 2 and all(_is_count(v) for v in value)):
            raise BadArchive("bad_config", f"{key} of {name} is {value!r}", where=f"{where}.config.{key}")
        return value

    def choice(key, default, allowed):
        value = cfg.get(key, default)
        if value not in allowed:
            unsupported(f"{key}={value!r}"[:100])
        return value

    for option in ("lora_rank", "quantization_config"):  # both add or change weights
        if cfg.get(option) is not None:
            unsupported(f"{option}={cfg[option]!r}"[:100])
    if class_name in ("Conv2D", "MaxPooling2D", "AveragePooling2D", "RandomTranslation"):
        choice("data_format", None, (None, "channels_last"))
        if len(shape) != 3:
            raise BadArchive("bad_config", f"{name} needs an image input, gets {shape}", where=where)
    use_bias = cfg.get("use_bias", True)
    if not isinstance(use_bias, bool):
        raise BadArchive("bad_config", f"use_bias of {name} is {use_bias!r}", where=f"{where}.config.use_bias")
    if class_name == "Dense":
        units = count("units")
        out, params = shape[:-1] + (units,), shape[-1] * units + units * use_bias
        work = cost.multiply_adds("Dense", shape, out)
    elif class_name == "Maxout":
        units, pieces = count("units"), count("pieces")
        out, params = shape[:-1] + (units,), (shape[-1] + 1) * units * pieces
        work = cost.multiply_adds("Maxout", shape, out, pieces=pieces)
    elif class_name == "Conv2D":
        filters, kernel, strides = count("filters"), pair("kernel_size"), pair("strides", 1)
        dilation, groups = pair("dilation_rate", 1), count("groups", 1)
        padding = choice("padding", "valid", ("valid", "same"))
        channels = shape[2]
        if channels % groups or filters % groups:
            raise BadArchive("bad_config", f"groups={groups} of {name}", where=f"{where}.config.groups")
        windows = [(k - 1) * d + 1 for k, d in zip(kernel, dilation)]
        out = _slide(shape, windows, strides, padding, name, where) + (filters,)
        params = kernel[0] * kernel[1] * (channels // groups) * filters + filters * use_bias
        work = cost.multiply_adds("Conv2D", shape, out, window=kernel, groups=groups)
    elif class_name in ("MaxPooling2D", "AveragePooling2D"):
        pool = pair("pool_size", 2)
        strides = pool if cfg.get("strides") is None else pair("strides")
        padding = choice("padding", "valid", ("valid", "same"))
        out, params = _slide(shape, pool, strides, padding, name, where) + (shape[2],), 0
        work = cost.multiply_adds(class_name, shape, out, window=pool)
    elif class_name == "Flatten":
        out, params, work = (math.prod(shape),), 0, 0
    elif class_name in ("Dropout", "Activation", "RandomTranslation"):
        out, params, work = shape, 0, 0
    else:  # an allowed class that is not a layer here (a model inside a model, an initializer...)
        unsupported(str(class_name)[:100])
    declared = (layer.get("build_config") or {}).get("input_shape") if isinstance(layer.get("build_config"), dict) \
        else None
    if declared is not None and _batch_shape(declared, f"{where}.build_config") != shape:
        # Keras builds a layer's weights from this shape: it must be the one the graph gives.
        raise BadArchive("config_mismatch", f"{name} declares input {declared}", layer=name,
                         declared=_declared_text(declared), computed=models.shape_text(shape))
    _check_output(name, out)
    return LayerOutline(name, str(class_name), shape, out, params, work)


def _slide(shape, windows, strides, padding, name, where):
    """Height and width after a window slides: (n - k) // s + 1 ('valid') or ceil(n / s) ('same')."""
    if padding == "same":
        return tuple(-(-n // s) for n, s in zip(shape[:2], strides))
    out = tuple((n - k) // s + 1 for n, k, s in zip(shape[:2], windows, strides))
    if min(out) < 1:
        raise BadArchive("bad_config", f"{name}'s window is larger than its input {shape}", where=where)
    return out
