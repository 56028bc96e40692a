"""The Regression page's code: the study note's evaluate line on the Auto MPG cars, with the
data, the Normalization and the training the page's run had."""
from lib.snippets import render, sequential_code, source_of


def regression_snippet(job, inputs, lang):
    """The run of `job` (a lib.regression job on `inputs`) as code: the cars split and
    normalised as the page did, the model trained with the same seed, then the note's
    `loss, mae, mse = model.evaluate(...)` and `model.predict(...).flatten()`."""
    from lib import regression

    return render("regression", lang, seed=job.seed, inputs=list(regression.checked_inputs(inputs)),
                  epochs=job.fit.epochs, batch_size=job.fit.batch_size, learning_rate=job.compile.learning_rate,
                  columns=regression.COLUMNS, origins=regression.ORIGINS,
                  functions=source_of(regression.car_table, regression.split_cars),
                  model=sequential_code(job.model.layers, job.model.input_shape))
