"""A training run as a page sees it, and the reports a worker sends while it trains.

A `Run` fills in epoch by epoch (`Epoch` reports) until its `Result` (or a `Failure`) arrives.
Pages read it only through its accessors — `history`, `test_scores`, `final_scores`,
`batch_losses`, `outcome`, `latest_probes`, `model` — never through the raw reports.
"""
import dataclasses
import threading
import time

STATUSES = ("queued", "running", "done", "stopped", "budget", "diverged", "failed")
# A run has diverged once its loss is no longer a number or this many times its first batch's loss
# (the worker stops it there; the shown code stops at the same point).
DIVERGED_FACTOR = 100


@dataclasses.dataclass(frozen=True)
class Epoch:
    """One epoch of one racer: Keras's logs, how long it took, the loss of each batch (when the
    job asks for them), the probes' predictions (every few epochs), and whether this racer's
    loss has blown up (it then trains no further)."""
    racer: int
    epoch: int
    logs: dict
    seconds: float
    batch_losses: tuple = ()
    probes: dict = None
    diverged: bool = False


@dataclasses.dataclass(frozen=True)
class Result:
    """The end of a run: the final weights and test scores of each racer, how each ended
    ("done" or "diverged"), and what stopped the run early ("stopped", "budget") if anything.
    The test scores the final weights, or with `Fit.checkpoint` the best epoch's, loaded back.
    `final` (jobs with `final_scores`): each racer's final model in inference mode —
    {"train": {metric: value}, "validation": {...}, "penalty": the regularizers' sum}."""
    weights: tuple
    test: tuple
    outcomes: tuple
    stopped: str = None
    final: tuple = ()


@dataclasses.dataclass(frozen=True)
class Failure:
    """A run that could not train: `code` for the page's message, `details` to fill it."""
    code: str
    message: str
    details: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def out_of_memory(cls):
        """A run that needed more memory than a run may hold (its worker's limit stopped it)."""
        from lib import cost

        return cls("out_of_memory", "the run needed more memory than a run may hold",
                   {"budget": cost.megabytes(cost.RUN_MEMORY_BYTES)})


@dataclasses.dataclass(eq=False)
class Run:
    """One training run. Filled in by the runner's threads; read by pages (see the module)."""
    job: object
    id: int
    status: str = "queued"  # queued -> running -> done | stopped | budget | diverged | failed
    queue_position: int = 0
    epochs: list = dataclasses.field(default_factory=list)  # Epoch reports, in arrival order
    result: Result = None
    error: Failure = None
    started: float = None
    finished: float = None
    watchers: dict = dataclasses.field(default_factory=dict, repr=False)  # session -> when it last looked
    _stop: threading.Event = dataclasses.field(default_factory=threading.Event, repr=False)
    _cancel: object = dataclasses.field(default=None, repr=False)

    @property
    def active(self):
        return self.status in ("queued", "running")

    def stop(self):
        """Stop the run: a waiting one leaves the line; a running one stops after the current
        batch, keeping what it has learned so far."""
        self._stop.set()
        if self._cancel is not None:
            self._cancel(self)

    # A run is shared: every session that asked for the same job follows this one object.
    def join(self, session):
        """`session` follows this run (it asked for it, or for an identical job)."""
        self.watchers[session] = time.time()

    def seen(self, session):
        """`session` looked at this run just now (its page redraws it while it trains)."""
        if session in self.watchers:
            self.watchers[session] = time.time()

    def leave(self, session):
        """`session` no longer follows this run; when nobody else is looking at a run that has
        not ended, it stops."""
        self.watchers.pop(session, None)
        if self.active and self.watching() == 0:
            self.stop()

    def watching(self, within=5.0):
        """How many sessions looked at this run in the last `within` seconds."""
        now = time.time()
        return sum(1 for when in list(self.watchers.values()) if now - when <= within)

    def _reports(self, racer):
        return [e for e in list(self.epochs) if e.racer == racer]

    def history(self, racer=0):
        """{metric: [value per epoch]} of one racer, as Keras's History gives it."""
        out = {}
        for report in self._reports(racer):
            for key, value in report.logs.items():
                out.setdefault(key, []).append(value)
        return out

    def histories(self):
        """One history per racer, in the job's order."""
        return [self.history(k) for k in range(len(self.job.compiles))]

    def epochs_done(self, racer=0):
        return len(self._reports(racer))

    def epoch_seconds(self, racer=0):
        return [e.seconds for e in self._reports(racer)]

    def batch_losses(self, racer=0):
        """The loss after every batch step, over all epochs so far (jobs with `batch_losses`)."""
        return [loss for e in self._reports(racer) for loss in e.batch_losses]

    def latest_probes(self, racer=0):
        """(epoch, {probe: predictions}) of the newest report that has them, or (0, {})."""
        for report in reversed(self._reports(racer)):
            if report.probes:
                return report.epoch, report.probes
        return 0, {}

    def outcome(self, racer=0):
        """How this racer is doing or ended: "diverged" as soon as its loss blew up, else the
        run's status (a race goes on when one racer diverges)."""
        if self.result is not None:
            if racer >= len(self.result.outcomes):  # stopped before this racer's turn
                return self.status
            return self.result.outcomes[racer] if self.result.outcomes[racer] == "diverged" else self.status
        reports = self._reports(racer)
        return "diverged" if reports and reports[-1].diverged else self.status

    def test_scores(self, racer=0):
        """{metric: value} from model.evaluate on the test arrays at the end; {} before that, or for
        a racer the student's Stop came before."""
        return dict(self.result.test[racer]) if self.result and racer < len(self.result.test) else {}

    def final_scores(self, racer=0):
        """The final model's scores in inference mode (see Result.final); {} before the end."""
        return dict(self.result.final[racer]) if self.result and racer < len(self.result.final) else {}

    def model(self, racer=0):
        """The trained Keras model, rebuilt in this process from the run's final weights."""
        if not self.result or racer >= len(self.result.weights):
            return None
        model = self.job.model.build()
        model.set_weights(self.result.weights[racer])
        return model

    def seconds(self):
        """How long it trained (so far)."""
        return ((self.finished or time.time()) - self.started) if self.started else 0.0
