"""What one pass of a model costs, worked out from its layers' shapes before anything runs.

A forward pass keeps two layer outputs alive at once (the one a layer reads and the one it
writes), so the memory one example needs is the largest adjacent pair, in float32:

    example_bytes = 4 × max over layers of (input values + output values)

and its work is the multiply-adds of its layers, by the textbook formulas:

    Dense          positions × inputs × units          (positions: 1 for a flat input)
    Maxout         positions × inputs × units × pieces
    Conv2D         out_h × out_w × k_h × k_w × (channels_in / groups) × filters
    pooling        out_h × out_w × channels × pool_h × pool_w   (a window per output)
    the rest       0 (Flatten, Dropout, Activation: a copy or one cheap step per number)

Every pass of a model a page did not build itself picks its batch size from these numbers, so a
batch stays within PASS_MEMORY_BYTES, and a model whose single example needs more, or whose mock
exam would take longer than EXAM_SECONDS of one core, is refused before it runs (`PassTooCostly`).
Pure arithmetic: no Keras, no numpy.
"""
import dataclasses
import math

from lib.errors import Refusal

FLOAT_BYTES = 4
# The activations of one batch of a pass, at most, as estimated above. TensorFlow's real peak is
# larger: measured with VmData before and after one pass, 2.05-2.95x the estimate (a Conv2D adds
# its bias into a new tensor the size of its output; small batches carry fixed overhead), so a pass
# within this budget holds at most ~380 MB, which the model loader's memory limit covers.
PASS_MEMORY_BYTES = 128 * 2 ** 20
MAX_BATCH = 512  # more examples per batch gain nothing on a CPU
EXAM_SECONDS = 2.0  # one core's time for a whole mock exam of a stranger's model, at most
# One input followed through every layer comes back to the page whole (every layer's output, for
# its pictures): at most this many bytes, so a page never holds more than a few of them.
FOLLOW_BYTES = 16 * 2 ** 20
# Multiply-adds per second of one core, measured on the development machine (2 cores, TF 2.21,
# one TensorFlow thread, float32, the best of 5 forward passes): large layers run 46-53 G/s (a Dense
# 4096 -> 4096, a Conv2D 3x3 256 -> 256 on 28x28), the MNIST CNN 23 G/s, but a layer that writes far
# more numbers than it multiplies is memory-bound: a Conv2D 3x3 1 -> 4,096 on 8x8 ran 5.2-5.4 G/s,
# 8x8x1 -> Conv2D(16,384, "same") -> Flatten -> Dense(10) 7.7 G/s. The budget takes the slow end:
# a model built to be costly is mostly such layers.
MULTIPLY_ADDS_PER_SECOND = 5e9


@dataclasses.dataclass(frozen=True)
class LayerShape:
    """What the cost of one layer depends on: its input and output shapes (no batch) and its
    multiply-adds for one example (`multiply_adds` below)."""
    name: str
    input_shape: tuple
    output_shape: tuple
    multiply_adds: int


def multiply_adds(class_name, input_shape, output_shape, *, window=(1, 1), pieces=1, groups=1):
    """One example's multiply-adds through one layer (see the module's table)."""
    out = tuple(output_shape)
    if class_name == "Dense":
        return math.prod(input_shape) * out[-1]
    if class_name == "Maxout":
        return math.prod(input_shape) * out[-1] * pieces
    if class_name == "Conv2D":
        return out[0] * out[1] * window[0] * window[1] * (input_shape[-1] // groups) * out[-1]
    if class_name in ("MaxPooling2D", "AveragePooling2D"):
        return math.prod(out) * window[0] * window[1]
    return 0


@dataclasses.dataclass(frozen=True)
class PassCost:
    """One example through a model: the bytes of activations alive at once, and the multiply-adds."""
    example_bytes: int
    multiply_adds: int
    widest: str = ""  # the layer whose input and output together need example_bytes
    outputs_bytes: int = 0  # every layer's output for one example, together

    @classmethod
    def of(cls, layers):
        """The cost of a chain of `LayerShape`s (or anything with the same fields), input first."""
        layers = list(layers)
        if not layers:
            return cls(0, 0)
        pairs = [(FLOAT_BYTES * (math.prod(x.input_shape) + math.prod(x.output_shape)), x.name) for x in layers]
        example_bytes, widest = max(pairs)
        outputs = FLOAT_BYTES * sum(math.prod(x.output_shape) for x in layers)
        return cls(example_bytes, sum(int(x.multiply_adds) for x in layers), widest, outputs)

    def batch_size(self, memory_bytes=PASS_MEMORY_BYTES):
        """The most examples per batch whose activations stay within `memory_bytes` (at least 1,
        at most MAX_BATCH)."""
        return max(1, min(MAX_BATCH, memory_bytes // max(self.example_bytes, 1)))

    def seconds(self, examples):
        """One core's time for `examples` passes, at the measured MULTIPLY_ADDS_PER_SECOND."""
        return examples * self.multiply_adds / MULTIPLY_ADDS_PER_SECOND

    def check(self, examples, *, memory_bytes=PASS_MEMORY_BYTES, seconds=EXAM_SECONDS):
        """PassTooCostly unless one example fits in `memory_bytes` and `examples` of them take at
        most `seconds` of one core. Returns self, so `cost.check(n).batch_size()` reads on."""
        if self.example_bytes > memory_bytes:
            raise PassTooCostly("example_too_big", f"one example needs {self.example_bytes:,} bytes",
                                needs=megabytes(self.example_bytes), budget=megabytes(memory_bytes),
                                layer=self.widest, multiply_adds=millions(self.multiply_adds))
        if self.seconds(examples) > seconds:
            raise PassTooCostly("exam_too_slow", f"{examples} examples need {self.seconds(examples):.1f} s",
                                needs=f"{self.seconds(examples):.1f}", budget=f"{seconds:g}", examples=examples,
                                multiply_adds=millions(self.multiply_adds), memory=megabytes(self.example_bytes))
        return self

    def check_follow(self, *, limit=FOLLOW_BYTES):
        """PassTooCostly("follow_too_big") unless every layer's output for one example fits `limit`."""
        if self.outputs_bytes > limit:
            raise PassTooCostly("follow_too_big", f"one example's layer outputs need {self.outputs_bytes:,} bytes",
                                needs=megabytes(self.outputs_bytes), budget=megabytes(limit))
        return self


# --- Training ----------------------------------------------------------------------------------

RUN_MEMORY_BYTES = 512 * 2 ** 20  # what one training run may hold (the worker's limit is set from it)
# Per weight, in training: its value, its gradient and up to two optimizer slots (Adam's m and v).
TRAINING_BYTES_PER_PARAM = 4 * FLOAT_BYTES


def training_bytes(layers, params, *, batch_size, models=1, inference_batch=0, data_bytes=0):
    """A training run's memory, estimated from its layers before it starts: every layer's output
    for a batch is kept for the backward pass, with a gradient of the same size; the weights with
    their gradients and optimizer slots (for each of `models` kept side by side); the widest
    pair of a validation or test pass of `inference_batch` examples; and the data arrays."""
    layers = list(layers)
    outputs = sum(math.prod(x.output_shape) for x in layers) + (math.prod(layers[0].input_shape) if layers else 0)
    activations = 2 * FLOAT_BYTES * batch_size * outputs
    inference = inference_batch * PassCost.of(layers).example_bytes
    return models * params * TRAINING_BYTES_PER_PARAM + activations + inference + data_bytes


class PassTooCostly(Refusal):
    """A model whose pass costs more than a shared server gives one: "example_too_big" (one
    example's activations over the memory budget) or "exam_too_slow" (the mock exam over the time
    budget) or "follow_too_big" (every layer's output for one input, over what a page may hold).
    `details` name what it needs and the budget, in the units a student reads."""

    catalog = "cost.error"


def megabytes(n):
    """Bytes as a student reads them: '0.3', '12', '1,024' (MB of 2**20 bytes)."""
    value = n / 2 ** 20
    return f"{value:,.1f}" if value < 10 else f"{value:,.0f}"


def millions(n):
    """A count in millions as a student reads it: '0.04', '1.5', '3,221'."""
    value = n / 1e6
    return f"{value:,.2f}" if value < 1 else f"{value:,.1f}" if value < 100 else f"{value:,.0f}"
