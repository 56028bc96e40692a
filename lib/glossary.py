"""The glossary: the study note's terms and analogies and every term the pages use, grouped in the
note's order, each with the page that shows it — and a search that finds a term the way a student
types it: by its name in either language (에포크 or epoch), by another name courses use for it
(과대적합, 훈련 데이터, 미니배치, cost function), or by its explanation; spaces, case, hyphens and
underscores do not matter (혼동행렬 finds 혼동 행렬, validation_split finds validation split)."""
import dataclasses
import functools
import re
import unicodedata

from lib.i18n import LANGUAGES, translate
from lib.i18n import normalize as normalize_lang

# (group, terms); each term is (id in the catalog, the page that shows it).
TERMS = (
    ("data", (("dataset", "training"), ("train_set", "training"), ("test_set", "evaluate"),
              ("validation_set", "overfitting"), ("label", "training"), ("ground_truth", "losses"),
              ("one_hot", "losses"))),
    ("layers", (("model", "model"), ("layer", "model"), ("deep_learning", "model"), ("sequential", "model"),
                ("parameter", "model"), ("convolution", "filters"), ("kernel", "filters"),
                ("feature_map", "filters"), ("stride", "filters"), ("padding", "filters"),
                ("pooling", "pooling"), ("flatten", "model"), ("dense", "model"), ("dropout", "overfitting"),
                ("normalization", "regression"), ("activation", "activations"), ("relu", "activations"),
                ("sigmoid", "activations"), ("softmax", "activations"), ("logit", "activations"),
                ("maxout", "activations"))),
    ("compile", (("compile", "losses"), ("loss", "losses"), ("cross_entropy", "losses"),
                 ("regression", "regression"), ("mse", "losses"), ("mae", "losses"), ("metric", "losses"),
                 ("accuracy", "losses"), ("optimizer", "optimizers"), ("gradient", "optimizers"),
                 ("sgd", "optimizers"), ("momentum", "optimizers"), ("rmsprop", "optimizers"),
                 ("adam", "optimizers"))),
    ("train", (("fit", "training"), ("train_mode", "overfitting"), ("epoch", "training"),
               ("batch_size", "training"), ("learning_rate", "training"), ("hyperparameter", "training"),
               ("overfitting", "overfitting"), ("regularization", "overfitting"),
               ("early_stopping", "overfitting"), ("augmentation", "overfitting"),
               ("model_selection", "training"), ("checkpoint", "overfitting"))),
    ("use", (("evaluate", "evaluate"), ("predict", "evaluate"), ("confusion_matrix", "evaluate"),
             ("save_load", "save_load"))),
)
SEED_TERMS = ("train_set", "test_set", "label", "ground_truth")  # the note's own analogies

# Other names a student types for a term: what other Korean courses and English books call it. The
# search knows them; the pages say only the house term (one term per idea), so they live here, not
# in the catalogs. 정규화 is two ideas in Korean (normalization and regularization): both are found.
ALSO_CALLED = {
    "dataset": ("데이터 세트", "data set", "데이터 집합"),
    "train_set": ("학습 세트", "학습셋", "훈련 데이터", "훈련 세트", "훈련셋", "트레이닝 세트", "트레이닝셋",
                  "training data", "training set"),
    "test_set": ("테스트 세트", "테스트셋", "시험 데이터", "test data"),
    "validation_set": ("검증 세트", "검증셋", "밸리데이션", "validation data", "validation_split",
                       "validation_data", "dev set", "hold-out"),
    "label": ("라벨", "타깃", "타겟", "target"),
    "ground_truth": ("참값", "실제값", "정답값"),
    "one_hot": ("원핫 인코딩", "one-hot encoding", "to_categorical"),
    "layer": ("층", "은닉층", "hidden layer"),
    "deep_learning": ("심층 학습", "심층 신경망", "DNN"),
    "sequential": ("순차 모델", "keras.Sequential"),
    "parameter": ("매개변수", "가중치", "편향", "weights", "bias"),
    "convolution": ("컨볼루션", "콘볼루션", "합성곱층", "CNN"),
    "feature_map": ("특성 맵", "피처 맵", "특징 지도"),
    "stride": ("보폭",),
    "pooling": ("맥스 풀링", "최대 풀링", "MaxPooling2D", "AveragePooling2D"),
    "flatten": ("플래튼", "펼치기"),
    "dense": ("밀집층", "완전 연결층", "전결합층", "fully connected", "FC layer"),
    "normalization": ("정규화", "표준화", "standardization", "normalisation", "adapt"),
    "activation": ("활성 함수",),
    "sigmoid": ("로지스틱 함수", "logistic"),
    "logit": ("로짓", "logits", "from_logits", "점수"),
    "loss": ("손실", "비용 함수", "목적 함수", "cost function", "objective"),
    "cross_entropy": ("교차 엔트로피", "크로스엔트로피", "categorical_crossentropy", "log loss"),
    "regression": ("회귀 분석", "Auto MPG", "연비"),
    "mse": ("평균제곱오차", "mean_squared_error"),
    "mae": ("평균절대오차", "mean_absolute_error"),
    "metric": ("측정 지표", "메트릭", "metrics"),
    "optimizer": ("최적화 함수", "최적화 알고리즘", "최적화기"),
    "gradient": ("그래디언트", "경사", "gradient descent", "경사 하강법"),
    "sgd": ("경사 하강법", "gradient descent"),
    "momentum": ("관성",),
    "fit": ("훈련", "모델 학습", "학습시키기", "training"),
    "train_mode": ("훈련 모드", "추론", "inference", "training=True", "training=False"),
    "epoch": ("에폭", "epochs"),
    "batch_size": ("미니배치", "미니 배치", "배치 사이즈", "mini-batch", "batch"),
    "learning_rate": ("러닝 레이트", "학습 속도", "lr"),
    "hyperparameter": ("하이퍼 파라미터", "초매개변수", "튜닝", "tuning"),
    "overfitting": ("과대적합", "오버피팅", "overfit"),
    "regularization": ("정규화", "L2 규제", "가중치 규제", "kernel_regularizer", "regularisation"),
    "early_stopping": ("얼리 스토핑", "조기 중단", "EarlyStopping", "restore_best_weights"),
    "augmentation": ("데이터 확장", "data augmentation"),
    "model_selection": ("모델 선택", "모델 고르기", "검증", "hyperparameter tuning", "selection"),
    "checkpoint": ("모델 체크포인트", "save_best_only", "best model"),
    "evaluate": ("평가하기", "model.evaluate"),
    "predict": ("추론", "inference", "model.predict"),
    "confusion_matrix": ("오차 행렬", "혼돈 행렬"),
    "save_load": ("모델 저장", "불러오기", "load_model", ".keras"),
}

IGNORED = re.compile(r"[\s\-\u2010-\u2015_\u00b7]+")  # spaces, hyphens and dashes, underscores, middle dots


@dataclasses.dataclass(frozen=True)
class Term:
    id: str
    group: str
    page: str


def terms():
    """Every term, in the glossary's order."""
    return [Term(term, group, page) for group, entries in TERMS for term, page in entries]


def searchable(text):
    """`text` as the search compares it: Unicode-normalised (full-width letters, Hangul typed in
    decomposed jamo), case-folded, without spaces, hyphens or underscores: '미니 배치' → '미니배치',
    'Mini-Batch' → 'minibatch', 'validation_split' → 'validationsplit'."""
    return IGNORED.sub("", unicodedata.normalize("NFKC", str(text)).casefold())


@functools.cache
def _index(lang):
    """Per term, what a search looks in, already made `searchable`: its names in every language and
    its other names (a Korean student may type 에포크 on the English page), then its explanation in
    `lang`. Built once per language: the search runs on every keystroke of a whole class."""
    index = []
    for term in terms():
        names = [translate(f"glossary.term.{term.id}.name", other) for other in LANGUAGES]
        words = [*names, *ALSO_CALLED.get(term.id, ()), translate(f"glossary.term.{term.id}.text", lang)]
        index.append((term, tuple(searchable(w) for w in words)))
    return tuple(index)


def search(query, lang):
    """The terms whose name in any language, other name, or explanation in `lang` contains `query`,
    spaces, case, hyphens and underscores ignored; every term for an empty query. Glossary order."""
    needle = searchable(query)
    if not needle:
        return terms()
    return [term for term, words in _index(normalize_lang(lang)) if any(needle in w for w in words)]
