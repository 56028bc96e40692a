"""lib.models and the Model & layers page: shapes and parameter counts by hand and by Keras,
clear errors naming the layer, many sessions building at once, and the page under AppTest."""
import random
import re
import threading

import numpy as np
import pytest

from lib import i18n, models, snippets
from tests.helpers import exercise_widgets, open_page, run_snippet, shown_code


def random_stack(rng, image):
    """A random stack Keras can build: conv/pool while the image is big enough, then dense."""
    layers = []
    if image:
        for _ in range(rng.randint(0, 3)):
            k = rng.choice([1, 2, 3, 5])
            layers.append({"type": "Conv2D", "filters": rng.randint(1, 6), "kernel_size": k,
                           "strides": rng.choice([1, 2]), "padding": rng.choice(models.PADDINGS),
                           "activation": rng.choice(models.ACTIVATIONS)})
            layers.append({"type": rng.choice(["MaxPooling2D", "AveragePooling2D"]),
                           "pool_size": rng.choice([1, 2]), "strides": rng.choice([None, 1, 2]),
                           "padding": "same"})
        layers.append({"type": "Flatten"})
    for _ in range(rng.randint(1, 3)):
        layers.append({"type": "Dense", "units": rng.randint(1, 40), "activation": rng.choice(models.ACTIVATIONS)})
        if rng.random() < 0.5:
            layers.append(rng.choice([{"type": "Dropout", "rate": 0.3}, {"type": "Activation", "activation": "relu"}]))
    return layers


@pytest.mark.parametrize("seed", range(12))
def test_describe_agrees_with_keras_on_shapes_and_parameters(seed):
    rng = random.Random(seed)
    image = seed % 2 == 0
    shape = (28, 28, 1) if image else (64,)
    layers = random_stack(rng, image)
    infos = models.describe(layers, shape)
    model = models.build_sequential(layers, shape)
    for info, layer in zip(infos, model.layers, strict=True):
        assert info.output_shape == tuple(layer.output.shape[1:]), info
        assert info.params == layer.count_params(), info
        assert info.name == layer.name
    assert sum(i.params for i in infos) == model.count_params()


def test_the_seeds_model_has_25450_parameters_by_formula():
    shape, layers = models.PRESETS["seed"]
    infos = models.describe(layers, shape)
    assert [i.params for i in infos] == [784 * 32 + 32, 0, 32 * 10 + 10, 0]
    assert infos[0].formula == "784 × 32 + 32"
    assert models.build_sequential(layers, shape).count_params() == 25_450


def test_conv_and_pool_output_sizes_follow_the_textbook_formula():
    for n, k, s in [(28, 3, 1), (28, 5, 2), (13, 3, 3), (8, 8, 1)]:
        info = models.describe([{"type": "Conv2D", "filters": 2, "kernel_size": k, "strides": s}], (n, n, 1))[0]
        assert info.output_shape == ((n - k) // s + 1, (n - k) // s + 1, 2)
        info = models.describe([{"type": "Conv2D", "filters": 2, "kernel_size": k, "strides": s,
                                 "padding": "same"}], (n, n, 1))[0]
        assert info.output_shape[0] == int(np.ceil(n / s))
        assert info.params == k * k * 1 * 2 + 2


def test_summary_table_lists_every_layer():
    shape, layers = models.PRESETS["small_cnn"]
    table = models.summary_table(models.build_sequential(layers, shape))
    assert list(table.columns) == ["layer", "type", "output_shape", "params"]
    assert table["type"].tolist() == [x["type"] for x in layers]
    assert table["output_shape"].iloc[0] == "(None, 26, 26, 8)"
    assert table["params"].sum() == 5258


@pytest.mark.parametrize("layers,shape,code,index", [
    ([{"type": "Dense", "units": -3}], (784,), "not_positive", 1),
    ([{"type": "Dense", "units": "abc"}], (784,), "not_a_number", 1),
    ([{"type": "Dense", "units": 2.5}], (784,), "not_whole", 1),
    ([{"type": "Dense", "units": 8}, {"type": "Dropout", "rate": 1.5}], (784,), "not_a_rate", 2),
    ([{"type": "Dense", "units": 8, "activation": "magic"}], (784,), "unknown_choice", 1),
    ([{"type": "Conv3D"}], (784,), "unknown_type", 1),
    ([{"type": "Dense", "units": 8, "bias": True}], (784,), "unknown_arg", 1),
    ([{"type": "Conv2D", "kernel_size": 5}], (4, 4, 1), "window_too_large", 1),
    ([{"type": "Dense", "units": 4}, {"type": "MaxPooling2D"}], (784,), "needs_image", 2),
    ([{"type": "Conv2D", "filters": 4, "kernel_size": 3}, {"type": "MaxPooling2D", "pool_size": 3},
      {"type": "MaxPooling2D", "pool_size": 9}], (28, 28, 1), "window_too_large", 3),
    ([{"type": "Dense", "units": 4096}] * 2, (784,), "too_many_params", 0),
    ([{"type": "Flatten"}] * 21, (784,), "too_many_layers", 0),
    ([], (0, 4, 1), "bad_input_shape", 0),
])
def test_a_stack_keras_rejects_raises_a_clear_error_naming_the_layer(layers, shape, code, index):
    with pytest.raises(models.ModelSpecError) as caught:
        models.build_sequential(layers, shape)
    error = caught.value
    assert isinstance(error, ValueError)
    assert (error.code, error.index) == (code, index)
    if index:
        assert f"layer {index}" in str(error)
    for lang in i18n.LANGUAGES:  # every reason has a message in both languages with its numbers
        text = i18n.translate(f"errors.model.{code}", lang, **error.details)
        assert text and "{" not in text


def test_the_parameter_cap_is_checked_before_keras_allocates_anything():
    huge = [{"type": "Flatten"}, {"type": "Dense", "units": 100_000}, {"type": "Dense", "units": 100_000}]
    with pytest.raises(models.ModelSpecError, match="parameters"):
        models.build_sequential(huge, (32, 32, 3))


def test_keras_has_the_last_word_and_its_refusal_names_the_layer(monkeypatch):
    def refuse(layer_type, args, name, seed=None):
        raise ValueError("Keras says no")

    monkeypatch.setattr(models, "make_layer", refuse)
    with pytest.raises(models.ModelSpecError) as caught:
        models.build_sequential([{"type": "Dense", "units": 3}], (4,))
    assert caught.value.code == "keras" and caught.value.index == 1 and "Keras says no" in str(caught.value)


def test_encode_and_decode_a_stack_round_trip():
    for shape, layers in models.PRESETS.values():
        text = models.encode_stack(layers)
        assert re.fullmatch(r"[A-Za-z0-9.~_-]+", text), "URL-safe"
        decoded = models.decode_stack(text)
        assert decoded == [models.check_layer(x, i) for i, x in enumerate(layers, 1)]
        assert models.decode_shape(models.encode_shape(shape)) == shape


@pytest.mark.parametrize("text,code", [("Dense--3", "not_a_number"), ("Dense-0", "not_positive"), ("Dense-abc", "not_a_number"),
                                       ("Foo-3", "unknown_type"), ("Dropout-0.5-9", "too_many_fields")])
def test_a_broken_stack_text_raises_model_spec_error(text, code):
    with pytest.raises(models.ModelSpecError) as caught:
        models.decode_stack(text)
    assert caught.value.code == code


def test_seeded_builds_are_identical_and_need_no_global_seed():
    shape, layers = models.PRESETS["digits_cnn"]
    a = models.build_sequential(layers, shape, seed=7).get_weights()
    b = models.build_sequential(layers, shape, seed=7).get_weights()
    c = models.build_sequential(layers, shape, seed=8).get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], c[0])


def test_many_sessions_building_models_at_the_same_moment_never_collide():
    """The bug seen with 10 browser sessions: Keras's auto-names clashed across threads."""
    errors, barrier = [], threading.Barrier(10, timeout=120)

    def build(i):
        try:
            barrier.wait()
            for _ in range(3):
                shape, layers = list(models.PRESETS.values())[i % 3]
                models.build_sequential(layers, shape, seed=i)
        except Exception as e:  # collected and reported below
            errors.append(e)

    threads = [threading.Thread(target=build, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert not any(thread.is_alive() for thread in threads) and errors == []


# --- The page ---------------------------------------------------------------------------------

def test_the_page_opens_on_the_seeds_model_in_both_languages():
    for lang in i18n.LANGUAGES:
        at = open_page("lessons/model.py", lang)
        assert at.title[0].value == i18n.translate("model.title", lang)
        assert [m.value for m in at.metric] == ["25,450"]
        assert at.query_params["model.stack"] in ("Dense-32~Activation-relu~Dense-10~Activation-softmax",
                                            ["Dense-32~Activation-relu~Dense-10~Activation-softmax"])


def test_every_control_of_the_page_works():
    at = open_page("lessons/model.py")
    assert exercise_widgets(at) >= 15
    assert not at.exception


def test_presets_load_and_the_code_prints_the_total_shown(tmp_path):
    at = open_page("lessons/model.py", "ko")
    at.button(key="model.preset_small_cnn").click().run()
    assert [m.value for m in at.metric] == ["5,258"]
    out = run_snippet(shown_code(at), tmp_path)
    assert "Total params: 5258" in out


def test_a_class_link_opens_the_same_stack():
    at = open_page("lessons/model.py", query={"model.input": "8x8x1", "model.stack": "Conv2D-8-3-1-same-relu~MaxPooling2D-2~Flatten~Dense-10"})
    assert [m.value for m in at.metric] == [f"{80 + 128 * 10 + 10:,}"]


def test_an_unreadable_link_says_so_and_shows_the_seeds_model():
    at = open_page("lessons/model.py", "ko", query={"model.stack": "Dense-abc"})
    assert "units" in at.warning[0].value and "abc" in at.warning[0].value
    assert [m.value for m in at.metric] == ["25,450"]


def test_a_kernel_larger_than_its_input_names_the_layer_and_the_page_keeps_working():
    at = open_page("lessons/model.py", query={"model.input": "8x8x1", "model.stack": "Conv2D-4-3~MaxPooling2D-2~Conv2D-4-5"})
    assert len(at.error) == 1
    message = at.error[0].value
    assert "Layer 3 (Conv2D)" in message and "5×5" in message and "3×3" in message
    assert len(at.code) == 0  # no code for a stack that cannot be built...
    at.number_input(key=[w.key for w in at.number_input if w.key.endswith("kernel_size")][-1]).set_value(3).run()
    assert not at.error and not at.exception  # ...and fixing the layer brings everything back
    assert len(at.code) == 1


def test_layers_can_be_added_moved_and_removed():
    at = open_page("lessons/model.py")
    at.selectbox(key="model.new_layer").set_value("Dropout").run()
    add = [b for b in at.button if b.label == i18n.translate("model.add", "en")][0]
    add.click().run()
    assert at.query_params["model.stack"].endswith("Dropout-0.5") or at.query_params["model.stack"][0].endswith("Dropout-0.5")
    first_up = [b for b in at.button if b.key and b.key.endswith(".down")][0]
    first_up.click().run()
    stack = at.query_params["model.stack"] if isinstance(at.query_params["model.stack"], str) else at.query_params["model.stack"][0]
    assert stack.startswith("Activation-relu~Dense-32")
    for _ in range(5):
        removes = [b for b in at.button if b.key and b.key.endswith(".remove")]
        if removes:
            removes[0].click().run()
    assert not at.exception
    assert at.info[0].value == i18n.translate("model.empty", "en")


def test_the_shown_code_runs_and_prints_the_number_on_the_page(tmp_path):
    shape, layers = models.PRESETS["digits_cnn"]
    code = snippets.model_snippet([models.check_layer(x, i) for i, x in enumerate(layers, 1)], shape, "en")
    out = run_snippet(code, tmp_path)
    assert f"Total params: {models.build_sequential(layers, shape).count_params()}" in out


def test_the_seed_dense_with_input_shape_warns_as_the_page_says_and_the_code_uses_input():
    """The seed's `Dense(32, input_shape=(784,))`: the page quotes the warning Keras 3 really gives,
    and the shown code starts with `keras.Input` (no warning)."""
    import warnings

    import keras

    from lib import i18n, snippets

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        keras.layers.Dense(32, input_shape=(784,))
    said = " ".join(str(w.message) for w in caught)
    assert said.startswith("Do not pass an `input_shape`/`input_dim` argument to a layer."), said
    for lang in i18n.LANGUAGES:
        assert said in i18n.translate("model.notice", lang), lang
    code = snippets.model_snippet(models.PRESETS["seed"][1], (784,), "en")
    assert "INPUT_SHAPE = (784,)" in str(code) and "keras.Input(shape=INPUT_SHAPE)" in str(code)
    assert "input_shape=" not in str(code)
