"""The glossary: the study note's terms and analogies and every term the pages use, grouped in the
note's order, each with the page that shows it — and a search that finds a term by its name in
either language (a Korean student types 에포크, an English one epoch) or by its explanation."""
import dataclasses

from lib.i18n import LANGUAGES, translate

# (group, terms); each term is (id in the catalog, the page that shows it).
TERMS = (
    ("data", (("dataset", "training"), ("train_set", "training"), ("test_set", "evaluate"),
              ("validation_set", "overfitting"), ("label", "training"), ("ground_truth", "losses"),
              ("one_hot", "losses"))),
    ("layers", (("model", "model"), ("layer", "model"), ("deep_learning", "model"), ("sequential", "model"),
                ("parameter", "model"), ("convolution", "filters"), ("kernel", "filters"),
                ("feature_map", "filters"), ("stride", "filters"), ("padding", "filters"),
                ("pooling", "pooling"), ("flatten", "model"), ("dense", "model"), ("dropout", "overfitting"),
                ("activation", "activations"), ("relu", "activations"), ("sigmoid", "activations"),
                ("softmax", "activations"), ("maxout", "activations"))),
    ("compile", (("compile", "losses"), ("loss", "losses"), ("cross_entropy", "losses"), ("mse", "losses"),
                 ("mae", "losses"), ("metric", "losses"), ("accuracy", "losses"), ("optimizer", "optimizers"),
                 ("gradient", "optimizers"), ("sgd", "optimizers"), ("momentum", "optimizers"),
                 ("rmsprop", "optimizers"), ("adam", "optimizers"))),
    ("train", (("fit", "training"), ("epoch", "training"), ("batch_size", "training"),
               ("learning_rate", "training"), ("hyperparameter", "training"), ("overfitting", "overfitting"),
               ("regularization", "overfitting"), ("early_stopping", "overfitting"),
               ("augmentation", "overfitting"))),
    ("use", (("evaluate", "evaluate"), ("predict", "evaluate"), ("confusion_matrix", "evaluate"),
             ("save_load", "save_load"))),
)
SEED_TERMS = ("train_set", "test_set", "label", "ground_truth")  # the note's own analogies


@dataclasses.dataclass(frozen=True)
class Term:
    id: str
    group: str
    page: str


def terms():
    """Every term, in the glossary's order."""
    return [Term(term, group, page) for group, entries in TERMS for term, page in entries]


def search(query, lang):
    """The terms whose name in any language, or whose explanation in `lang`, contains `query`
    (case and surrounding spaces ignored); every term for an empty query."""
    needle = str(query).strip().casefold()
    found = []
    for term in terms():
        names = [translate(f"glossary.term.{term.id}.name", other) for other in LANGUAGES]
        haystack = " ".join([*names, translate(f"glossary.term.{term.id}.text", lang)]).casefold()
        if needle in haystack:
            found.append(term)
    return found
