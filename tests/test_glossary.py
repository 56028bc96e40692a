"""The glossary: the seed's analogies, every term in both languages, found by its name in either
language, linked to its page."""
import numpy as np
import pytest

from lib import glossary, i18n, ui
from tests.helpers import exercise_widgets, open_page


def test_every_term_has_a_name_and_text_in_both_languages_and_a_known_page():
    page_ids = {p.id for p in ui.PAGES}
    assert len(glossary.terms()) == len({term.id for term in glossary.terms()}) >= 50
    for term in glossary.terms():
        assert term.page in page_ids
        for lang in i18n.LANGUAGES:
            assert i18n.translate(f"glossary.term.{term.id}.name", lang)
            assert i18n.translate(f"glossary.term.{term.id}.text", lang)


KERAS_NAMES = ("RMSprop", "Adam")  # Korean textbooks write these in Latin letters, as Keras does


def test_every_korean_name_is_korean_with_the_english_in_brackets_or_a_keras_name():
    for term in glossary.terms():
        name = i18n.translate(f"glossary.term.{term.id}.name", "ko")
        if name in KERAS_NAMES:
            assert name == i18n.translate(f"glossary.term.{term.id}.name", "en")
            continue
        assert any("\uac00" <= c <= "\ud7a3" for c in name.split("(")[0]), name
        assert name.endswith(")") and "(" in name, name


def test_the_korean_glossary_says_the_house_terms_only():
    """One term per idea, as the pages say it: 학습/검증/테스트 데이터, RMSprop and Adam in Latin
    letters, 우리 반 모델. Other courses' words are for the search (glossary.ALSO_CALLED) only."""
    words = {k: v for k, v in i18n.catalog("ko").items() if k.startswith("glossary.")}
    banned = ("학습 세트", "훈련", "검증 세트", "테스트 세트", "알엠에스프롭", "아담", "클래스 모델", "과대적합")
    assert {k: [b for b in banned if b in v] for k, v in words.items() if any(b in v for b in banned)} == {}
    assert i18n.translate("glossary.term.rmsprop.name", "ko") == "RMSprop"
    assert i18n.translate("glossary.term.adam.name", "ko") == "Adam"
    assert i18n.translate("glossary.term.validation_set.name", "ko").startswith("검증 데이터 (")
    assert i18n.translate("glossary.term.train_set.name", "ko").startswith("학습 데이터 (")
    assert i18n.translate("glossary.term.test_set.name", "ko").startswith("테스트 데이터 (")


@pytest.mark.parametrize("query,lang,term", [
    ("에포크", "ko", "epoch"), ("소프트맥스", "ko", "softmax"), ("시그모이드", "ko", "sigmoid"), ("드롭아웃", "ko", "dropout"),
    ("epoch", "ko", "epoch"), ("에포크", "en", "epoch"), ("Softmax", "en", "softmax"), ("  DROPOUT ", "en", "dropout"),
    ("혼동 행렬", "ko", "confusion_matrix"), ("confusion matrix", "en", "confusion_matrix")])
def test_a_term_is_found_by_its_name_in_either_language(query, lang, term):
    assert term in [t.id for t in glossary.search(query, lang)]


def test_search_keeps_the_glossarys_order_and_finds_nothing_for_nonsense():
    assert glossary.search("", "en") == glossary.terms()
    assert glossary.search("zzzz", "ko") == []
    assert [t.group for t in glossary.search("a", "en")] == sorted(
        [t.group for t in glossary.search("a", "en")], key=[g for g, _ in glossary.TERMS].index)


def test_the_seeds_analogies_are_there_in_both_languages():
    assert "workbook" in i18n.translate("glossary.term.train_set.seed", "en")
    assert "학습지" in i18n.translate("glossary.term.train_set.seed", "ko")
    assert "모의고사" in i18n.translate("glossary.term.test_set.seed", "ko")
    assert "정답지" in i18n.translate("glossary.term.label.seed", "ko")


def test_the_page_shows_every_term_and_the_analogy_figure():
    at = open_page("lessons/glossary.py", "ko")
    assert at.title[0].value == "용어 사전"
    assert len(at.get("plotly_chart")) == 1
    shown = " ".join(m.value for m in at.markdown)
    for term in glossary.terms():
        assert i18n.translate(f"glossary.term.{term.id}.name", "ko") in shown


def test_search_on_the_page_finds_a_korean_name_and_says_when_nothing_matches():
    at = open_page("lessons/glossary.py", "ko")
    at.text_input(key="glossary.q").set_value("에포크").run()
    shown = " ".join(m.value for m in at.main.markdown)  # the page, not the sidebar's checklist
    assert "에포크 (epoch)" in shown and "풀링" not in shown
    at.text_input(key="glossary.q").set_value("[click](http://x)").run()
    assert "\\[click\\]\\(http://x\\)" in at.info[0].value  # shown as typed, not as a link
    assert exercise_widgets(at) >= 1


def test_softmax_is_the_multi_class_ending_and_a_yes_no_classifier_ends_in_one_sigmoid():
    """As the Activations page says it: softmax gives one probability per class, adding up to 1."""
    en = i18n.translate("glossary.term.softmax.text", "en")
    ko = i18n.translate("glossary.term.softmax.text", "ko")
    assert "multi-class" in en and "one sigmoid unit" in en and "sum to 1" in en
    assert "여러 클래스" in ko and "sigmoid 유닛 하나" in ko and "합이 1" in ko


# Tried as a Korean student would (issue 20): each query, the entries it must find, in either
# language of the page. Spaces, case, hyphens and underscores do not matter; other courses' names do.
STUDENT_QUERIES = [
    ("과대적합", {"overfitting"}), ("과적합", {"overfitting"}), ("오버피팅", {"overfitting"}),
    ("훈련", {"fit", "train_set"}), ("학습", {"fit", "train_set"}), ("훈련 데이터", {"train_set"}),
    ("검증 데이터", {"validation_set"}), ("검증데이터", {"validation_set"}), ("검증 세트", {"validation_set"}),
    ("검증셋", {"validation_set"}), ("혼동행렬", {"confusion_matrix"}), ("혼동 행렬", {"confusion_matrix"}),
    ("손실함수", {"loss"}), ("손실 함수", {"loss"}), ("비용 함수", {"loss"}), ("비용함수", {"loss"}),
    ("미니배치", {"batch_size"}), ("미니 배치", {"batch_size"}), ("배치", {"batch_size"}),
    ("로짓", {"logit"}), ("logit", {"logit"}), ("정규화", {"normalization", "regularization"}),
    ("validation_split", {"validation_set"}), ("validation split", {"validation_set"}), ("에폭", {"epoch"}),
]


@pytest.mark.parametrize("lang", list(i18n.LANGUAGES))
@pytest.mark.parametrize("query,expected", STUDENT_QUERIES, ids=[q for q, _ in STUDENT_QUERIES])
def test_a_korean_student_finds_the_term_however_it_is_spelled(query, expected, lang):
    assert expected <= {t.id for t in glossary.search(query, lang)}


@pytest.mark.parametrize("query,term", [
    ("CONFUSION-MATRIX", "confusion_matrix"), ("early_stopping", "early_stopping"), ("one hot", "one_hot"),
    ("BatchSize", "batch_size"), ("ｅｐｏｃｈ", "epoch"), ("혼동-행렬", "confusion_matrix"),
    ("학 습 률", "learning_rate")])
def test_search_ignores_spaces_case_hyphens_underscores_and_full_width_letters(query, term):
    assert term in [t.id for t in glossary.search(query, "en")]


def test_every_other_name_belongs_to_a_term_and_normalization_is_told_from_regularization():
    assert set(glossary.ALSO_CALLED) <= {term.id for term in glossary.terms()}
    assert [t.id for t in glossary.search("정규화", "ko")] == ["normalization", "regularization"]
    assert "정규화(normalization)와는 다른" in i18n.translate("glossary.term.regularization.text", "ko")
    assert "규제(regularization)를 정규화라고" in i18n.translate("glossary.term.normalization.text", "ko")


def test_the_search_reads_no_catalog_after_its_first_run_in_a_language(monkeypatch):
    """It runs on every keystroke of a whole class: the normalised index is built once per language."""
    for lang in i18n.LANGUAGES:
        glossary.search("warm up", lang)

    def refuse(*args, **kwargs):
        raise AssertionError("the search read the catalog again")

    monkeypatch.setattr(glossary, "translate", refuse)
    assert [t.id for t in glossary.search("과대적합", "ko")] == ["overfitting"]
    assert [t.id for t in glossary.search("Confusion Matrix", " KO ")] == ["confusion_matrix"]


def test_overfitting_is_watched_on_validation_and_the_test_data_chooses_nothing():
    en = i18n.translate("glossary.term.overfitting.text", "en")
    ko = i18n.translate("glossary.term.overfitting.text", "ko")
    assert "validation accuracy stalls" in en and "test accuracy" not in en
    assert "test data chooses nothing" in en
    assert "검증 정확도는 멈추거나" in ko and "테스트 정확도" not in ko
    assert "테스트 데이터는 아무것도 고르지 않고" in ko


def tiny_classifier(*, dropout=0.0, l2=0.0, units=16, lr=0.01):
    """A small seeded Keras classifier of 8 inputs and 3 classes (explicit seeds, no global one)."""
    import keras

    init = keras.initializers.GlorotUniform(seed=0)
    reg = keras.regularizers.L2(l2) if l2 else None
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(units, "relu", kernel_initializer=init),
                              keras.layers.Dropout(dropout, seed=0),
                              keras.layers.Dense(3, "softmax", kernel_initializer=init, kernel_regularizer=reg)])
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def noise_data(n, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 8)).astype("float32"), rng.integers(0, 3, n).astype("int32")


def cross_entropy(probabilities, y):
    """The independent reference: mean −log of the probability given to the right class."""
    return float(-np.mean(np.log(probabilities[np.arange(len(y)), y])))


def test_evaluate_scores_whatever_data_it_is_given_loss_first_in_inference_mode():
    """model.evaluate on the very data fit trained on still answers: the loss, then the metric,
    with Dropout off (as predict computes them)."""
    x, y = noise_data(64, seed=1)
    model = tiny_classifier(dropout=0.5)
    model.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
    loss, accuracy = model.evaluate(x, y, batch_size=64, verbose=0)
    p = model.predict(x, verbose=0)
    assert loss == pytest.approx(cross_entropy(p, y), rel=1e-5)
    assert accuracy == pytest.approx(np.mean(p.argmax(1) == y))
    en = i18n.translate("glossary.term.evaluate.text", "en")
    ko = i18n.translate("glossary.term.evaluate.text", "ko")
    assert "not trained on" not in en and "on whatever data it is given" in en and "the loss, then" in en
    assert "학습에 쓰지 않은 데이터로 잰" not in ko and "받은 데이터가 무엇이든" in ko
    assert "inference mode (Dropout off)" in en and "추론 모드라서 Dropout은 꺼져" in ko


def test_dropout_scales_kept_values_by_one_over_one_minus_rate_in_training_and_is_off_in_predict():
    import keras

    rate, x = 0.25, np.ones((1, 2000), "float32")
    layer = keras.layers.Dropout(rate, seed=0)
    trained = keras.ops.convert_to_numpy(layer(x, training=True))
    np.testing.assert_allclose(trained[trained != 0], 1 / (1 - rate), rtol=1e-6)
    assert 0.2 < np.mean(trained == 0) < 0.3
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x, training=False)), x)
    model = keras.Sequential([keras.Input((2000,)), keras.layers.Dropout(rate, seed=0)])
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    for lang in i18n.LANGUAGES:
        for term in ("train_mode", "dropout"):
            assert "1/(1 − rate)" in i18n.translate(f"glossary.term.{term}.text", lang), (term, lang)
    assert "in evaluate and predict (inference mode) it passes every value unchanged" in \
        i18n.translate("glossary.term.train_mode.text", "en")
    assert "evaluate와 predict(추론 모드)에서는 모든 값을 그대로" in i18n.translate("glossary.term.train_mode.text", "ko")


def test_l2_adds_lambda_times_the_sum_of_squares_without_a_half_to_the_evaluated_loss_too():
    x, y = noise_data(32, seed=2)
    model = tiny_classifier(l2=0.01)
    loss, _ = model.evaluate(x, y, batch_size=32, verbose=0)
    kernel = model.layers[-1].kernel.numpy()
    penalty = 0.01 * np.sum(kernel ** 2)
    assert loss - cross_entropy(model.predict(x, verbose=0), y) == pytest.approx(penalty, rel=1e-4)
    assert "λ·Σw² (no ½)" in i18n.translate("glossary.term.regularization.text", "en")
    assert "λ·Σw²(½ 없이)" in i18n.translate("glossary.term.regularization.text", "ko")


def test_mse_is_the_mean_of_the_squares_not_mae_squared():
    import keras

    truth, predicted = np.zeros((2, 1), "float32"), np.array([[1.0], [3.0]], "float32")
    errors = predicted - truth
    mse = float(keras.losses.MeanSquaredError()(truth, predicted))
    mae = float(keras.losses.MeanAbsoluteError()(truth, predicted))
    assert (mae, mse) == (float(np.mean(np.abs(errors))), float(np.mean(errors ** 2))) == (2.0, 5.0)
    assert mse != mae ** 2
    assert "errors of 1 and 3 give MAE 2 but MSE 5 (while 2² = 4)" in i18n.translate("glossary.term.mse.text", "en")
    assert "오차가 1과 3이면 MAE는 2이지만 MSE는 5입니다(2² = 4)" in i18n.translate("glossary.term.mse.text", "ko")


def test_normalization_adapts_on_the_training_data_and_rescales_the_test_data_with_its_numbers():
    import keras

    rng = np.random.default_rng(3)
    scale = np.array([1.0, 50.0, 1000.0], "float32")
    x_train, x_test = (rng.normal(5, 2, (200, 3)) * scale).astype("float32"), (rng.normal(6, 3, (50, 3)) * scale)
    layer = keras.layers.Normalization()
    layer.adapt(x_train)
    shown = keras.ops.convert_to_numpy(layer(x_test.astype("float32")))
    np.testing.assert_allclose(shown, (x_test - x_train.mean(0)) / x_train.std(0), rtol=1e-4, atol=1e-4)
    en = i18n.translate("glossary.term.normalization.text", "en")
    assert "(x − mean) / √variance" in en and "adapt(x_train)" in en and "training data only" in en
    assert "학습 데이터에서만" in i18n.translate("glossary.term.normalization.text", "ko")


def test_validation_split_sets_aside_the_last_fifth_of_the_training_arrays():
    x, y = noise_data(50, seed=4)
    model = tiny_classifier()
    history = model.fit(x, y, epochs=1, batch_size=8, validation_split=0.2, shuffle=True, verbose=0)
    last_fifth = model.evaluate(x[40:], y[40:], verbose=0)[0]
    assert history.history["val_loss"][-1] == pytest.approx(last_fifth, rel=1e-5)
    assert "validation_split=0.2) sets aside the last **20 %**" in i18n.translate(
        "glossary.term.validation_set.text", "en")
    assert "validation_split=0.2)는 학습 데이터 배열의 마지막 **20 %**" in i18n.translate(
        "glossary.term.validation_set.text", "ko")


def test_model_checkpoint_with_save_best_only_brings_back_the_best_epoch_not_the_last(tmp_path):
    import keras

    (x, y), (x_val, y_val) = noise_data(32, seed=5), noise_data(32, seed=6)  # noise: it must overfit
    model = tiny_classifier(units=64, lr=0.05)
    path = str(tmp_path / "best.keras")
    best = keras.callbacks.ModelCheckpoint(path, monitor="val_loss", save_best_only=True)
    history = model.fit(x, y, epochs=12, batch_size=32, shuffle=False, validation_data=(x_val, y_val),
                        callbacks=[best], verbose=0).history["val_loss"]
    assert np.argmin(history) < len(history) - 1  # the run got worse at the end: the check can bite
    loaded = keras.models.load_model(path, compile=True)
    assert loaded.evaluate(x_val, y_val, batch_size=32, verbose=0)[0] == pytest.approx(min(history), rel=1e-5)
    for lang in i18n.LANGUAGES:
        text = i18n.translate("glossary.term.checkpoint.text", lang)
        assert 'monitor="val_loss", save_best_only=True)' in text and 'load_model("best.keras")' in text


def test_a_keras_file_holds_the_optimizers_state_two_values_a_weight_for_adam(tmp_path):
    import keras

    x, y = noise_data(16, seed=7)
    model = tiny_classifier()
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    moments = [v for v in loaded.optimizer.variables if v.path.endswith(("_momentum", "_velocity"))]
    assert len(moments) == 2 * len(model.trainable_weights)
    for saved, restored in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(saved), np.asarray(restored))
    assert "the optimizer's state (for Adam, two running averages, m and v, for every weight)" in \
        i18n.translate("glossary.term.save_load.text", "en")
    assert "옵티마이저의 상태(Adam이라면 가중치마다 두 이동 평균 m과 v)" in \
        i18n.translate("glossary.term.save_load.text", "ko")


def test_a_loss_given_logits_applies_the_softmax_itself():
    import keras

    logits, y = np.array([[2.0, -1.0, 0.5], [0.1, 0.2, 3.0]], "float32"), np.array([0, 2])
    loss = float(keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y, logits))
    softmax = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    assert loss == pytest.approx(cross_entropy(softmax, y), rel=1e-6)
    assert "from_logits=True applies the softmax" in i18n.translate("glossary.term.logit.text", "en")
    assert "from_logits=True를 주면 softmax" in i18n.translate("glossary.term.logit.text", "ko")


def test_the_new_terms_of_issue_20_are_there_each_with_its_page():
    new = {"model_selection", "train_mode", "checkpoint", "regression", "normalization", "logit", "mse", "mae"}
    assert new <= {term.id for term in glossary.terms()}
    selection = i18n.translate("glossary.term.model_selection.text", "en")
    assert "made on the validation score" in selection and "on the test data once" in selection
    assert "검증 점수로 합니다" in i18n.translate("glossary.term.model_selection.text", "ko")
    assert "Dense(1) with no activation" in i18n.translate("glossary.term.regression.text", "en")


def test_the_page_finds_a_term_by_another_korean_name_and_links_to_its_page():
    at = open_page("lessons/glossary.py", "ko")
    assert len(at.get("page_link")) == len(glossary.terms())  # every term, each with its link
    at.text_input(key="glossary.q").set_value("과대적합").run()
    shown = " ".join(m.value for m in at.markdown)
    assert "과적합 (overfitting)" in shown and not at.info
    links = at.get("page_link")
    assert [link.proto.page for link in links] == ["overfitting"]
    assert links[0].proto.label == i18n.translate("glossary.see", "ko", page=i18n.translate("nav.overfitting", "ko"))
    at.text_input(key="glossary.q").set_value("정규화").run()
    shown = " ".join(m.value for m in at.markdown)
    assert "규제 (L2 regularization)" in shown and "정규화 레이어 (Normalization)" in shown
    assert len(at.get("page_link")) == 2


def test_the_study_notes_input_shape_still_builds_but_warns_and_keras_input_replaced_it():
    import warnings

    import keras

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = keras.Sequential([keras.layers.Dense(32, input_shape=(784,))])
    new = keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(32)])
    assert old.input_shape == new.input_shape == (None, 784) and old.count_params() == new.count_params()
    said = [str(w.message) for w in caught if "input_shape" in str(w.message)]
    assert said and said[0].startswith("Do not pass an `input_shape`/`input_dim` argument to a layer")
    for lang in i18n.LANGUAGES:
        text = i18n.translate("glossary.term.sequential.text", lang)
        assert "keras.Input(shape=(784,))" in text and "Do not pass an `input_shape`/`input_dim` argument" in text
