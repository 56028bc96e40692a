"""The runnable Keras code each page shows, written from the same settings the page used.

Every snippet is a complete script in the voice of the keras-io examples: imports, `## ...`
sections, constants at the top, the key numbers printed. Pasted into a fresh Python with
`requirements.txt` installed it runs offline; the tests execute every one of them.
Comments follow the page's language; code and Keras names never change.
"""
from lib.i18n import translate
from lib.models import LAYER_TYPES


def _comment(key, lang, **values):
    return "# " + translate(f"code.{key}", lang, **values)


def _section(key, lang):
    return "\n## " + translate(f"code.{key}", lang) + "\n"


def literal(value):
    """A Python literal as the keras-io examples write it: strings in double quotes."""
    return f'"{value}"' if isinstance(value, str) else repr(value)


def layer_code(spec, seed=None, index=None):
    """`layers.Dense(32, activation="relu")` for one checked layer dict; defaults left out."""
    kind = spec["type"]
    args = []
    for arg in LAYER_TYPES[kind]:
        value = spec.get(arg.name, arg.default)
        if arg.positional:
            args.append(literal(value))
        elif value != arg.default:
            args.append(f"{arg.name}={literal(value)}")
    if seed is not None and kind in ("Dense", "Conv2D"):
        args.append(f"kernel_initializer=keras.initializers.GlorotUniform(seed={seed + index})")
    if seed is not None and kind == "Dropout":
        args.append(f"seed={seed + index}")
    return f"layers.{kind}({', '.join(args)})"


def sequential_code(layers, input_shape, seed=None, indent="    "):
    """The `keras.Sequential([...])` expression for a stack, one layer per line."""
    lines = [f"{indent}keras.Input(shape={tuple(input_shape)!r}),"]
    lines += [f"{indent}{layer_code(spec, seed, i)}," for i, spec in enumerate(layers, start=1)]
    return "keras.Sequential([\n" + "\n".join(lines) + "\n])"


def model_snippet(layers, input_shape, lang):
    """Model & layers: build the stack, print its summary and its total parameter count."""
    return "\n".join([
        f'"""{translate("code.model.doc", lang)}"""',
        "import keras",
        "from keras import layers",
        _section("build_model", lang),
        f"model = {sequential_code(layers, input_shape)}",
        "model.summary()",
        _comment("model.params", lang),
        'print("Total params:", model.count_params())',
        "",
    ])


def pipeline_snippet(lang, epochs=10, batch_size=32):
    """Overview: the whole journey on `digits` — data, layers, compile, fit, evaluate, predict, save, load."""
    return f'''"""{translate("code.pipeline.doc", lang)}"""
import keras
import numpy as np
from keras import layers
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

keras.utils.set_random_seed(0)
{_section("pipeline.data", lang)}
digits = load_digits()
x = (digits.images / 16.0).astype("float32")  # 1,797 images of 8x8 pixels, values 0..1
x_train, x_test, y_train, y_test = train_test_split(
    x, digits.target, test_size=0.2, random_state=0, stratify=digits.target)
print("train:", x_train.shape, "test:", x_test.shape)
{_section("pipeline.layers", lang)}
model = keras.Sequential([
    keras.Input(shape=(8, 8, 1)),
    layers.Conv2D(8, 3, padding="same", activation="relu"),  # {translate("code.pipeline.conv", lang)}
    layers.MaxPooling2D(2),                                   # {translate("code.pipeline.pool", lang)}
    layers.Flatten(),
    layers.Dense(32, activation="relu"),
    layers.Dense(10, activation="softmax"),                   # {translate("code.pipeline.softmax", lang)}
])
{_section("pipeline.compile", lang)}
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
{_section("pipeline.fit", lang)}
model.fit(x_train, y_train, epochs={epochs}, batch_size={batch_size}, verbose=0)
{_section("pipeline.evaluate", lang)}
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test loss {{loss:.3f}}, test accuracy {{accuracy:.3f}}")
probabilities = model.predict(x_test[:5], verbose=0)
print("predicted:", probabilities.argmax(axis=1), "answer key:", y_test[:5])
{_section("pipeline.save", lang)}
model.save("digits_model.keras")
restored = keras.models.load_model("digits_model.keras")
print("same predictions after loading:", np.allclose(restored.predict(x_test[:5], verbose=0), probabilities))
'''
