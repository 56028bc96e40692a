"""The runnable Keras code each page shows, written from the same settings the page used.

Every lesson has one template in `templates/` in the voice of the keras-io examples: a
docstring, imports, a block of constants at the top, `## ...` sections, the key numbers
printed. `render` fills it: `«NAME»` takes a setting (written as a Python literal) or a piece of
code (`Code`, indented to where the marker stands); `«t:key»` takes the page-language text of
`code.<key>`. Pieces the app itself uses — the Maxout layer, the toy data, the noisy points,
the digits split, the photo shrinking — are taken from the real functions (`source_of`), so a
change to `lib` changes the shown code too. Pasted into a fresh Python with `requirements.txt`
installed, every snippet runs (offline, except those that download MNIST) and prints the
numbers the page shows; the tests execute every one of them.
"""
import math

from lib.i18n import translate
from lib.snippets.render import MARKER, TEMPLATES, Code, literal, piece, render, source_in, source_of  # noqa: F401


# --- Pieces every lesson uses -----------------------------------------------------------------

def layer_code(spec, seed=None, index=None):
    """`layers.Dense(32, activation="relu")` for one checked layer dict; defaults left out."""
    from lib.models import LAYER_TYPES

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


def sequential_code(layers, input_shape="INPUT_SHAPE", seed=None, name=None):
    """The `keras.Sequential([...])` expression for a stack, one layer per line; the input shape
    is a constant's name or a shape. With `name` (the model's), every layer gets the name
    lib.models gives it, so a saved file's config reads the same as the page's."""
    from lib.models import check_layer, layer_name

    shape = input_shape if isinstance(input_shape, str) else literal(tuple(input_shape))
    lines = [f"    keras.Input(shape={shape}{', name=' + literal('input') if name else ''}),"]
    for i, spec in enumerate(layers, start=1):
        code = layer_code(check_layer(spec, i), seed, i)
        if name:
            code = code[:-1] + (", " if code[-2] != "(" else "") + f'name="{layer_name(i, spec["type"])}")'
        lines.append(f"    {code},")
    model_name = f", name={literal(name)}" if name else ""
    return Code("keras.Sequential([\n" + "\n".join(lines) + f"\n]{model_name})")


def optimizer_code(spec, learning_rate="LEARNING_RATE"):
    """`keras.optimizers.SGD(learning_rate=LEARNING_RATE, momentum=0.9)` for a Compile."""
    options = "".join(f", {k}={literal(v)}" for k, v in spec.options.items())
    return Code(f"keras.optimizers.{spec.optimizer}(learning_rate={learning_rate}{options})")


def _digits_split():
    """data.digits_split's own source, its default test share written out (the snippet has no
    data.TEST_SIZE to refer to)."""
    from lib import data

    return Code(source_of(data.digits_split).replace("test_size=TEST_SIZE", f"test_size={data.TEST_SIZE!r}"))


def _stop_when_diverged():
    return source_in("lib.training.worker", "StopWhenDiverged")


# --- Model & layers, Overview ---------------------------------------------------------------

def model_snippet(layers, input_shape, lang, unit=None):
    """Model & layers: build the stack (seeded, as the page builds it), print its summary and its
    total parameter count, and with `unit` ((Dense layer name, its position, unit)) that unit's arithmetic."""
    unit_code = Code("")
    if unit is not None:
        if math.prod(input_shape) == 64:
            example = Code("from sklearn.datasets import load_digits\n\n"
                           "x = (load_digits().images[0] / 16.0).astype(\"float32\").reshape(INPUT_SHAPE)")
        else:
            example = Code('x = np.random.default_rng(0).uniform(0, 1, INPUT_SHAPE).astype("float32")')
        unit_code = piece("dense_unit", lang, layer=unit[0], position=unit[1], unit=unit[2], example=example)
    return render("model", lang, input_shape=tuple(input_shape), model=sequential_code(layers, seed=0), unit=unit_code)


def pipeline_snippet(lang, epochs=10, batch_size=32):
    """Overview: the whole journey on `digits` — data, layers, compile, fit, evaluate, predict, save, load."""
    return render("pipeline", lang, seed=0, test_size=0.2, epochs=epochs, batch_size=batch_size,
                  digits_split=_digits_split())


# --- Images: how each page's input is made ---------------------------------------------------

def image_code(lang, *, source, digit_index=0, upload_name="my_image.png", max_side=128, factor=1):
    """The lines that make the page's gray input image, exactly as lib.data makes it."""
    from lib import data

    if source == "digit":
        return piece("image_digit", lang, index=digit_index)
    shrink = Code("")
    if factor > 1:
        shrink = piece("shrink", lang, functions=source_of(data.shrink_factor, data.downscale),
                       max_side=max_side, factor=factor)
    if source == "upload":
        return piece("image_upload", lang, name=upload_name, max_side=max_side, shrink=shrink)
    return piece("image_photo", lang, file=data.SAMPLE_IMAGES[source], luma=[float(v) for v in data.LUMA],
                 shrink=shrink)


def kernel_code(kernel):
    """A kernel as an np.array literal, its cells as a student would type them (1/9, -0.5)."""
    from lib.filters import cell_text

    rows = [f"    [{', '.join(cell_text(v) for v in row)}]," for row in kernel]
    return Code("np.array([\n" + "\n".join(rows) + '\n], dtype="float32")')


def conv_code(lang, kernel, *, stride="STRIDE", padding="PADDING"):
    return piece("conv", lang, kernel=kernel_code(kernel), stride=Code(stride), padding=Code(padding))


def filters_snippet(*, kernel, stride, padding, pixel, lang, **image):
    """Convolution filters: a Conv2D whose only weights are the kernel, on the page's image."""
    return render("filters", lang, stride=stride, padding=padding, row=pixel[0], col=pixel[1],
                  image=image_code(lang, **image), conv=conv_code(lang, kernel))


def pooling_snippet(*, image_how, conv, pool_size, strides, padding, mode, lang):
    """Pooling: the Keras pooling layer on the page's input (a photo, a digit, or the feature map
    of the filters page, whose Conv2D is then written out too)."""
    layer = f"{'Max' if mode == 'max' else 'Average'}Pooling2D"
    settings, conv_lines = Code(""), Code("")
    if conv is not None:
        kernel, conv_stride, conv_padding = conv
        settings = Code(f"CONV_STRIDE = {conv_stride!r}\nCONV_PADDING = {literal(conv_padding)}")
        conv_lines = Code(conv_code(lang, kernel, stride="CONV_STRIDE", padding="CONV_PADDING")
                          + f"\nimage = feature_map  # {translate('code.pooling.pool_the_map', lang)}")
    return render("pooling", lang, pool_size=pool_size, strides=strides, padding=padding, conv_settings=settings,
                  image=image_code(lang, **image_how), conv=conv_lines, layer=Code(layer),
                  heading=Code(translate(f"code.pooling.{mode}", lang)))


# --- Training: a Job, as code ------------------------------------------------------------------

def data_code(images, lang):
    """(settings, the lines that load the data, the lines that split and shape it) for an
    `Images` part of a job — exactly as `Images.arrays` makes the arrays."""
    settings = []
    if images.name == "digits":
        settings.append(f"TEST_SIZE = {images.test_size!r}")
        load = piece("digits_data", lang, digits_split=_digits_split())
    else:
        load = piece("online_data", lang, name=Code(images.name))
    split = []
    if images.validation:
        settings.append(f"VALIDATION = {images.validation!r}  # {translate('code.training.validation', lang)}")
        split += ["x_val, y_val = x_train[-VALIDATION:], y_train[-VALIDATION:]",
                  "x_train, y_train = x_train[:-VALIDATION], y_train[:-VALIDATION]"]
    if images.train_samples:
        settings.append(f"TRAIN_SAMPLES = {images.train_samples!r}  # {translate('code.training.slice', lang)}")
        split.append("x_train, y_train = x_train[:TRAIN_SAMPLES], y_train[:TRAIN_SAMPLES]")
    shaped = ["x_train", "x_test"] + (["x_val"] if images.validation else [])
    split.append(f"{', '.join(shaped)} = {', '.join(f'{x}.reshape((-1, *INPUT_SHAPE))' for x in shaped)}")
    return Code("\n".join(settings)), load, Code("\n".join(split))


def _training_values(job, lang):
    from lib.training.run import DIVERGED_FACTOR

    data_settings, load, split = data_code(job.data, lang)
    fit, early = job.fit, job.fit.early_stopping
    fit_settings = [f"VALIDATION_SPLIT = {fit.validation_split!r}"] if fit.validation_split else []
    callbacks = ["StopWhenDiverged()"]
    if early:
        fit_settings.append(f"PATIENCE = {early.patience!r}")
        callbacks.append(f'keras.callbacks.EarlyStopping(monitor="val_loss", patience=PATIENCE, '
                         f"restore_best_weights={early.restore_best_weights!r})")
    validation = "validation_data=(x_val, y_val)" if job.data.validation else "validation_split=VALIDATION_SPLIT"
    return dict(seed=job.seed, data_settings=data_settings, input_shape=job.model.input_shape,
                learning_rate=job.compile.learning_rate, epochs=fit.epochs, batch_size=fit.batch_size,
                fit_settings=Code("\n".join(fit_settings)), diverged_factor=DIVERGED_FACTOR, data=load, split=split,
                model=sequential_code(job.model.layers), stop_when_diverged=_stop_when_diverged(),
                optimizer=optimizer_code(job.compile), loss=job.compile.loss, validation=Code(validation),
                callbacks=Code("[" + ", ".join(callbacks) + "]"), choose=Code(""))


def training_snippet(job, lang):
    """Training: the exact data, model, compile and fit of a classifier Job, and the scores the
    page shows (the test once, at the end)."""
    return render("training", lang, **_training_values(job, lang))


def overfitting_snippet(job, lang):
    """Overfitting on the digits: the Job's data, model, compile and fit as Training shows them,
    with ModelCheckpoint(save_best_only=True) keeping the epoch of lowest val_loss; then what
    training mode hides (the final model evaluated with Dropout off, Keras's val_loss less its
    L2 penalty, λΣw² by numpy beside model.losses), and the best epoch loaded back for the one
    test."""
    values = _training_values(job, lang)
    checkpoint = 'keras.callbacks.ModelCheckpoint(CHECKPOINT, monitor="val_loss", save_best_only=True)'
    values["callbacks"] = Code(values["callbacks"][:-1] + ",\n" + " " * len("callbacks=[") + checkpoint + "]")
    values["fit_settings"] = Code("\n".join([*filter(None, [values["fit_settings"]]),
                                             f'CHECKPOINT = "best.keras"  # {translate("code.choose.file", lang)}']))
    l2 = any(layer.get("l2") for layer in job.model.layers)
    values["choose"] = Code(piece("choose", lang, l2=piece("choose_l2", lang) if l2 else Code("")) + "\n")
    return render("training", lang, **values)


def curve_snippet(job, noise, lang, run=None):
    """Overfitting in 1-D: the noisy points (`noise` is the page's), the wide network, its fit,
    and the losses the page shows. With `run` (the page's run of this job) that stopped short —
    its time budget ran out —, the epochs it did, so the code prints the same losses (a run of
    other settings changes nothing)."""
    from lib import overfitting

    epochs = job.fit.epochs
    if run is not None and run.result is not None and run.epochs_done() < epochs and run.job.key == job.key:
        note = translate("code.curve.stopped", lang, asked=epochs)
        epochs = Code(f"{run.epochs_done()}  # {note}")
    return render("curve", lang, seed=job.seed, points=len(job.data.x_train), noise=float(noise),
                  validation_points=len(job.data.x_val), learning_rate=job.compile.learning_rate,
                  epochs=epochs, validation_freq=job.fit.validation_freq, curve_range=overfitting.CURVE_RANGE,
                  functions=source_of(overfitting.true_curve, overfitting.noisy_points),
                  model=sequential_code(overfitting.curve_layers(**job.model.kwargs), (1,)))


def dropout_snippet(rate, lang):
    """Overfitting's training and inference mode: the real Dropout layer of the page's demo
    (lib.overfitting.dropout_demo) on a vector of ones, both ways."""
    from lib import overfitting

    return render("modes", lang, rate=float(rate), seed=0, size=overfitting.DEMO_SIZE)


# --- Activations --------------------------------------------------------------------------------

def activations_snippet(names, x0, logits, temperature, true_class, lang):
    """Activations: each function and its slope by GradientTape at x, the softmax of the scores
    with its cross-entropy, and activations inside a model, as in the study note."""
    from lib import activations

    functions = [f'"{n}": keras.activations.get("{n}")' for n in names if n != "maxout"]
    maxout = Code("")
    if "maxout" in names:
        pieces = activations.MAXOUT_PIECES
        maxout = piece("maxout", lang, maxout_class=source_of(activations.Maxout), pieces=len(pieces),
                       weights=[w for w, _ in pieces], biases=[b for _, b in pieces])
        functions.append('"maxout": lambda v: maxout(tf.reshape(v, (-1, 1)))[:, 0]')
    return render("activations", lang, x=float(x0), logits=[float(v) for v in logits], temperature=float(temperature),
                  true_class=int(true_class), maxout=maxout, functions=Code("{" + ", ".join(functions) + "}"))


# --- Optimizers -----------------------------------------------------------------------------------

def trajectory_snippet(surface, racers, learning_rate, steps, start, lang):
    """Optimizers: each racer (label, Compile) stepping a keras.Variable down the surface with
    GradientTape and apply_gradients — the loop the page ran, compiled there."""
    lines = [f'"{label}": {optimizer_code(spec)},' for label, spec in racers]
    return render("trajectory", lang, learning_rate=learning_rate, steps=steps,
                  start=[float(start[0]), float(start[1])], minima=[tuple(m) for m in surface.minima],
                  surface_name=Code(translate(f"optimizers.surfaces.{surface.name}", lang)),
                  formula=Code(surface.formula), racers=Code("\n".join(lines)))


def optimizer_race_snippet(job, lang, labels=None):
    """Optimizers on real data: the race Job as code — one model per optimizer from the same
    initial weights, on the same batches, each stopped alone if it diverges; the best chosen on
    validation accuracy, and only it scored on the test data, once. `labels` name the racers as
    the page does (default: the Keras class names)."""
    from lib.training.run import DIVERGED_FACTOR

    labels = labels or [spec.optimizer + "".join(f" {k}={v}" for k, v in spec.options.items()) for spec in job.racers]
    lines = [f"{literal(label)}: {optimizer_code(spec)}," for label, spec in zip(labels, job.racers)]
    return render("race", lang, seed=job.seed, test_size=job.data.test_size, learning_rate=job.compile.learning_rate,
                  epochs=job.fit.epochs, batch_size=job.fit.batch_size, validation_split=job.fit.validation_split,
                  diverged_factor=DIVERGED_FACTOR, digits_split=_digits_split(),
                  stop_when_diverged=_stop_when_diverged(), optimizers=Code("\n".join(lines)),
                  model=sequential_code(job.model.layers, (64,)))


# --- Loss & metrics -------------------------------------------------------------------------------

def losses_snippet(slope, intercept, outlier, experiment, job, lang):
    """Loss & metrics: keras.losses on the page's line, then the race Job — the same model,
    trained once per loss, the same metrics reported for both — as code."""
    from lib import data, losses, models

    metrics = list(job.compile.metrics)
    names = ["loss", *metrics]
    validation = Code(", validation_data=(x_val, y_val)")
    if experiment == "line":
        data_lines, layers, shape = Code("x_train, y_train = x_test, y_test = x, y"), losses.LINE_LAYERS, (1,)
        validation = Code("")
    elif experiment == "seed":
        data_lines = piece("seed_data", lang, digits_split=_digits_split(), validation=losses.SEED_VALIDATION)
        layers, shape = models.PRESETS["seed"][1], (64,)
    else:
        data_lines = piece("moons_data", lang, toy_sets=data.TOY_SETS, toy_2d=source_of(data.toy_2d),
                           n=losses.MOONS_POINTS, noise=0.15)
        layers, shape = losses.MOONS_LAYERS, (2,)
    return render("losses", lang, slope=float(slope), intercept=float(intercept), outlier=bool(outlier),
                  outlier_point=losses.OUTLIER, losses=[c.loss for c in job.racers], metrics=metrics,
                  learning_rate=job.compile.learning_rate, epochs=job.fit.epochs, batch_size=job.fit.batch_size,
                  seed=job.seed, points_function=source_of(losses.points), data=data_lines,
                  model=sequential_code(layers, shape), optimizer=optimizer_code(job.compile), validation=validation,
                  names=Code(", ".join(names)), printed=Code(", ".join(f"{n} {{{n}:.3f}}" for n in names)))


def seed_compile_snippet(lang, seed=0):
    """The study note's compile line on its own model: the three cross-entropies of the same
    predictions, and Keras refusing 'binary_crossentropy' with integer labels."""
    from lib import models

    return render("seed_compile", lang, digits_split=_digits_split(),
                  model=sequential_code(models.PRESETS["seed"][1], (64,), seed=seed))


# The pages that grew a module of their own (imported last: they use the pieces above).
from lib.snippets.evaluate import evaluate_snippet  # noqa: E402
from lib.snippets.save_load import save_load_snippet  # noqa: E402
