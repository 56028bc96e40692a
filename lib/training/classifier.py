"""The Training page's job: an image classifier on a data set, and what the page says about it."""
import dataclasses
import math

from lib import i18n
from lib.training.choice import best_on_validation
from lib.training.job import Compile, EarlyStop, Fit, Images, Job, Stack, TrainingError

ONLINE_TRAIN_SAMPLES = 6_000  # MNIST-sized sets: a slice, so a run takes seconds on a shared server


def check_fits(layers, input_shape, image_shape):
    """TrainingError unless the stack takes these images and answers with 10 probabilities
    (ModelSpecError, from lib.models, if it cannot be built at all)."""
    from lib import models

    if math.prod(input_shape) != math.prod(image_shape):
        raise TrainingError("input_mismatch", f"the model takes {tuple(input_shape)}, the images are {image_shape}",
                            model=models.shape_text(input_shape), images="×".join(map(str, image_shape)),
                            numbers=math.prod(image_shape))
    infos = models.describe(layers, input_shape)
    if not infos or infos[-1].output_shape != (10,):
        out = models.shape_text(infos[-1].output_shape) if infos else models.shape_text(input_shape)
        raise TrainingError("not_ten_outputs", f"the model outputs {out}, not 10 classes", output=out)
    last = next(i for i in reversed(infos) if i.type != "Dropout")
    if last.args.get("activation") != "softmax":
        raise TrainingError("no_softmax", "the last layer must be a softmax, so the outputs are probabilities")


def classifier_job(*, dataset, layers, input_shape, optimizer=Compile.optimizer, learning_rate=Compile.learning_rate,
                   options=None, epochs=Fit.epochs, batch_size=Fit.batch_size, test_size=Images.test_size,
                   validation_split=0.2, train_samples=None, seed=0, budget_s=Job.budget_s, early_stopping=None,
                   batch_losses=True):
    """A Job that trains an image classifier with sparse categorical cross-entropy, validating on
    the last `validation_split` of the train split. `batch_size=None` is the full batch; a batch
    larger than the training examples is refused."""
    from lib import data as datasets

    info = datasets.DATASETS[dataset]
    check_fits(layers, input_shape, info.image_shape)
    if info.online and not train_samples:
        train_samples = ONLINE_TRAIN_SAMPLES
    job = Job(model=Stack(layers, input_shape),
              data=Images(dataset, test_size=test_size, train_samples=train_samples, reshape=tuple(input_shape)),
              compile=Compile(optimizer, learning_rate, dict(options or {})),
              fit=Fit(epochs=epochs, batch_size=batch_size or 1, validation_split=validation_split,
                      early_stopping=early_stopping and EarlyStop(**early_stopping)),
              seed=seed, budget_s=budget_s, batch_losses=batch_losses)
    examples = training_examples(job)
    if batch_size is not None and batch_size > examples:
        raise TrainingError("batch_too_big", f"batch_size {batch_size} > {examples} training examples",
                            value=batch_size, n=examples)
    return dataclasses.replace(job, fit=dataclasses.replace(job.fit, batch_size=batch_size or examples)).checked()


def training_examples(job):
    """How many examples `fit` trains on (the last `validation_split` of the train split validates)."""
    n = len(job.data.arrays()[0])
    return int(math.floor(n * (1.0 - job.fit.validation_split)))  # Keras's own split


def steps_per_epoch(examples, batch_size):
    """ceil(examples / batch size): the last step takes what is left."""
    return -(-examples // batch_size)


def chance_levels(classes=10):
    """(loss floor, accuracy ceiling) of a classifier stuck at chance: a loss still at least 90 %
    of ln(classes) — the loss of answering 1/classes for everything — and an accuracy below
    twice the 1/classes of guessing."""
    return 0.9 * math.log(classes), 2 / classes


def stuck_at_chance(history, classes=10):
    """A classifier that ended no better than guessing: its training loss still at the floor and
    its validation accuracy (its training accuracy without validation) under the ceiling of
    `chance_levels`. With a large learning rate this usually means the first steps wrecked the
    weights."""
    loss = history.get("loss", [None])[-1]
    accuracy = history.get("val_accuracy", history.get("accuracy", [None]))[-1]
    floor, ceiling = chance_levels(classes)
    return loss is not None and accuracy is not None and loss >= floor and accuracy < ceiling


def chance_numbers(history, classes=10):
    """The numbers the page says beside `stuck_at_chance`, rounded for reading: the last training
    loss and validation accuracy, the rule's floor and ceiling, and the loss and accuracy of guessing."""
    floor, ceiling = chance_levels(classes)
    return {"loss": f"{history['loss'][-1]:.3f}", "accuracy": f"{history['val_accuracy'][-1]:.3f}",
            "floor": f"{floor:.3f}", "ceiling": f"{ceiling:g}", "guess_loss": f"{math.log(classes):.2f}",
            "guess": f"{1 / classes:g}"}


def run_label(job, lang):
    """A Training run in a few words, in `lang`: optimizer, learning rate, batch size, epochs."""
    return i18n.translate("training.run_label", lang, optimizer=job.compile.optimizer, batch=job.fit.batch_size,
                          rate=f"{job.compile.learning_rate:g}", epochs=job.fit.epochs)


def last_validation(runs):
    """Each run's last validation accuracy (None before its first validation)."""
    return [(run.history().get("val_accuracy") or [None])[-1] for run in runs]


def runs_table(runs, labels, lang):
    """The Training page's runs side by side, numbers rounded for reading: what they are compared
    on (validation accuracy) and what they cost; no test column (the test waits for the one kept)."""
    def rounded(value, digits=3):
        return None if value is None else round(value, digits)

    return {"settings": list(labels), "status": [i18n.translate(f"training.state.{r.status}", lang) for r in runs],
            "epochs": [r.epochs_done() for r in runs],
            "train": [rounded((r.history().get("accuracy") or [None])[-1]) for r in runs],
            "validation": [rounded(v) for v in last_validation(runs)],
            "seconds": [round(sum(r.epoch_seconds()) / max(r.epochs_done(), 1), 2) for r in runs]}


def kept_text(labels, runs, kept, lang):
    """The run kept (an index of `runs`), in `lang`: its validation accuracy and its test accuracy,
    said once; and, when it is not the best on validation, which one is."""
    scores = last_validation(runs)
    best = best_on_validation(scores)
    said = i18n.translate("training.chosen", lang, label=labels[kept], validation=f"{scores[kept]:.3f}",
                          accuracy=f"{runs[kept].test_scores()['accuracy']:.3f}")
    if best is not None and kept != best:
        said += " " + i18n.translate("training.not_best", lang, best=labels[best],
                                     best_validation=f"{scores[best]:.3f}")
    return said
