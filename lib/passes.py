"""Running a model, where it is safe to: a model this server built itself (the class model, a
student's own stack) runs here, in batches its outline allows; a model from someone else's file
runs in a locked-down process instead (`lib.saving.Sandboxed`, the same interface).

    passes = InProcess(model)
    probabilities = passes.predict(x)          # the model's answers for a batch, batched by cost
    outputs, logits = passes.follow(x[:1])     # every layer's output for one input, and the logits

Both price a pass from the model's shapes first (`lib.cost`): a model whose one example needs
more than the memory budget is refused (`cost.PassTooCostly`) before it runs.
"""
import numpy as np

from lib import cost


class Passes:
    """What a page may ask of a model: answers for a batch, and one input followed layer by layer.
    `model` is the Keras model for its layers, shapes and weights (drawing, counting, the
    arithmetic of one unit) — for a stranger's model, a copy that is never run; `cost` what one
    example's pass costs."""

    model = None
    cost = None
    runs_here = True  # False: a stranger's model, run in another process

    def predict(self, x):
        """The model's outputs for the batch x."""
        raise NotImplementedError

    def follow(self, x):
        """([(layer name, its output for x), ...], the logits) for one input x (a batch of one)."""
        raise NotImplementedError


class InProcess(Passes):
    """Passes of a model this server built itself, run in this process."""

    def __init__(self, model):
        self.model = model
        self.cost = cost.PassCost.of(layer_shapes(model))

    def predict(self, x):
        x = np.asarray(x, dtype="float32")
        step = self.cost.check(0).batch_size()
        parts = [np.asarray(self.model(x[k:k + step], training=False)) for k in range(0, len(x), step)]
        return np.concatenate(parts) if parts else np.zeros((0, *self.model.outputs[0].shape[1:]), "float32")

    def follow(self, x):
        self.cost.check(len(x)).check_follow()
        outputs = layer_outputs(self.model, x)
        return outputs, logits(self.model, outputs, x)


def as_passes(model_or_passes):
    """Passes as they are; a Keras model as a model this server built (InProcess)."""
    return model_or_passes if isinstance(model_or_passes, Passes) else InProcess(model_or_passes)


def layer_shapes(model):
    """The chain of a built Keras model as `cost.LayerShape`s, from its layers' shapes and configs
    (nothing runs)."""
    shapes = []
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        config = layer.get_config()
        window = config.get("kernel_size") or config.get("pool_size") or (1, 1)
        window = tuple(window) if isinstance(window, (list, tuple)) else (window, window)
        inputs, outputs = (tuple(int(d) for d in t.shape[1:]) for t in (layer.input, layer.output))
        work = cost.multiply_adds(type(layer).__name__, inputs, outputs, window=window,
                                  pieces=config.get("pieces", 1), groups=config.get("groups", 1))
        shapes.append(cost.LayerShape(layer.name, inputs, outputs, work))
    return shapes


def layer_outputs(model, x):
    """[(layer name, its output for the batch x), ...] for every layer of a Sequential model, in order.

    One forward pass, layer by layer, with training=False: what the model computes at inference,
    so Dropout and RandomTranslation pass their input through. Nothing is built or traced, so a
    page can call it on every click (a couple of milliseconds for the digits CNN).
    """
    import keras

    if not isinstance(model, keras.Sequential):
        raise TypeError(f"layer_outputs follows a Sequential model, not a {type(model).__name__}")
    outputs = []
    activation = keras.ops.convert_to_tensor(np.asarray(x, dtype="float32"))
    for layer in model.layers:
        activation = layer(activation, training=False)
        outputs.append((layer.name, np.asarray(activation)))
    return outputs


def logits(model, outputs, x):
    """The scores the final softmax turns into probabilities, for the batch x whose
    `layer_outputs` are `outputs`: x·W + b of a last Dense layer, or the input of a last
    Activation layer (the study note's Dense(10) + Activation("softmax"))."""
    last = model.layers[-1]
    before = np.asarray(x if len(outputs) == 1 else outputs[-2][1], dtype="float32")
    if type(last).__name__ == "Dense":
        kernel, bias = last.get_weights()
        return before.reshape(len(before), -1) @ kernel + bias
    return before.reshape(len(before), -1)
