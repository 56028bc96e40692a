"""Every UI string, in English and Korean, from the catalogs in `locales/<lang>/`.

Keys are dotted paths (`"model.title"`); values are `str.format` templates. Each concept keeps its
strings in a file of its own (`locales/en/filters.toml`, `locales/ko/filters.toml`), so a page and
its words are found together; the files of one language merge into one catalog, and a key defined
in two files is a bug (ValueError), not a silent override.
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
    """The flat {dotted key: template} catalog of one language, merged from its files."""
    merged = {}
    for path in sorted((LOCALES / lang).glob("*.toml")):
        with open(path, "rb") as f:
            for key, value in _flatten(tomllib.load(f)):
                if key in merged:
                    raise ValueError(f"{key!r} is defined twice ({path.name} and an earlier file)")
                merged[key] = value
    return merged


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
