"""A model from a file, as the pages hold it: `Loaded` (its name, the file's digest, its passes).

A stranger's file (an upload) runs only in a host process of the loader (`Sandboxed`); the copy
this server rebuilt from the loader's plain answer is for drawing (layers, shapes, weights) and
is never run here. The server's own files loaded back (the class model, a student's model saved
a moment ago) run here, as any model the server built."""
import dataclasses

from lib.passes import Passes
from lib.saving.loader import get_loader


class Sandboxed(Passes):
    """The passes of a stranger's model, run by the loader's host of its file. Each pass is priced
    from the file's outline first (cost.PassTooCostly before anything runs), and its batch size
    chosen so a batch stays within the memory budget."""

    runs_here = False

    def __init__(self, model, data, load, key, pass_cost, *, loader=None):
        self.model, self.cost = model, pass_cost
        self._data, self._load, self._key, self._loader = data, load, key, loader

    def _ask(self, op, x, **options):
        return (self._loader or get_loader()).passes(self._key, self._data, self._load, op, [x], **options)

    def predict(self, x):
        batch = self.cost.check(len(x)).batch_size()
        _, arrays = self._ask("predict", x, batch_size=batch)
        return arrays[0]

    def follow(self, x):
        self.cost.check(len(x)).check_follow()
        header, arrays = self._ask("follow", x)
        names = header.get("names")
        if not isinstance(names, list) or len(names) != len(arrays) - 1:
            from lib.saving.refusals import UnsafeModel

            raise UnsafeModel("run_failed", "the host's answer does not name its layers")
        return [(str(name)[:100], array) for name, array in zip(names, arrays)], arrays[-1]


@dataclasses.dataclass(frozen=True, eq=False)
class Loaded:
    """A model loaded from a file: its file name (as the student gave it), the file's digest, and
    its passes (Sandboxed for an upload; lib.passes.InProcess for the server's own file)."""
    name: str
    digest: str
    passes: Passes

    @property
    def model(self):
        """The Keras model, for its layers, shapes and weights (run it through `passes`)."""
        return self.passes.model

    @property
    def maxout(self):
        """Does it use the app's own Maxout layer (its code needs that layer's source)?"""
        return any(type(layer).__name__ == "Maxout" for layer in self.model.layers)

    @property
    def cost(self):
        return self.passes.cost
