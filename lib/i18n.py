"""Every UI string, in English and Korean, from the catalogs in `locales/`.

Keys are dotted paths into a TOML catalog (`"model.title"`); values are `str.format` templates.
"""
import functools
import pathlib
import string
import tomllib

LANGUAGES = {"en": "English", "ko": "한국어"}
DEFAULT_LANGUAGE = "en"
LOCALES = pathlib.Path(__file__).resolve().parent.parent / "locales"


def normalize(lang):
    """A supported language code, or the default for anything else (None, 'xx', 'KO ')."""
    lang = str(lang or "").strip().lower()
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


@functools.cache
def catalog(lang):
    """The flat {dotted key: template} catalog of one language."""
    with open(LOCALES / f"{lang}.toml", "rb") as f:
        return dict(_flatten(tomllib.load(f)))


def _flatten(table, prefix=""):
    for key, value in table.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def translate(key, lang, **values):
    """The text for `key` in `lang`, filled with `values`. A missing key is a bug: KeyError."""
    text = catalog(normalize(lang))[key]
    return text.format(**values) if values else text


def placeholders(template):
    """The names a template expects, e.g. {'units'} for 'Dense({units})'."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
