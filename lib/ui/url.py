"""Settings in the URL: a class link opens the same settings for everyone, and a class link is a
URL anyone can edit. Every widget bound to the URL goes through `choice` or `bound`, which check a
link's value before Streamlit reads it and note what they ignored (`ignored_in_link`)."""
import inspect
import math
import urllib.parse

import streamlit as st

from lib.ui.text import literal, t


def keys(page_id):
    """The widget keys of one page: `key = ui.keys("filters")`, then `key("stride")` is
    "filters.stride". Keys must differ between pages (Streamlit mixes up same-key widgets of two
    pages at a page switch), and a bound widget's key is its name in the URL, so a class link
    reads `?filters.stride=2`."""
    return lambda name: f"{page_id}.{name}"


def choice(widget, label, options, *, key, default=None, labels=None, **kwargs):
    """A select-type widget (st.selectbox, st.segmented_control, st.radio, st.multiselect) whose
    choice lives in the URL as the option itself (`?filters.kernel=sobel_x`), the same in every
    language. (Streamlit's own `bind="query-params"` writes the *displayed* label there, which
    would tie a class link to one language; numbers and text, which have no labels, use `bind`.)
    """
    options = list(options)
    multi = widget is st.multiselect
    if default is None:
        default = [] if multi else options[0]

    def fits(value):
        if multi:
            return isinstance(value, list) and all(v in options and _same_kind(v, options[0]) for v in value)
        return value in options and _same_kind(value, default)

    fixed = _fixed_by_lesson(key, label, fits)
    if fixed is not _SHOWN:
        return fixed
    if key not in st.session_state:  # the first run of this page in this session: the link decides
        st.session_state[key] = _from_url(key, options, default, multi)
    st.session_state.setdefault(BOUND, set()).add(key)
    value = widget(label, options, key=key, format_func=labels or str, **kwargs)
    if value is None and kwargs.get("required"):  # a browser cannot clear it, a stale or forged state can
        value = default
    if value == default or value is None:
        st.query_params.pop(key, None)
    else:
        st.query_params[key] = [str(v) for v in value] if multi else str(value)
    return value


def _from_url(param, options, default, multi):
    """The choice a link makes (the option's own text), or `default` — and a link that asks for
    what is not an option is noted as ignored (see `ignored_in_link`)."""
    by_text = {str(option): option for option in options}
    asked = st.query_params.get_all(param)
    if not asked:
        return default
    if multi and all(a in by_text for a in asked) and len(set(asked)) == len(asked):
        return [by_text[a] for a in asked]
    if not multi and len(asked) == 1 and asked[0] in by_text:
        return by_text[asked[0]]
    _ignore(param, asked)
    return default


MAX_LINK_TEXT = 100  # characters of a text field a link may fill (the glossary's search)

IGNORED = "ui.ignored"  # session key: [(URL key, what it asked)] that this run left at its default

BOUND = "ui.bound"  # session key: the URL keys this session's widgets have read (their links checked)


def bound(widget, label, *args, key, **kwargs):
    """A number, toggle, slider, select slider, text or select box bound to the URL (`?key=value`,
    Streamlit's bind="query-params"), whose value in a link is checked before Streamlit reads it:
    a value that is not one this widget can take (not a number, inf, nan, out of range, not an
    option, too long, repeated) is dropped from the URL, so the widget starts at its default,
    and noted for the page's one-line notice (`ignored_in_link`)."""
    def spec():
        return inspect.signature(widget).bind(label, *args, **kwargs).arguments

    def fits(value):
        return (_same_kind(value, _default_of(widget.__name__, spec()))
                and _takes(widget.__name__, spec(), _as_link(widget, spec(), value)))

    fixed = _fixed_by_lesson(key, label, fits)
    if fixed is not _SHOWN:
        return tuple(fixed) if isinstance(fixed, list) else fixed  # (JSON keeps a range as a list)
    seen = st.session_state.setdefault(BOUND, set())
    if key not in seen and key in st.query_params:  # Streamlit reads a link once, at a widget's first run
        asked = st.query_params.get_all(key)
        if not _takes(widget.__name__, spec(), asked):
            _drop_from_link(key)
            _ignore(key, asked)
    seen.add(key)
    return widget(label, *args, key=key, bind="query-params", **kwargs)


LESSON_HIDES = "lesson.hides"  # session key: {control key: value} a lesson link fixes (lib/ui/lesson.py)
LABELS = "ui.labels"  # session key: {control key: its label}, for the teacher's choice of what to hide
_SHOWN = object()


def _fixed_by_lesson(key, label, fits):
    """The value the session's lesson fixes `key` at (the control is then not drawn), or _SHOWN:
    no lesson hides it, or the value kept for it is not one the control can take (an older lesson
    of a control that changed since: it is shown rather than trusted)."""
    st.session_state.setdefault(LABELS, {})[key] = label
    hides = st.session_state.get(LESSON_HIDES)
    if not hides or key not in hides or not fits(hides[key]):
        return _SHOWN
    st.session_state[key] = value = hides[key]
    return value


def _same_kind(value, like):
    """Is `value` (from a kept lesson: JSON) the kind of value `like` is? A toggle's True, not
    "true" or 1; a whole number where the control takes whole numbers; a range as a list."""
    if like is None:
        return True
    if isinstance(like, bool) or isinstance(value, bool):
        return isinstance(like, bool) and isinstance(value, bool)
    if isinstance(like, (tuple, list)):
        return isinstance(value, list) and len(value) == len(like) and all(map(_same_kind, value, like))
    if isinstance(like, int):
        return isinstance(value, int)
    if isinstance(like, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(like))


def _default_of(kind, spec):
    """The value a control starts at, from the arguments it was made with."""
    if spec.get("value") is not None:
        return spec["value"]
    if kind in ("select_slider", "selectbox") and spec.get("options"):
        return list(spec["options"])[spec.get("index") or 0]
    return {"toggle": False, "checkbox": False, "text_input": ""}.get(kind, spec.get("min_value"))


def _as_link(widget, spec, value):
    """`value` as a link would spell it for this widget (what `_takes` checks)."""
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if widget.__name__ in ("select_slider", "selectbox"):
        return [str(spec.get("format_func", str)(v)) for v in values]
    return [str(v) for v in values]


def _takes(kind, spec, asked):
    """Can the widget of `kind`, made with `spec`, take the URL values `asked` as they are?"""
    if kind in ("slider", "number_input"):
        low, high = spec.get("min_value"), spec.get("max_value")
        default = spec.get("value", low)
        whole = all(isinstance(v, int) for v in (low, high) if v is not None)
        numbers = [_finite(a) for a in asked]
        return (len(asked) == (2 if isinstance(default, (tuple, list)) else 1)
                and all(n is not None and (not whole or n == int(n)) and (low is None or n >= low)
                        and (high is None or n <= high) for n in numbers))
    if kind == "select_slider":
        texts = {str(spec.get("format_func", str)(option)) for option in spec["options"]}
        return len(asked) == (2 if isinstance(spec.get("value"), (tuple, list)) else 1) and set(asked) <= texts
    if kind == "selectbox":
        texts = {str(spec.get("format_func", str)(option)) for option in spec["options"]}
        return len(asked) == 1 and asked[0] in texts
    if kind in ("toggle", "checkbox"):
        return len(asked) == 1 and asked[0].lower() in ("true", "false")
    return len(asked) == 1 and len(asked[0]) <= min(spec.get("max_chars") or MAX_LINK_TEXT, MAX_LINK_TEXT)


def _drop_from_link(key):
    """Remove `key` from the URL — and from the link the session started with, which is what
    Streamlit 1.67 seeds a bound widget from (`QueryParams._initial_query_params`: no public way)."""
    from streamlit.runtime.state.session_state_proxy import get_session_state

    with get_session_state().query_params() as params:
        params.remove_param(key)
        params._initial_query_params.pop(key, None)


def _finite(text):
    """A finite number from a link's text, or None (inf, nan, 1e309, words)."""
    try:
        number = float(text)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _ignore(key, asked):
    st.session_state.setdefault(IGNORED, []).append((key, asked))


def ignored_in_link(place):
    """After the page has run: one line in `place` naming what this run's link asked for and did
    not get (each setting left at its default), shown as plain text; nothing when all was taken."""
    ignored = st.session_state.pop(IGNORED, [])
    if ignored:
        shown = ", ".join(f"{key}={'&'.join(asked)[:40]}" for key, asked in ignored)
        place.warning(t("common.link_ignored", settings=literal(shown)), icon=":material/link_off:")


def page_settings(page_id):
    """The page's settings that are bound to the URL, under their URL keys."""
    prefix = page_id + "."
    return {k: st.session_state[k] for k in st.session_state.get(BOUND, ())
            if k.startswith(prefix) and k in st.session_state}


def class_link():
    """This page's address with its settings and language: the link a teacher shares."""
    base = (st.context.url or "").split("?")[0]
    pairs = [(k, v) for k in st.query_params for v in st.query_params.get_all(k)]
    return base + ("?" + urllib.parse.urlencode(pairs) if pairs else "")
