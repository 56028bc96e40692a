"""lib.cost: what a pass of a model costs, from its shapes alone — multiply-adds counted by a
naive numpy loop written here, memory by the layers' outputs — the three outlines (the builder's,
an upload's, a built Keras model's) agreeing, and the budgets refusing with both numbers in both
languages."""
import math

import numpy as np
import pytest

from lib import cost, i18n, models, passes, saving


def counted_conv_multiply_adds(height, width, channels, kernel, filters, stride=1, padding="valid"):
    """A Conv2D's multiply-adds counted one product at a time, the way a naive loop computes it
    (padding "same" multiplies the zeros of the border too, as Keras does)."""
    image = np.ones((height, width, channels))
    if padding == "same":
        out_h, out_w = -(-height // stride), -(-width // stride)
        pad_h = max((out_h - 1) * stride + kernel - height, 0)
        pad_w = max((out_w - 1) * stride + kernel - width, 0)
        image = np.pad(image, ((pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2), (0, 0)))
    out_h, out_w = (image.shape[0] - kernel) // stride + 1, (image.shape[1] - kernel) // stride + 1
    count = 0
    for _ in range(filters):
        for i in range(out_h):
            for j in range(out_w):
                count += image[i * stride:i * stride + kernel, j * stride:j * stride + kernel].size
    return count


@pytest.mark.parametrize("height,width,channels,kernel,filters,stride,padding", [
    (8, 8, 1, 3, 4, 1, "valid"), (8, 8, 1, 3, 4, 1, "same"), (7, 9, 3, 2, 5, 2, "valid"), (6, 6, 2, 3, 3, 2, "same")])
def test_a_conv2ds_multiply_adds_are_what_a_naive_loop_counts(height, width, channels, kernel, filters, stride,
                                                               padding):
    layers = [{"type": "Conv2D", "filters": filters, "kernel_size": kernel, "strides": stride, "padding": padding}]
    info = models.describe(layers, (height, width, channels))[0]
    assert info.multiply_adds == counted_conv_multiply_adds(height, width, channels, kernel, filters, stride, padding)


def test_dense_and_pooling_multiply_adds_by_their_formulas():
    infos = models.describe([{"type": "MaxPooling2D", "pool_size": 2}, {"type": "Flatten"},
                             {"type": "Dense", "units": 10}], (8, 8, 3))
    pool, flat, dense = infos
    assert pool.multiply_adds == 4 * 4 * 3 * (2 * 2)  # a 2x2 window per output number
    assert flat.multiply_adds == 0
    assert dense.multiply_adds == 48 * 10 == np.ones((1, 48)).dot(np.ones((48, 10))).size * 48
    on_image = models.describe([{"type": "Dense", "units": 5}], (4, 4, 3))[0]
    assert on_image.multiply_adds == 16 * 3 * 5  # a Dense on an image works at each of the 16 positions


def test_one_examples_memory_is_the_widest_adjacent_pair_of_outputs():
    infos = models.describe(models.PRESETS["digits_cnn"][1], (8, 8, 1))
    sizes = [64] + [math.prod(i.output_shape) for i in infos]  # the input, then every layer's output
    widest = max(a + b for a, b in zip(sizes, sizes[1:]))
    pass_cost = cost.PassCost.of(infos)
    assert pass_cost.example_bytes == 4 * widest == 4 * (512 + 128)  # Conv2D 8x8x8 into MaxPooling2D 4x4x8
    assert pass_cost.outputs_bytes == 4 * sum(sizes[1:])
    assert pass_cost.multiply_adds == sum(i.multiply_adds for i in infos)


@pytest.mark.parametrize("preset", list(models.PRESETS))
def test_the_builders_outline_an_uploads_outline_and_the_keras_model_agree(preset):
    shape, layers = models.PRESETS[preset]
    model = models.build_sequential(layers, shape, seed=0)
    built = cost.PassCost.of(models.describe(layers, shape))
    uploaded = saving.inspect_archive(saving.to_bytes(model)).model.cost
    keras_model = cost.PassCost.of(passes.layer_shapes(model))
    assert built.example_bytes == keras_model.example_bytes
    assert built.multiply_adds == uploaded.multiply_adds == keras_model.multiply_adds
    assert uploaded.example_bytes >= built.example_bytes  # the upload's outline also counts its InputLayer


def test_the_batch_size_keeps_a_batch_within_the_memory_budget():
    assert cost.PassCost(2048, 1).batch_size() == cost.MAX_BATCH
    per_example = 20 * 2 ** 20
    assert cost.PassCost(per_example, 1).batch_size() == cost.PASS_MEMORY_BYTES // per_example == 6
    assert cost.PassCost(cost.PASS_MEMORY_BYTES, 1).batch_size() == 1


def tied_activations(filters):
    """64x64x1 -> Conv2D(filters, 1x1) -> Activation: two adjacent outputs of 64*64*filters numbers
    (more per layer than the builder allows; an upload may have them)."""
    image = (64, 64, filters)
    return cost.PassCost.of([cost.LayerShape("conv2d", (64, 64, 1), image, 64 * 64 * filters),
                             cost.LayerShape("activation", image, image, 0)])


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_one_example_over_the_memory_budget_is_refused_naming_both_numbers(lang):
    under, over = tied_activations(4000), tied_activations(4200)  # 2 x 62.5 MiB, 2 x 65.6 MiB
    assert under.check(1).batch_size() == 1
    with pytest.raises(cost.PassTooCostly) as refused:
        over.check(1)
    assert refused.value.code == "example_too_big"
    text = i18n.translate(f"{refused.value.catalog}.example_too_big", lang, **refused.value.details)
    assert "131" in text and "128" in text  # what it needs, and the budget, in MB


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_mock_exam_over_the_time_budget_is_refused_naming_both_numbers(lang):
    pass_cost = cost.PassCost(4 * 2 ** 20, 35_000_000)  # the hole of the issue: 35 M multiply-adds an image
    pass_cost.check(10)  # a few images fit
    with pytest.raises(cost.PassTooCostly) as refused:
        pass_cost.check(360)  # the digits' mock exam: 12.6 G multiply-adds
    seconds = 360 * 35e6 / cost.MULTIPLY_ADDS_PER_SECOND
    assert refused.value.code == "exam_too_slow" and refused.value.details["needs"] == f"{seconds:.1f}"
    text = i18n.translate(f"{refused.value.catalog}.exam_too_slow", lang, **refused.value.details)
    assert f"{seconds:.1f}" in text and f"{cost.EXAM_SECONDS:g}" in text and "360" in text


def test_following_one_input_is_bounded_by_what_a_page_may_hold():
    wide = cost.PassCost.of(models.describe([{"type": "Conv2D", "filters": 5000, "kernel_size": 3,
                                              "padding": "same"}], (32, 32, 3)))
    with pytest.raises(cost.PassTooCostly) as refused:
        wide.check_follow()
    assert refused.value.code == "follow_too_big" and refused.value.details["budget"] == "16"


def test_the_builder_refuses_a_layer_with_more_numbers_per_example_than_a_shared_server_holds():
    with pytest.raises(models.ModelSpecError) as refused:
        models.describe([{"type": "Conv2D", "filters": 60_000, "kernel_size": 1, "padding": "same"}], (32, 32, 3))
    assert refused.value.code == "too_large_output" and refused.value.details["values"] == f"{32 * 32 * 60_000:,}"
    for lang in ("en", "ko"):
        assert f"{32 * 32 * 60_000:,}" in i18n.translate("errors.model.too_large_output", lang, **refused.value.details)


def test_a_training_runs_memory_counts_every_output_twice_per_example_and_the_weights_four_times():
    infos = models.describe(models.PRESETS["digits_cnn"][1], (8, 8, 1))
    params = sum(i.params for i in infos)
    outputs = 64 + sum(math.prod(i.output_shape) for i in infos)
    assert cost.training_bytes(infos, params, batch_size=32) == 16 * params + 8 * 32 * outputs
    both = cost.training_bytes(infos, params, batch_size=32, models=3, inference_batch=100, data_bytes=7)
    assert both == 3 * 16 * params + 8 * 32 * outputs + 100 * cost.PassCost.of(infos).example_bytes + 7
