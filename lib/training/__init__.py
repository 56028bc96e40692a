"""The one training runner every page that trains uses: typed jobs (`job`), the worker process
that trains them (`worker`), the pool and its queue (`runner`), the run a page watches (`run`),
the Training page's own job (`classifier`), and the rule that chooses among runs (`choice`)."""
from lib.training.choice import best_on_validation
from lib.training.classifier import (ONLINE_TRAIN_SAMPLES, chance_numbers, check_fits, classifier_job, kept_text,
                                     last_validation, run_label, runs_table, steps_per_epoch, stuck_at_chance,
                                     training_examples)
from lib.training.job import (MAX_EPOCHS, MAX_SECONDS, MAX_TRAIN_SAMPLES, Arrays, Builder, Compile, EarlyStop, Fit,
                              Images, Job, Stack, TrainingError)
from lib.training.run import Epoch, Failure, Result, Run
from lib.training.runner import SLOTS, Runner, runner

__all__ = ["best_on_validation", "chance_numbers", "kept_text", "last_validation", "run_label", "runs_table",
           "ONLINE_TRAIN_SAMPLES", "check_fits", "classifier_job", "steps_per_epoch", "stuck_at_chance",
           "training_examples", "MAX_EPOCHS", "MAX_SECONDS", "MAX_TRAIN_SAMPLES", "Arrays", "Builder", "Compile",
           "EarlyStop", "Fit", "Images", "Job", "Stack", "TrainingError", "Epoch", "Failure", "Result", "Run",
           "SLOTS", "Runner", "runner"]
