"""A model config checked against this app's allow-list, then outlined: every layer's shapes and
parameters worked out by the textbook formulas from the config alone, before Keras sees it."""
from lib.saving.outline import (_TENSOR_REFERENCE, MAX_LAYER_OUTPUT, MAX_LAYERS, MAX_PARAMS,  # noqa: F401  (old home)
                                LayerOutline, ModelOutline, outline)
from lib.saving.refusals import BadArchive, UnsafeModel

MAX_CONFIG_DEPTH = 32  # nesting of a Functional config is ~12; deeper is not a Keras config

# --- What a config may name --------------------------------------------------------------------
# (module, class_name) pairs, exactly as Keras 3.15.1 writes them for the models this app builds
# (checked by saving each: the presets, the seed MLP, Maxout stacks, RandomTranslation + Dropout
# + L2) and for a model a student compiled and trained (optimizers, losses and metrics appear in
# `compile_config`, which `compile=False` never deserialises — allowed by name all the same).
ALLOWED_LAYERS = ("InputLayer", "Dense", "Conv2D", "MaxPooling2D", "AveragePooling2D", "Flatten",
                  "Dropout", "Activation", "RandomTranslation", "Maxout")
_ALLOWED = {
    "keras": {"Sequential", "DTypePolicy"},
    "keras.src.models.functional": {"Functional"},
    "keras.layers": set(ALLOWED_LAYERS) - {"Maxout"},
    "lib.activations": {"Maxout"},  # the app's own layer, found by its registered name only
    "keras.initializers": {"Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform",
                           "TruncatedNormal", "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal",
                           "LecunUniform", "LecunNormal", "VarianceScaling", "Orthogonal"},
    "keras.regularizers": {"L1", "L2", "L1L2"},
    "keras.constraints": {"MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm"},
    "keras.optimizers": {"SGD", "RMSprop", "Adam", "Adagrad", "Adadelta", "Adamax", "Nadam", "AdamW", "Lion"},
    "keras.optimizers.schedules": {"ExponentialDecay", "InverseTimeDecay", "PiecewiseConstantDecay",
                                   "PolynomialDecay", "CosineDecay"},
    "keras.losses": {"MeanSquaredError", "MeanAbsoluteError", "Huber", "BinaryCrossentropy",
                     "CategoricalCrossentropy", "SparseCategoricalCrossentropy"},
    "keras.metrics": {"Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
                      "MeanSquaredError", "MeanAbsoluteError", "Mean"},
}
_REGISTERED = {("lib.activations", "Maxout"): "keras_classroom>Maxout"}
# Refused by name, with the reason the student sees: each runs code or reads files when loaded.
FORBIDDEN_CLASSES = ("Lambda", "__lambda__", "TFSMLayer", "TorchModuleWrapper", "JaxLayer", "FlaxLayer",
                     "StringLookup", "IntegerLookup", "TextVectorization")
# Names a config may give as plain strings (Keras looks them up in its own modules).
ACTIVATION_NAMES = ("linear", "relu", "relu6", "sigmoid", "hard_sigmoid", "log_sigmoid", "tanh", "softmax",
                    "log_softmax", "elu", "selu", "celu", "gelu", "silu", "swish", "hard_silu", "hard_swish",
                    "softplus", "softsign", "exponential", "leaky_relu", "mish", "hard_tanh", "tanh_shrink",
                    "soft_shrink", "hard_shrink", "sparse_plus", "sparse_sigmoid", "squareplus", "sparsemax")
# ("glu" is left out: it halves the last dimension, which the shape follower below does not model.)
_STRING_NAMES = {
    "_initializer": {"zeros", "zero", "ones", "one", "constant", "random_normal", "normal", "random_uniform",
                     "uniform", "truncated_normal", "glorot_uniform", "glorot_normal", "he_uniform",
                     "he_normal", "lecun_uniform", "lecun_normal", "variance_scaling", "orthogonal"},
    "_regularizer": {"l1", "l2", "l1l2"},
    "_constraint": {"max_norm", "min_max_norm", "non_neg", "unit_norm"},
}
DTYPES = ("float16", "bfloat16", "float32", "float64", "mixed_float16", "mixed_bfloat16")


# --- Checking a config -------------------------------------------------------------------------

def check_config(config):
    """Check a model config (config.json, or `json.loads(model.to_json())`) and outline it.

    Every dict in it that names a class, module or registered name must be on this app's
    allow-list; activations, initializers and dtypes given as strings must be known names; then
    the layers are followed from the input shape, their shapes and parameter counts worked out
    by the textbook formulas, and the model refused above MAX_PARAMS. Returns a ModelOutline."""
    _check_objects(config, "config", 0)
    return outline(config)


def _check_objects(node, where, depth):
    if depth > MAX_CONFIG_DEPTH:
        raise BadArchive("bad_config", f"nested deeper than {MAX_CONFIG_DEPTH} at {where}", where=where)
    if isinstance(node, list):
        for k, item in enumerate(node):
            _check_objects(item, f"{where}[{k}]", depth + 1)
        return
    if not isinstance(node, dict):
        return
    if {"class_name", "module", "registered_name"} & node.keys():
        _check_class(node, where)
    for key, value in node.items():
        if not isinstance(key, str):
            raise BadArchive("bad_config", f"a key that is not text at {where}", where=where)
        if isinstance(value, str):
            _check_string(key, value, where)
        else:
            _check_objects(value, f"{where}.{key}", depth + 1)


def _check_class(node, where):
    """One serialised object: {"module": ..., "class_name": ..., "config": ..., "registered_name": ...}."""
    name, module, registered = node.get("class_name"), node.get("module"), node.get("registered_name")
    shown = str(name)[:100]
    if not isinstance(name, str):
        if module is not None and module not in _ALLOWED:
            raise UnsafeModel("unknown_module", f"module {module!r} at {where}", name=shown,
                              module=str(module)[:100])
        raise BadArchive("bad_config", f"class_name is not text at {where}", where=where)
    if name == "function":  # a Python function by reference: Keras would import and call it
        raise UnsafeModel("function", f"a function {node.get('config')!r} from {module!r} at {where}",
                          name=str(node.get("config"))[:100], module=str(module)[:100])
    if name in FORBIDDEN_CLASSES:
        raise UnsafeModel("forbidden_class", f"{name} at {where}", name="Lambda" if name == "__lambda__" else name)
    if name == _TENSOR_REFERENCE and module is None and registered is None:
        return
    if not isinstance(module, str) or module not in _ALLOWED:
        raise UnsafeModel("unknown_module", f"module {module!r} of {name} at {where}", name=shown,
                          module=str(module)[:100])
    if name not in _ALLOWED[module]:
        raise UnsafeModel("unknown_class", f"{module}.{name} at {where}", name=shown, module=module,
                          allowed=", ".join(ALLOWED_LAYERS))
    # Keras looks a registered name up before the class name: it must be the one we expect.
    expected = _REGISTERED.get((module, name))
    allowed_registered = (expected,) if expected else (None, name)
    if registered not in allowed_registered:
        raise UnsafeModel("unknown_class", f"registered name {registered!r} of {name} at {where}",
                          name=str(registered)[:100], module=module, allowed=", ".join(ALLOWED_LAYERS))


def _check_string(key, value, where):
    """Strings Keras turns into objects: activations, initializers, regularizers, constraints, dtypes."""
    if key == "activation":
        allowed = ACTIVATION_NAMES
    elif key == "dtype" or (key == "name" and where.endswith(".dtype.config")):
        allowed = DTYPES
    else:
        allowed = next((names for suffix, names in _STRING_NAMES.items() if key.endswith(suffix)), None)
    if allowed is not None and value not in allowed:
        raise UnsafeModel("unknown_name", f"{key}={value!r} at {where}", setting=key, value=value[:100])
