"""The Save & load page's code: its model made as it was, saved three ways, looked inside (the
members, the layers, what model.weights.h5 holds part by part), loaded back and compared with the
original; for the class model, trained on from its file with the saved optimizer and fresh ones."""
import math

from lib.i18n import translate
from lib.snippets import _training_values, sequential_code
from lib.snippets.evaluate import class_model_code
from lib.snippets.render import Code, piece, render, source_of


def save_load_snippet(lang, *, source, job=None, shared=None, layers=None, input_shape=None):
    """The code for the page's `source` ("class", "yours", "built"), made as the page made it."""
    from lib.saving import optimizer_state

    uncompiled, more = Code(""), Code("")
    if source == "yours":
        # Your run's layers named as the page names them, so both print the same names.
        values = dict(_training_values(job, lang), model=sequential_code(job.model.layers, name="sequential"))
        head = render("training", lang, **values)
        head = f'"""{translate("code.save_load.yours_doc", lang)}"""' + head[head.index("\n"):]
        uncompiled = Code(f"# {translate('code.save_load.uncompiled', lang)}\nmodel = keras.Sequential("
                          '[keras.Input(shape=INPUT_SHAPE, name="input"), *model.layers], name="sequential")')
        shape = job.model.input_shape
    elif source == "class":
        head = class_model_code(shared, lang, "code.save_load.class_doc", named=True)
        shape = shared.input_shape
        button, epochs = optimizer_state.button_start(shared)
        more = piece("save_load_more", lang, epochs=epochs, starts=_starts(shared, button, lang),
                     keep_training=source_of(optimizer_state.keep_training))
    else:
        head = render("built_model", lang, input_shape=tuple(input_shape),
                      model=sequential_code(layers, seed=0, name="sequential"))
        shape = input_shape
    if math.prod(shape) == 64:  # as saving.probe_inputs: the first 100 digits of the set
        probe = Code("from sklearn.datasets import load_digits\n\n"
                     'x = (load_digits().images[:100] / 16.0).astype("float32").reshape((-1, *INPUT_SHAPE))')
    else:
        probe = Code('x = np.random.default_rng(0).uniform(0, 1, (100, *INPUT_SHAPE)).astype("float32")')
    body = piece("save_load", lang, probe=probe, uncompiled=uncompiled,
                 weights_parts=source_of(optimizer_state.weights_parts), more=more)
    return head.rstrip("\n") + "\n" + body + "\n"


def _starts(shared, button, lang):
    """The optimizers the class model trains on with, as lib.saving.optimizer_state.restarts
    chooses them: the file's own (None), a fresh one like it, the button's when it differs."""
    from lib.saving.optimizer_state import same_optimizer

    same = same_optimizer(shared.model.optimizer)
    lines = [f"None,  # {translate('code.save_load.restored', lang)}",
             f"keras.optimizers.{same[0]}(LEARNING_RATE),  # {translate('code.save_load.fresh', lang)}"]
    if button != same:
        lines.append(f"keras.optimizers.{button[0]}({button[1]:g}),  # {translate('code.save_load.button', lang)}")
    return Code("\n".join(lines))
