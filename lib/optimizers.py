"""Optimizers on real surfaces: a Keras optimizer walking downhill on a 2-D loss landscape.

`trajectory` puts the point (x, y) in a `keras.Variable` and lets a real `keras.optimizers`
instance step it, GradientTape giving the gradient of the surface, `steps` times. The loop runs
as one compiled TensorFlow function per optimizer setting, cached for the whole server: 200
steps take ~4 ms instead of ~800 ms eagerly; the learning rate is the optimizer's own variable,
so changing it needs no recompiling. `summary` reads a path: where it ended, how close to a
minimum, and whether (and when) it blew up. The walks on the named surfaces are kept on this
computer between servers (`keep_walks`), so a server started again draws the page's first view
without TensorFlow.
"""
import dataclasses
import functools
import math
import os
import threading

import numpy as np

from lib.errors import Refusal
from lib.optimizer_race import data_race_job, race_result, race_winner  # noqa: F401  (lib.optimizers' own API)

OPTIMIZERS = ("SGD", "RMSprop", "Adam", "Adagrad", "Adadelta", "Adamax", "Nadam", "AdamW", "Lion")
# The Optimizers page's first view: these racers, settings and steps on the first surface.
DEFAULT_RACERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adagrad")
DEFAULT_SETTINGS = dict(momentum=0.9, rho=0.9, beta_1=0.9, beta_2=0.999)
DEFAULT_STEPS = 200
MAX_STEPS = 1000
MAX_LEARNING_RATE = 100.0
# The page's learning rates (its slider), and the trio's: a tenth of the rate, the rate, ten times it.
LEARNING_RATES = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.05, 0.1, 0.3, 1.0, 3.0, 10.0)
TRIO_FACTORS = (0.1, 1.0, 10.0)


class OptimizerError(Refusal):
    """A request the page cannot draw; `code` says why, `details` the numbers (pages translate)."""

    catalog = "optimizers.error"


@dataclasses.dataclass(frozen=True)
class Surface:
    """A loss landscape f(x, y), a formula of arithmetic only (so it works on numbers and tensors,
    and the shown code can print it as it is)."""
    name: str
    formula: str
    x_range: tuple
    y_range: tuple
    start: tuple
    minima: tuple  # the points of lowest loss (none for the saddle)
    learning_rate: float  # a rate that works for plain SGD here
    log_levels: bool = False  # contours on a log scale (steep walls, flat valley floor)

    @functools.cached_property
    def function(self):
        return eval(f"lambda x, y: {self.formula}")  # noqa: S307  (our own formulas, below)

    def __call__(self, x, y):
        return self.function(x, y)

    def contains(self, point):
        (x0, x1), (y0, y1) = self.x_range, self.y_range
        return x0 <= point[0] <= x1 and y0 <= point[1] <= y1


SURFACES = {s.name: s for s in (
    Surface("bowl", "x * x + y * y", (-2, 2), (-2, 2), (-1.5, 1.7), ((0.0, 0.0),), 0.1),
    Surface("ravine", "0.05 * x * x + 2.0 * y * y", (-2, 2), (-2, 2), (-1.8, 1.2), ((0.0, 0.0),), 0.3),
    Surface("rosenbrock", "(1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x)", (-2, 2), (-1, 3),
            (-1.5, 2.0), ((1.0, 1.0),), 0.001, log_levels=True),
    Surface("saddle", "x * x - y * y", (-2, 2), (-2, 2), (-1.8, 0.02), (), 0.05),
    Surface("himmelblau", "(x * x + y - 11) ** 2 + (x + y * y - 7) ** 2", (-5, 5), (-5, 5),
            (0.0, -0.5), ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)),
            0.01, log_levels=True),
)}

_FIRST = next(iter(SURFACES.values()))  # the surface the page opens on

def _check(optimizer, learning_rate, steps):
    if optimizer not in OPTIMIZERS:
        raise OptimizerError("unknown", f"unknown optimizer {optimizer!r}", name=str(optimizer))
    if not (isinstance(learning_rate, (int, float)) and math.isfinite(learning_rate) and learning_rate > 0):
        raise OptimizerError("bad_learning_rate", f"learning rate must be above 0, got {learning_rate!r}",
                             value=learning_rate)
    if learning_rate > MAX_LEARNING_RATE:
        raise OptimizerError("huge_learning_rate", f"learning rate above {MAX_LEARNING_RATE:g}",
                             value=learning_rate, limit=MAX_LEARNING_RATE)
    if not (isinstance(steps, (int, np.integer)) and 1 <= steps <= MAX_STEPS):
        raise OptimizerError("bad_steps", f"steps must be 1..{MAX_STEPS}, got {steps!r}", value=steps, limit=MAX_STEPS)


class _Walker:
    """One optimizer setting on one surface: the Keras optimizer, the point it moves, and the
    compiled loop. Shared by every session, so a lock keeps two walks from mixing."""

    def __init__(self, optimizer, options, function):
        import keras
        import tensorflow as tf

        try:
            self.optimizer = getattr(keras.optimizers, optimizer)(learning_rate=0.01, **dict(options))
        except (TypeError, ValueError) as e:  # Keras checks its own arguments (momentum in [0, 1], ...)
            raise OptimizerError("bad_option", str(e), message=str(e))
        self.point = keras.Variable(np.zeros(2, "float32"), name="point")
        self.optimizer.build([self.point])
        self.initial = [v.numpy() for v in self.optimizer.variables]  # Adagrad starts at 0.1, not 0
        self.lock = threading.Lock()

        @tf.function(reduce_retracing=True)
        def walk(start, steps):
            self.point.assign(start)
            path = tf.TensorArray(tf.float32, size=steps + 1).write(0, self.point.value)
            for i in tf.range(steps):
                with tf.GradientTape() as tape:
                    loss = function(self.point[0], self.point[1])
                self.optimizer.apply_gradients([(tape.gradient(loss, self.point), self.point)])
                path = path.write(i + 1, self.point.value)
            return path.stack()

        self.walk = walk

    def __call__(self, start, learning_rate, steps):
        import tensorflow as tf

        with self.lock:
            for variable, value in zip(self.optimizer.variables, self.initial):
                variable.assign(value)  # a fresh optimizer: no momentum left from the last walk
            self.optimizer.learning_rate = learning_rate  # an assignment to its variable: no retrace
            return self.walk(tf.constant(start, tf.float32), tf.constant(steps)).numpy().astype("float64")


@functools.lru_cache(maxsize=128)
def _walker(optimizer, options, surface_name):
    return _Walker(optimizer, options, SURFACES[surface_name].function)


MAX_KEPT_WALKS = 512  # at most 1001 x 2 numbers a path: 8 MB when full
_longest = {}  # (optimizer, options, surface, start, learning rate) -> the longest path walked so far
_kept = threading.Lock()


def _named_walk(optimizer, options, surface, start, learning_rate, steps):
    """A walk on a named surface, for the whole server: a class moving the same slider asks for
    the same walks, and a walk of fewer steps is the start of a longer one (the same steps from the
    same state), so the longest walked serves every shorter one. A path is read-only, so no page
    can change another's. The walks an earlier server on this computer kept are read back first."""
    key = (optimizer, options, surface, start, learning_rate)
    _read_kept_walks_once()
    longest = _longest.get(key)
    if longest is None or len(longest) <= steps:
        longest = _walker(optimizer, options, surface)(start, learning_rate, steps)
        _hold(key, longest)
    return longest[:steps + 1]


def _hold(key, path, walked=True):
    """Keep `path` as the longest walk of `key` (the oldest goes when MAX_KEPT_WALKS are held)."""
    global _walked_since_kept
    path.setflags(write=False)
    with _kept:
        if len(_longest) >= MAX_KEPT_WALKS and key not in _longest:
            _longest.pop(next(iter(_longest)))  # the oldest
        if len(_longest.get(key, ())) < len(path):
            _longest[key] = path
            _walked_since_kept = _walked_since_kept or walked


# --- Walks kept on this computer ------------------------------------------------------------------
# A walk is a function of its settings and of the Keras, TensorFlow and NumPy that walk it: a server
# started again on this computer reads back what the last one walked (lib/kept.py), so the page's
# first view — the default racers, the trio, every rate of the slider — is drawn without waiting for
# TensorFlow's import (~4 s here) nor for compiling each optimizer's loop.
KEPT_WALKS = "optimizer-walks"  # the folder, in the app's folder
_kept_walks_read = False
_walked_since_kept = False


def kept_walks_path():
    """The file the walks are kept in, named by a digest of what a walk depends on: the versions of
    Keras, TensorFlow and NumPy, and this module's source (the surfaces, the loop)."""
    from lib import kept

    return os.path.join(kept.folder(KEPT_WALKS), f"walks-{kept.digest(sources=[__file__])}.npz")


def keep_walks():
    """Write every walk this server holds for the next server on this computer, when it holds one
    the kept file lacks (the head starts call it: `warm_up`, `walk_around`). Returns whether it wrote."""
    global _walked_since_kept
    from lib import kept

    with _kept:
        if not _walked_since_kept:
            return False
        walks = list(_longest.items())
        _walked_since_kept = False
    entries = [[optimizer, [list(o) for o in options], surface, list(start), rate]
               for (optimizer, options, surface, start, rate), _ in walks]
    return kept.write_arrays(kept_walks_path(), entries, [path for _, path in walks], replaces="walks-")


def _read_kept_walks_once():
    global _kept_walks_read
    with _kept:
        if _kept_walks_read:
            return
        _kept_walks_read = True
    for key, path in read_kept_walks(kept_walks_path()).items():
        _hold(key, path, walked=False)


def read_kept_walks(path):
    """{(optimizer, options, surface, start, learning rate): path} from a kept file, or {} when
    there is none to trust (lib.kept.read_arrays), or any walk in it this module could not have
    walked: an unknown optimizer or surface, a start outside it, a rate `trajectory` refuses, a path
    of another shape or that does not begin at its start."""
    from lib import kept

    full = MAX_KEPT_WALKS * (MAX_STEPS + 1) * 2 * 8  # bytes, every walk of MAX_STEPS
    return kept.read_arrays(path, _kept_walk, most=MAX_KEPT_WALKS, largest_bytes=2 * full)


def _kept_walk(entry, path):
    optimizer, options, surface, start, rate = entry
    numbers = [rate, *start, *(value for _, value in options if not isinstance(value, bool))]
    if not all(isinstance(n, (int, float)) and not isinstance(n, bool) and math.isfinite(n) for n in numbers):
        raise ValueError(f"not numbers: {numbers}")
    _check(optimizer, rate, 1)
    start = tuple(map(float, start))
    if surface not in SURFACES or len(start) != 2 or not SURFACES[surface].contains(start):
        raise ValueError(f"no walk on {surface!r} starts at {start}")
    if path.dtype != np.float64 or path.shape[1:] != (2,) or not 2 <= len(path) <= MAX_STEPS + 1:
        raise ValueError(f"a path of {path.dtype} {path.shape}")
    if not np.allclose(path[0], np.float32(start)):
        raise ValueError(f"a path from {path[0]} kept as starting at {start}")
    return (optimizer, tuple((str(name), value) for name, value in options), surface, start, float(rate)), path


def forget_walks():
    """Drop every walk held, and read none back from this computer's kept file (the tests start
    from none)."""
    global _kept_walks_read
    with _kept:
        _longest.clear()
        _kept_walks_read = True


def walks_kept():
    """How many walks the server keeps."""
    return len(_longest)


def trajectory(optimizer, surface, *, learning_rate, steps, start=None, **options):
    """The path (steps + 1, 2) of a real `keras.optimizers.<optimizer>` stepping the point (x, y)
    downhill on `surface` (a name in SURFACES, or any f(x, y) of arithmetic, then with `start`).
    Row 0 is the start. Options (momentum, nesterov, rho, beta_1, ...) go to the constructor.
    A path that blows up keeps its inf/nan: `summary` says when it left."""
    _check(optimizer, learning_rate, steps)
    key = tuple(sorted(options.items()))
    if isinstance(surface, str):
        if surface not in SURFACES:
            raise OptimizerError("unknown_surface", f"unknown surface {surface!r}", name=surface)
        start = SURFACES[surface].start if start is None else tuple(start)
        if not SURFACES[surface].contains(start):
            raise OptimizerError("start_outside", f"start {start} is outside the plot", x=start[0], y=start[1])
        return _named_walk(optimizer, key, surface, tuple(float(v) for v in start), float(learning_rate), int(steps))
    if start is None:
        raise OptimizerError("needs_start", "a surface given as a function needs a start")
    return _Walker(optimizer, key, surface)(tuple(float(v) for v in start), float(learning_rate), int(steps))


@dataclasses.dataclass(frozen=True)
class Summary:
    final_loss: float  # nan once the path has blown up
    distance: float  # to the nearest minimum (nan: no minimum, or blown up)
    left_at: int  # the first step outside the plot's wider frame or not a number; None if it stayed
    oscillating: bool = False  # hopping back and forth between two points without getting closer

    @property
    def outcome(self):
        """How the walk ended, in one word: left, oscillating, reached, no_minimum, on_its_way."""
        if self.left_at is not None:
            return "left"
        if self.oscillating:
            return "oscillating"
        if math.isnan(self.distance):
            return "no_minimum"
        return "reached" if self.distance < REACHED else "on_its_way"


REACHED = 0.01  # closer than this to a minimum counts as there
OSCILLATION_TAIL = 20  # steps looked at


def summary(path, surface):
    """Where a path ended and how well: final loss, distance to the nearest minimum, the step at
    which it left (outside three times the plot's frame, or inf/nan), and whether it ended
    bouncing between two points (each point where it was two steps before, but far from the last)."""
    surface = SURFACES[surface] if isinstance(surface, str) else surface
    (x0, x1), (y0, y1) = surface.x_range, surface.y_range
    wide_x, wide_y = 1.5 * (x1 - x0), 1.5 * (y1 - y0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    with np.errstate(invalid="ignore"):
        outside = ~np.isfinite(path).all(axis=1) | (np.abs(path[:, 0] - cx) > wide_x) | (np.abs(path[:, 1] - cy) > wide_y)
    left_at = int(np.argmax(outside)) if outside.any() else None
    end = path[-1]
    if left_at is not None:
        return Summary(math.nan, math.nan, left_at)
    loss = float(surface(end[0], end[1]))
    distance = min((math.dist(end, m) for m in surface.minima), default=math.nan)
    return Summary(loss, distance, None, _oscillating(path, max(x1 - x0, y1 - y0)))


def _oscillating(path, scale):
    tail = np.asarray(path[-OSCILLATION_TAIL:], dtype="float64")
    if len(tail) < 4:
        return False
    back = np.abs(tail[2:] - tail[:-2]).max()  # where it was two steps before ...
    hop = np.linalg.norm(tail[1:] - tail[:-1], axis=1).min()  # ... yet every step a long jump
    return bool(back < 1e-3 * scale and hop > 1e-2 * scale)


def race_facts(results):
    """What the page's tasks are checked against, from its walks' summaries ({label: Summary}):
    how many left the map, the label of the first to leave (None: none did), the closest any
    came to a minimum, SGD's distance to it (None when it is not racing or has left), and every
    racer's that stayed on the map ({label: distance}: where each race ended)."""
    left = {label: end.left_at for label, end in results.items() if end.left_at is not None}
    distances = {label: end.distance for label, end in results.items() if not math.isnan(end.distance)}
    return {"off_map": len(left), "first_off": min(left, key=left.get, default=None),
            "closest": min(distances.values(), default=None), "sgd_distance": distances.get("SGD"),
            "ended": {label: round(d, 4) for label, d in distances.items()}}  # the class view's chart


# The page's racers: (label, Keras optimizer class, which of the page's settings it takes). The
# labels are Keras names, the same in every language.
RACERS = {
    "sgd": ("SGD", "SGD", ()), "momentum": ("SGD + momentum", "SGD", ("momentum",)),
    "nesterov": ("Nesterov", "SGD", ("momentum", "nesterov")), "rmsprop": ("RMSprop", "RMSprop", ("rho",)),
    "adam": ("Adam", "Adam", ("beta_1", "beta_2")), "adagrad": ("Adagrad", "Adagrad", ()),
    "adadelta": ("Adadelta", "Adadelta", ()), "adamax": ("Adamax", "Adamax", ()), "nadam": ("Nadam", "Nadam", ()),
    "adamw": ("AdamW", "AdamW", ()), "lion": ("Lion", "Lion", ()),
}


def racer(key, settings):
    """(Keras optimizer name, constructor options) of one racer under the page's settings
    (momentum, rho, beta_1, beta_2)."""
    _, name, takes = RACERS[key]
    return name, {k: True if k == "nesterov" else settings[k] for k in takes}


def warm_up():
    """Walk the Optimizers page's first view once, in the background (lib.server.once_imported):
    the default racers on the first surface, and SGD at a tenth and ten times the rate (the trio).
    Compiling each optimizer's loop takes ~0.1 s the first time, ~0.8 s for the view on a server
    also sending pages, which the first student to open the page would otherwise wait; the paths
    stay in the server's cache of walks. Walks read back from this computer's kept file are not
    walked again, but each racer's loop is still compiled (one step), for the student's first
    nudge to a setting nobody walked before."""
    for (optimizer, options), rate in _first_view():
        trajectory(optimizer, _FIRST.name, learning_rate=rate, steps=DEFAULT_STEPS, **options)
        _walker(optimizer, tuple(sorted(options.items())), _FIRST.name)(_FIRST.start, rate, 1)
    keep_walks()


def walk_around():
    """Walk the first view's neighbourhood once the server is ready (lib.server.once_ready): its
    racers at every learning rate of the page, and the trio's SGD at a tenth and ten times each,
    MAX_STEPS each (a walk of fewer steps is the start of one). A student's first nudges of the
    rate or the steps, the first thing they try, then find their walks made: ~100 walks, ~2 s of
    one core while nobody waits."""
    near_first = sorted(LEARNING_RATES, key=lambda rate: abs(math.log(rate / _FIRST.learning_rate)))
    for rate in near_first:
        for (optimizer, options), each in _first_view(rate):
            trajectory(optimizer, _FIRST.name, learning_rate=each, steps=MAX_STEPS, **options)
    keep_walks()


def _first_view(rate=None):
    """((Keras name, options), learning rate) of each walk of the page's first view at `rate`
    (the surface's own by default): the default racers, then SGD at the trio's other two rates."""
    rate = _FIRST.learning_rate if rate is None else rate
    walks = [(racer(key, DEFAULT_SETTINGS), rate) for key in DEFAULT_RACERS]
    walks += [(racer("sgd", DEFAULT_SETTINGS), rate * factor) for factor in TRIO_FACTORS if factor != 1.0]
    return [(walk, min(each, MAX_LEARNING_RATE)) for walk, each in walks]


def landscape(surface, n=80):
    """(xs, ys, z) on an n x n grid over the surface's frame, for contour plots (z[i, j] = f(xs[j], ys[i]))."""
    surface = SURFACES[surface] if isinstance(surface, str) else surface
    xs = np.linspace(*surface.x_range, n)
    ys = np.linspace(*surface.y_range, n)
    xx, yy = np.meshgrid(xs, ys)
    return xs, ys, surface(xx, yy)
