"""The page's language and its words: `t(key)` in the language the student chose, option labels,
text a student typed shown as it is, and a refusal of `lib` said as one message."""
import streamlit as st

from lib import i18n


def lang():
    return st.session_state.get("lang", i18n.DEFAULT_LANGUAGE)


def t(key, **values):
    """The text for `key` in the page's language."""
    return i18n.translate(key, lang(), **values)


class labels:  # noqa: N801  (used like a function: format_func=ui.labels("model.input"))
    """A widget's `format_func` showing option `v` as the text of `prefix.v` (of the first prefix
    that has it, when several are given).

    The language is fixed when it is made: Streamlit may call a format_func outside the script
    run, where the session (and so the language) is out of reach.
    """

    def __init__(self, *prefixes):
        self.prefixes, self.lang = prefixes, lang()

    def __call__(self, value):
        texts = i18n.catalog(self.lang)
        return next(texts[f"{p}.{value}"] for p in self.prefixes if f"{p}.{value}" in texts)


def literal(text):
    """Text a student typed (or a link carried), shown inside Markdown exactly as it is: every
    character Markdown would read as markup is escaped."""
    return "".join("\\" + c if c in "\\`*_{}[]()#+-.!|<>~" else c for c in str(text))


def refusal_text(refusal, **more):
    """A refusal of `lib` (any `lib.errors.Refusal`) in the page's language: its catalog's message
    for its code, filled with its details (and `more` the page knows). A model's refusal that
    names a layer says which (`lib.models.ModelSpecError`)."""
    text = t(f"{refusal.catalog}.{refusal.code}", **{**refusal.details, **more})
    if getattr(refusal, "index", 0):
        return t("errors.model.in_layer", index=refusal.index, type=refusal.layer_type, reason=text)
    return text


def say(refusal, *, kind="error", icon=":material/block:", then="", place=st, **more):
    """A refusal as one message box (st.error, or `kind`) in `place`; `then` says what the page
    does instead."""
    getattr(place, kind)(f"{refusal_text(refusal, **more)} {then}".strip(), icon=icon)


def spec_error_text(error):
    """A `lib.models.ModelSpecError` in the page's language, naming the layer (see refusal_text)."""
    return refusal_text(error)
