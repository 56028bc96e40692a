"""The optimizers' race on real data: a training Job racing them on the digits from the same
start, and its winner, chosen on validation and then tested once (the Optimizers page's last part;
lib.optimizers walks them on surfaces)."""
import dataclasses


def race_winner(run):
    """The racer of a finished race Run chosen on validation: the highest final validation
    accuracy among those that did not diverge (a tie goes to the first); None when none has one.
    The test data chooses nothing."""
    from lib.training import best_on_validation

    if run.result is None:
        return None
    return best_on_validation([None if run.outcome(k) == "diverged"
                               else (run.history(k).get("val_accuracy") or [None])[-1]
                               for k in range(len(run.job.compiles))])


def race_result(run, labels, lang):
    """The race's winner in words, in `lang`: chosen on its validation accuracy, then its test
    accuracy, measured once (the only racer scored on the test data); None before the end."""
    from lib import i18n

    best = race_winner(run)
    if best is None or not run.test_scores(best):
        return None
    return i18n.translate("optimizers.race_result", lang, name=labels[best],
                          validation=f"{run.history(best)['val_accuracy'][-1]:.3f}",
                          accuracy=f"{run.test_scores(best)['accuracy']:.3f}")


def data_race_job(racers, *, learning_rate=0.01, epochs=5, batch_size=32, seed=0):
    """A training Job racing optimizers on the digits: the study note's model, one copy per racer
    ((Keras name, options) pairs), the same initial weights and the same batches for all."""
    from lib import models, training

    base = training.classifier_job(dataset="digits", layers=models.PRESETS["seed"][1], input_shape=(64,),
                                   learning_rate=learning_rate, epochs=epochs, batch_size=batch_size, seed=seed,
                                   budget_s=45.0, batch_losses=False)
    compiles = tuple(dataclasses.replace(base.compile, optimizer=name, options=dict(options))
                     for name, options in racers)
    return dataclasses.replace(base, racers=compiles).checked()
