"""A Keras model rebuilt in this process from plain data that passed the checks: a config and
the weights as arrays (never a pickle, never a file a stranger wrote)."""
from lib.saving.archive import MAX_CONFIG_BYTES, as_bytes, parse_json
from lib.saving.config import check_config
from lib.saving.refusals import BadArchive, check_keras_version, shape_text, size_text

# --- Rebuilding a model in this process from checked plain data --------------------------------

def deserialize(config):
    """A Keras model from a config that passed `check_config`, with safe mode forced on (even if
    something in this thread called keras.config.enable_unsafe_deserialization()). Uncompiled."""
    import keras
    from keras.src.saving.serialization_lib import ObjectSharingScope, SafeModeScope

    import lib.activations  # noqa: F401  registers Maxout

    config = {k: v for k, v in config.items() if k != "compile_config"}
    with SafeModeScope(True), ObjectSharingScope():
        model = keras.saving.deserialize_keras_object(config, safe_mode=True)
    if not isinstance(model, keras.Model):
        raise BadArchive("not_a_model", "the config is not a model", name=str(config.get("class_name")))
    return model


def weight_label(weight):
    """'dense_1/kernel': the layer's name and the weight's, as a student finds them in summary()."""
    return "/".join(weight.path.split("/")[-2:])


def assign_weights(model, arrays):
    """Put `arrays` into `model`, after checking there is one of the right shape per weight."""
    expected = [tuple(int(d) for d in w.shape) for w in model.weights]
    found = [tuple(a.shape) for a in arrays]
    for k, weight in enumerate(model.weights):
        if k >= len(found):
            raise BadArchive("weights_missing", f"no value for {weight.path}", variable=weight_label(weight))
        if found[k] != expected[k]:
            raise BadArchive("weights_mismatch", f"{weight.path}: {found[k]} for {expected[k]}",
                             variable=weight_label(weight), expected=shape_text(expected[k]),
                             found=shape_text(found[k]))
    if len(found) > len(expected):
        raise BadArchive("weights_extra", f"{len(found) - len(expected)} values too many",
                         variable=f"#{len(expected) + 1}")
    model.set_weights(arrays)
    return model


def model_from_architecture(text):
    """A model (fresh weights) from `architecture_json`'s text, or from a student's upload of it:
    checked like a `.keras` config, then `keras.models.model_from_json` in safe mode."""
    check_keras_version()
    raw = text.encode("utf-8") if isinstance(text, str) else as_bytes(text, MAX_CONFIG_BYTES)
    if not raw:
        raise BadArchive("empty", "the file is empty")
    if len(raw) > MAX_CONFIG_BYTES:
        raise BadArchive("too_big", f"{len(raw):,} bytes", size=size_text(len(raw)),
                         limit=size_text(MAX_CONFIG_BYTES))
    config = parse_json(raw, "architecture JSON")
    check_config(config)
    return deserialize(config)
