"""The runnable Keras code each page shows, written from the same settings the page used.

Every snippet is a complete script in the voice of the keras-io examples: imports, `## ...`
sections, constants at the top, the key numbers printed. Pasted into a fresh Python with
`requirements.txt` installed it runs offline; the tests execute every one of them.
Comments follow the page's language; code and Keras names never change.
"""
from lib.i18n import translate
from lib.models import LAYER_TYPES, PRESETS


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
        if arg.name == "l2":
            if value:
                args.append(f"kernel_regularizer=keras.regularizers.L2({value!r})")
        elif arg.positional:
            args.append(literal(value))
        elif value != arg.default:
            args.append(f"{arg.name}={literal(value)}")
    if kind == "RandomTranslation":  # the same shift up and down as left and right, empty paper at the edge
        args = [args[0], args[0], 'fill_mode="constant"']
    if seed is not None and kind in ("Dense", "Conv2D"):
        args.append(f"kernel_initializer=keras.initializers.GlorotUniform(seed={seed + index})")
    if seed is not None and kind == "Dropout":
        args.append(f"seed={seed + index}")
    return f"layers.{kind}({', '.join(args)})"


def _nest(code, spaces):
    """A multi-line expression placed `spaces` deep: every line after the first indented to match."""
    first, *rest = code.split("\n")
    return "\n".join([first, *(" " * spaces + line for line in rest)])


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


# --- Images: how each page's input is made, step by step --------------------------------------

def array_code(name, array, indent="    "):
    from lib.filters import cell_text

    rows = [f"{indent}[{', '.join(cell_text(v) for v in row)}]," for row in array]
    return f"{name} = np.array([\n" + "\n".join(rows) + '\n], dtype="float32")'


def image_code(source, lang, *, digit_index=0, upload_name="my_image.png", max_side=128, factor=None):
    """The lines that make the page's gray input image, exactly as lib.data makes it."""
    from lib import data

    if source == "digit":
        return "\n".join([
            "from sklearn.datasets import load_digits",
            "",
            _comment("image.digit", lang, index=digit_index),
            f'image = (load_digits().images[{digit_index}] / 16.0).astype("float32")',
        ])
    if source == "upload":
        lines = [
            "from PIL import Image",
            "",
            _comment("image.upload", lang, name=upload_name),
            f'picture = Image.open("{upload_name}")',
            f"picture.draft(\"L\", ({max_side}, {max_side}))  # {translate('code.image.draft', lang)}",
            'image = np.asarray(picture.convert("L"), dtype="float32") / 255.0',
        ]
    else:
        lines = [
            "from sklearn.datasets import load_sample_image",
            "",
            _comment("image.photo", lang),
            f'rgb = load_sample_image("{data.SAMPLE_IMAGES[source]}")',
            'image = (rgb @ np.array([0.299, 0.587, 0.114], dtype="float32") / 255.0).astype("float32")',
        ]
    if factor and factor > 1:
        lines += [
            _comment("image.shrink", lang, factor=factor),
            f"factor = {factor}",
            "h, w = image.shape[0] // factor * factor, image.shape[1] // factor * factor",
            "image = image[:h, :w].reshape(h // factor, factor, w // factor, factor).mean(axis=(1, 3))",
        ]
    return "\n".join(lines)


def conv_lines(kernel, stride, padding, lang):
    """The lines that make `feature_map` from `image` with a Conv2D holding `kernel`."""
    return [
        _section("filters.kernel", lang),
        array_code("kernel", kernel),
        _section("filters.conv", lang),
        f"conv = keras.layers.Conv2D(filters=1, kernel_size=kernel.shape, strides={stride}, "
        f'padding="{padding}", use_bias=False)',
        "conv.build((None, None, None, 1))",
        f"conv.set_weights([kernel[:, :, None, None]])  # {translate('code.filters.weights', lang)}",
        f"feature_map = conv(image[None, :, :, None])  # {translate('code.filters.batch', lang)}",
        "feature_map = keras.ops.convert_to_numpy(feature_map)[0, :, :, 0]",
    ]


def filters_snippet(*, source, kernel, stride, padding, pixel, lang, digit_index=0, upload_name=None,
                    factor=None):
    """Convolution filters: a Conv2D whose only weights are the kernel, on the page's image."""
    row, col = pixel
    return "\n".join([
        f'"""{translate("code.filters.doc", lang)}"""',
        "import keras",
        "import numpy as np",
        image_code(source, lang, digit_index=digit_index, upload_name=upload_name or "my_image.png",
                   factor=factor),
        'print("input:", image.shape)',
        *conv_lines(kernel, stride, padding, lang),
        'print("feature map:", feature_map.shape)',
        f'print("at row {row}, column {col}:", round(float(feature_map[{row}, {col}]), 3))',
        'print("min:", round(float(feature_map.min()), 3), "max:", round(float(feature_map.max()), 3))',
        "",
    ])


def pooling_snippet(*, image_how, conv, pool_size, strides, padding, mode, lang):
    """Pooling: the Keras pooling layer on the page's input (a photo, a digit, or the feature map
    of the filters page, whose Conv2D is then written out too)."""
    kind = "Max" if mode == "max" else "Average"
    how = dict(image_how)
    lines = [
        f'"""{translate("code.pooling.doc", lang, layer=f"{kind}Pooling2D")}"""',
        "import keras",
        "import numpy as np",
        image_code(how.pop("source"), lang, **how),
    ]
    if conv is not None:
        lines += [*conv_lines(*conv, lang), f"image = feature_map  # {translate('code.pooling.pool_the_map', lang)}"]
    lines += [
        'print("input:", image.shape)',
        _section(f"pooling.{mode}", lang),
        f'pool = keras.layers.{kind}Pooling2D(pool_size={pool_size}, strides={strides}, padding="{padding}")',
        "pooled = keras.ops.convert_to_numpy(pool(image[None, :, :, None]))[0, :, :, 0]",
        'print("pooled:", pooled.shape)',
        'print("first row:", np.round(pooled[0, :4], 3))',
        'print("trainable parameters:", pool.count_params())',
        _section("pooling.global", lang),
        f"whole = keras.layers.Global{kind}Pooling2D()(image[None, :, :, None])",
        f'print("Global{kind}Pooling2D:", round(float(whole[0, 0]), 3))',
        "",
    ]
    return "\n".join(lines)


# --- Training: the Job, as code -------------------------------------------------------------

def data_code(data, lang):
    """Lines that make x_train, y_train, x_test, y_test exactly as lib.training.load_arrays does."""
    shape = tuple(data["reshape"])
    if data["dataset"] == "digits":
        lines = [
            "from sklearn.datasets import load_digits",
            "from sklearn.model_selection import train_test_split",
            "",
            "digits = load_digits()",
            'x = (digits.images / 16.0).astype("float32")  # 1,797 images of 8 x 8 pixels, values 0..1',
            "x_train, x_test, y_train, y_test = train_test_split(",
            f"    x, digits.target, test_size={data.get('test_size', 0.2)}, random_state=0, stratify=digits.target)",
        ]
    else:
        lines = [
            f"(x_train, y_train), (x_test, y_test) = keras.datasets.{data['dataset']}.load_data()",
            'x_train, x_test = x_train.astype("float32") / 255.0, x_test.astype("float32") / 255.0',
        ]
    if data.get("train_samples"):
        lines.append(f"x_train, y_train = x_train[:{data['train_samples']}], y_train[:{data['train_samples']}]"
                     f"  # {translate('code.training.slice', lang)}")
    lines.append(f"x_train, x_test = x_train.reshape((-1, *{shape})), x_test.reshape((-1, *{shape}))")
    return "\n".join(lines)


def optimizer_code(spec):
    options = "".join(f", {k}={literal(v)}" for k, v in spec.get("options", {}).items())
    return f"keras.optimizers.{spec.get('optimizer', 'Adam')}(learning_rate={spec.get('learning_rate', 0.001)!r}{options})"


def _validation(fit):
    if fit.get("validation") == "test":
        return "validation_data=(x_test, y_test)"
    return f"validation_split={fit.get('validation_split', 0.0)}"


def training_snippet(job, lang):
    """Training: the exact data, model, compile and fit of a `lib.training.Job`, and its scores."""
    fit, early = job.fit, job.fit.get("early_stopping")
    callbacks = ""
    if early:
        callbacks = (f",\n    callbacks=[keras.callbacks.EarlyStopping(monitor=\"val_loss\", patience={early['patience']}, "
                     f"restore_best_weights={early.get('restore_best_weights', True)})]")
    return "\n".join([
        f'"""{translate("code.training.doc", lang)}"""',
        "import keras",
        "from keras import layers",
        "",
        f"keras.utils.set_random_seed({job.seed})  # {translate('code.training.seed', lang)}",
        _section("training.data", lang),
        data_code(job.data, lang),
        'print("train:", x_train.shape, "test:", x_test.shape)',
        _section("build_model", lang),
        f"model = {sequential_code(job.model['layers'], job.model['input_shape'])}",
        _section("training.compile", lang),
        f"model.compile(optimizer={optimizer_code(job.compile)},",
        f'              loss="{job.compile.get("loss", "sparse_categorical_crossentropy")}", metrics=["accuracy"])',
        _section("training.fit", lang),
        f"history = model.fit(x_train, y_train, epochs={fit['epochs']}, batch_size={fit['batch_size']}, "
        f"{_validation(fit)}, verbose=0{callbacks})",
        'print("epochs run:", len(history.history["loss"]))',
        'print("train accuracy:", round(history.history["accuracy"][-1], 3))',
        'print("validation accuracy:", round(history.history["val_accuracy"][-1], 3))',
        _section("training.evaluate", lang),
        "loss, accuracy = model.evaluate(x_test, y_test, verbose=0)",
        'print("test accuracy:", round(accuracy, 3))',
        "",
    ])


def curve_snippet(job, lang):
    """Overfitting in 1-D: the noisy points, the wide network, its fit, the losses the page shows."""
    from lib.overfitting import curve_layers

    n, epochs, kwargs = len(job.data["x_train"]), job.fit["epochs"], job.model["kwargs"]
    return "\n".join([
        f'"""{translate("code.curve.doc", lang)}"""',
        "import keras",
        "import numpy as np",
        "from keras import layers",
        "",
        f"keras.utils.set_random_seed({job.seed})",
        _section("curve.data", lang),
        "def noisy_points(n, noise, seed):",
        "    rng = np.random.default_rng(seed)",
        '    x = np.sort(rng.uniform(-1.0, 1.0, n)).astype("float32")',
        f'    y = np.sin(np.pi * x) + rng.normal(0, noise, n).astype("float32")  # {translate("code.curve.truth", lang)}',
        '    return x[:, None], y[:, None].astype("float32")',
        "",
        f"x, y = noisy_points({n}, {job.data['noise']!r}, seed={job.seed})",
        f"x_val, y_val = noisy_points({len(job.data['x_test'])}, {job.data['noise']!r}, seed={job.seed + 1000})",
        _section("build_model", lang),
        f"model = {sequential_code(curve_layers(**kwargs), (1,))}",
        f"model.compile(optimizer={optimizer_code(job.compile)}, loss=\"mse\")",
        f"history = model.fit(x, y, epochs={epochs}, batch_size={n}, validation_data=(x_val, y_val), "
        f"validation_freq={job.fit.get('validation_freq', 1)}, verbose=0)",
        'print("training loss:", round(history.history["loss"][-1], 4))',
        'print("validation loss:", round(history.history["val_loss"][-1], 4))',
        "",
    ])


# --- Activations ------------------------------------------------------------------------------

MAXOUT_CODE = '''@keras.saving.register_keras_serializable(package="keras_classroom")
class Maxout(layers.Layer):
    """units outputs, each the largest of `pieces` linear functions of the inputs."""

    def __init__(self, units, pieces, **kwargs):
        super().__init__(**kwargs)
        self.units, self.pieces = units, pieces

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units * self.pieces), name="kernel")
        self.bias = self.add_weight(shape=(self.units * self.pieces,), initializer="zeros", name="bias")

    def call(self, inputs):
        z = keras.ops.matmul(inputs, self.kernel) + self.bias
        return keras.ops.max(keras.ops.reshape(z, (-1, self.units, self.pieces)), axis=-1)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "pieces": self.pieces}
'''


def activations_snippet(names, x0, logits, temperature, true_class, lang):
    """Activations: each function and its slope by GradientTape at x, the softmax of the scores
    with its cross-entropy, and activations inside a model, as in the study note."""
    from lib.activations import MAXOUT_PIECES

    lines = [
        f'"""{translate("code.activations.doc", lang)}"""',
        "import keras",
        "import numpy as np",
        "import tensorflow as tf",
        "from keras import layers",
    ]
    functions = [n for n in names if n != "maxout"]
    if "maxout" in names:
        weights = [w for w, _ in MAXOUT_PIECES]
        biases = [b for _, b in MAXOUT_PIECES]
        lines += [_section("activations.maxout", lang), MAXOUT_CODE,
                  f'maxout = Maxout(units=1, pieces={len(MAXOUT_PIECES)}, name="maxout_example")',
                  "maxout.build((None, 1))",
                  f'maxout.set_weights([np.array([{weights}], dtype="float32"), np.array({biases}, dtype="float32")])']
    lines += [
        _section("activations.slope", lang),
        f"x = tf.constant([{float(x0)!r}])",
        "functions = {" + ", ".join([f'"{n}": keras.activations.get("{n}")' for n in functions]
                                    + (['"maxout": lambda v: maxout(tf.reshape(v, (-1, 1)))[:, 0]']
                                       if "maxout" in names else [])) + "}",
        "for name, function in functions.items():",
        "    with tf.GradientTape() as tape:",
        "        tape.watch(x)",
        "        y = function(x)",
        '    print(f"{name}: f({x[0]:g}) = {float(y[0]):.4f}, f\'({x[0]:g}) = {float(tape.gradient(y, x)[0]):.4f}")',
        _section("activations.softmax", lang),
        f'logits = np.array([{", ".join(repr(float(v)) for v in logits)}], dtype="float32")',
        f"probabilities = keras.activations.softmax(logits[None] / np.float32({float(temperature)!r}))[0]",
        'print("probabilities:", np.round(np.asarray(probabilities), 4), "sum:", round(float(np.sum(probabilities)), 3))',
        f"loss = keras.losses.sparse_categorical_crossentropy(np.array([{true_class}]), probabilities[None])",
        f'print("cross-entropy for true class {true_class}:", round(float(loss[0]), 4))',
        _section("activations.model", lang),
        "model = keras.Sequential([",
        "    keras.Input(shape=(784,)),",
        "    layers.Dense(32),",
        '    layers.Activation("relu"),  # ' + translate("code.activations.layer_form", lang),
        '    layers.Dense(10, activation="softmax"),  # ' + translate("code.activations.argument_form", lang),
        "])",
        'print("Total params:", model.count_params())',
        "",
    ]
    return "\n".join(lines)


# --- Optimizers -------------------------------------------------------------------------------

def trajectory_snippet(surface, racers, learning_rate, steps, start, lang):
    """Optimizers: each racer (label, Keras name, options) stepping a keras.Variable down the
    surface with GradientTape and apply_gradients — the loop the page ran, compiled there."""
    minima = list(surface.minima)
    lines = [
        f'"""{translate("code.optimizers.doc", lang)}"""',
        "import keras",
        "import numpy as np",
        "import tensorflow as tf",
        "",
        f"def surface(x, y):  # {translate(f'optimizers.surfaces.{surface.name}', lang)}",
        f"    return {surface.formula}",
        "",
        f"MINIMA = {minima!r}",
        f"START = [{float(start[0])!r}, {float(start[1])!r}]",
        _section("optimizers.racers", lang),
        "racers = {",
        *[f'    "{label}": {optimizer_code({"optimizer": name, "learning_rate": learning_rate, "options": options})},'
          for label, name, options in racers],
        "}",
        _section("optimizers.walk", lang),
        "for name, optimizer in racers.items():",
        '    point = keras.Variable(np.array(START, dtype="float32"))',
        f"    for step in range({steps}):",
        "        with tf.GradientTape() as tape:",
        "            loss = surface(point[0], point[1])",
        "        optimizer.apply_gradients([(tape.gradient(loss, point), point)])",
        "    x, y = (float(v) for v in point.numpy())",
        "    if not np.isfinite([x, y]).all():",
        f'        print(f"{{name}}: {translate("code.optimizers.diverged", lang)}")',
        "        continue",
        "    distance = min((np.hypot(x - mx, y - my) for mx, my in MINIMA), default=float(\"nan\"))",
        '    print(f"{name}: loss {surface(x, y):.6g}, distance to the minimum {distance:.4g}")',
        "",
    ]
    return "\n".join(lines)


def optimizer_race_snippet(racers, learning_rate, epochs, lang):
    """Optimizers on real data: the study note's model on the digits, trained with each optimizer
    from the same initial weights, on the same batches, and its validation accuracy."""
    return "\n".join([
        f'"""{translate("code.race.doc", lang)}"""',
        "import keras",
        "from keras import layers",
        "from sklearn.datasets import load_digits",
        "from sklearn.model_selection import train_test_split",
        "",
        "digits = load_digits()",
        'x = (digits.images / 16.0).astype("float32").reshape(-1, 64)',
        "x_train, x_test, y_train, y_test = train_test_split(",
        "    x, digits.target, test_size=0.2, random_state=0, stratify=digits.target)",
        "",
        "optimizers = [",
        *[f"    {optimizer_code({'optimizer': name, 'learning_rate': learning_rate, 'options': options})},"
          for name, options in racers],
        "]",
        "for optimizer in optimizers:",
        f"    keras.utils.set_random_seed(0)  # {translate('code.race.same_start', lang)}",
        f"    model = {_nest(sequential_code(PRESETS['seed'][1], (64,)), 4)}",
        '    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])',
        f"    for epoch in range({epochs}):",
        f"        keras.utils.set_random_seed(0 + epoch)  # {translate('code.race.same_batches', lang)}",
        "        history = model.fit(x_train, y_train, epochs=epoch + 1, initial_epoch=epoch, batch_size=32,",
        "                            validation_split=0.2, verbose=0)",
        "    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)",
        '    print(f"{type(optimizer).__name__}: validation accuracy {history.history[\'val_accuracy\'][-1]:.3f}, '
        'test accuracy {accuracy:.3f}")',
        "",
    ])


# --- Loss & metrics ---------------------------------------------------------------------------

def losses_snippet(slope, intercept, outlier, experiment, lang):
    """Loss & metrics: keras.losses on the page's line, then the same model compiled with each of
    two losses and the same metrics, fitted, and evaluated as the study note does."""
    from lib.losses import EXPERIMENTS, OUTLIER

    losses, metrics, epochs = EXPERIMENTS[experiment]
    names = ", ".join(["loss", *metrics])
    lines = [
        f'"""{translate("code.losses.doc", lang)}"""',
        "import keras",
        "import numpy as np",
        "from keras import layers",
        _section("losses.points", lang),
        "rng = np.random.default_rng(0)",
        'x = np.linspace(-1, 1, 10, dtype="float32")',
        'y = (2 * x + 1 + rng.normal(0, 0.25, 10)).astype("float32")',
    ]
    if outlier:
        lines.append(f"x, y = np.append(x, np.float32({OUTLIER[0]})), np.append(y, np.float32({OUTLIER[1]}))"
                     f"  # {translate('code.losses.outlier', lang)}")
    lines += [
        "x, y = x[:, None], y[:, None]",
        f"prediction = np.float32({float(slope)!r}) * x + np.float32({float(intercept)!r})",
        'print("MSE:", round(float(keras.losses.MeanSquaredError()(y, prediction)), 4))',
        'print("MAE:", round(float(keras.losses.MeanAbsoluteError()(y, prediction)), 4))',
        'print("Huber:", round(float(keras.losses.Huber()(y, prediction)), 4))',
        _section("losses.experiment", lang),
    ]
    if experiment == "line":
        lines += ["x_train, y_train = x, y", "x_test, y_test = x, y",
                  "def make_model():", "    return keras.Sequential([keras.Input(shape=(1,)), layers.Dense(1)])",
                  "optimizer = lambda: keras.optimizers.Adam(learning_rate=0.1)", "batch_size = len(x_train)",
                  "fit_extra = {}"]
    else:
        lines += ["# " + translate("code.losses.moons", lang), *_toy_moons_code().splitlines(),
                  "def make_model():",
                  '    return keras.Sequential([keras.Input(shape=(2,)), layers.Dense(8, activation="relu"),',
                  '                             layers.Dense(1, activation="sigmoid")])',
                  "optimizer = lambda: keras.optimizers.Adam(learning_rate=0.05)", "batch_size = 50",
                  "fit_extra = {\"validation_data\": (x_test, y_test)}"]
    lines += [
        f"for loss_function in {list(losses)!r}:",
        f"    keras.utils.set_random_seed(0)  # {translate('code.race.same_start', lang)}",
        "    model = make_model()",
        f"    model.compile(optimizer=optimizer(), loss=loss_function, metrics={list(metrics)!r})",
        f"    model.fit(x_train, y_train, epochs={epochs}, batch_size=batch_size, verbose=0, **fit_extra)",
        f"    {names} = model.evaluate(x_test, y_test, verbose=0)  # {translate('code.losses.seed', lang)}",
        "    print(f\"trained with {loss_function}: " + ", ".join(f"{n} {{{n}:.3f}}" for n in ["loss", *metrics]) + "\")",
        "",
    ]
    return "\n".join(lines)


def _toy_moons_code():
    """The moons of lib.data.toy_2d, written out (numpy, the same seed)."""
    return "\n".join([
        "rng = np.random.default_rng(0)",
        "n = 300",
        "labels = np.repeat([0, 1], [n - n // 2, n // 2])",
        "angle = rng.uniform(0, np.pi, n)",
        "points = np.where(labels[:, None] == 0, np.column_stack([np.cos(angle), np.sin(angle)]),",
        "                  np.column_stack([1 - np.cos(angle), 0.5 - np.sin(angle)]))",
        "points = (points - [0.5, 0.25]) / 1.5",
        "points = points + rng.normal(0, 0.15, points.shape)",
        "order = rng.permutation(n)",
        'points, labels = points[order].astype("float32"), labels[order].astype("int64")',
        'x_train, y_train = points[:200], labels[:200, None].astype("float32")',
        'x_test, y_test = points[200:], labels[200:, None].astype("float32")',
    ])
