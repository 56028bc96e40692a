"""Both languages are complete: same keys, nothing empty, same placeholders, every used key exists."""
import re
import unicodedata

import pytest

from lib import i18n
from tests.helpers import ROOT

EN, KO = i18n.catalog("en"), i18n.catalog("ko")


def test_both_catalogs_have_the_same_keys():
    assert sorted(set(EN) - set(KO)) == [], "missing in Korean"
    assert sorted(set(KO) - set(EN)) == [], "missing in English"


def test_both_languages_have_the_same_files():
    names = {lang: sorted(p.name for p in (i18n.LOCALES / lang).glob("*.toml")) for lang in i18n.LANGUAGES}
    assert names["en"] == names["ko"] and "app.toml" in names["en"]


def test_a_key_defined_in_two_files_is_refused(tmp_path, monkeypatch):
    (tmp_path / "xx").mkdir()
    (tmp_path / "xx" / "a.toml").write_text('[page]\ntitle = "A"\n')
    (tmp_path / "xx" / "b.toml").write_text('[page]\ntitle = "B"\n')
    monkeypatch.setattr(i18n, "LOCALES", tmp_path)
    with pytest.raises(ValueError, match="page.title"):
        i18n.catalog.__wrapped__("xx")


@pytest.mark.parametrize("lang", list(i18n.LANGUAGES))
def test_no_value_is_empty(lang):
    empty = [k for k, v in i18n.catalog(lang).items() if not str(v).strip()]
    assert empty == []


def test_placeholders_match_between_languages():
    differ = {k: (i18n.placeholders(EN[k]), i18n.placeholders(KO[k])) for k in EN
              if i18n.placeholders(EN[k]) != i18n.placeholders(KO[k])}
    assert differ == {}


def test_korean_is_written_in_korean():
    """A Korean text that is all Latin letters is usually an untranslated copy (Keras names aside)."""
    hangul = re.compile("[\uac00-\ud7a3]")
    untranslated = [k for k, v in KO.items() if v == EN[k] and len(v) > 25 and not hangul.search(v)]
    assert untranslated == []


def test_every_literal_key_in_the_code_exists():
    """t("a.b"), translate("a.b", ...) and ui.notice/header ids used with literal keys."""
    pattern = re.compile(r"""\b(?:t|translate|_comment|_section)\(\s*["']([a-z0-9_.]+)["']""")
    used = set()
    for path in [*ROOT.glob("lib/**/*.py"), *ROOT.glob("lessons/*.py"), ROOT / "streamlit_app.py"]:
        for key in pattern.findall(path.read_text()):
            used.add(key if not path.name == "snippets.py" or key.startswith("code.") else f"code.{key}")
    missing = sorted(k for k in used if k not in EN)
    assert missing == []


def test_unknown_language_falls_back_to_english():
    assert i18n.normalize("xx") == "en"
    assert i18n.normalize(None) == "en"
    assert i18n.normalize(" KO ") == "ko"
    assert i18n.translate("nav.model", "xx") == EN["nav.model"]


def test_translate_fills_placeholders():
    text = i18n.translate("errors.model.not_positive", "ko", arg="units", value=-3)
    assert "units" in text and "-3" in text


def _punctuation(c):
    return unicodedata.category(c)[0] in "PS"


def _flanking(text, start, end):
    """CommonMark: is the delimiter run text[start:end] left- and right-flanking?"""
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    left = not after.isspace() and (not _punctuation(after) or before.isspace() or _punctuation(before))
    right = not before.isspace() and (not _punctuation(before) or after.isspace() or _punctuation(after))
    return left, right


@pytest.mark.parametrize("lang", list(i18n.LANGUAGES))
def test_bold_and_italic_render_in_markdown(lang):
    """`**3.8%**만` shows the asterisks: a closing run after punctuation must be followed by a space
    or punctuation. Korean puts particles right after words, so this is easy to get wrong."""
    broken = []
    for key, text in i18n.catalog(lang).items():
        for line in str(text).splitlines():
            plain = re.sub(r"`[^`]*`", lambda m: "x" * len(m.group()), line)  # code spans are literal
            plain = re.sub(r"\{[a-z_]+\}", "x", plain)  # as rendered: a placeholder becomes a word or number
            for pair in re.finditer(r"(\*\*|\*)(?=\S)(.+?)(?<=\S)\1", plain):
                opener = _flanking(plain, pair.start(), pair.start() + len(pair.group(1)))[0]
                closer = _flanking(plain, pair.end() - len(pair.group(1)), pair.end())[1]
                if not (opener and closer):
                    broken.append((key, pair.group()))
    assert broken == []
