"""The glossary: the seed's analogies, every term in both languages, found by its name in either
language, linked to its page."""
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


def test_every_korean_name_is_korean_with_the_english_in_brackets():
    for term in glossary.terms():
        name = i18n.translate(f"glossary.term.{term.id}.name", "ko")
        assert any("\uac00" <= c <= "\ud7a3" for c in name.split("(")[0]), name
        assert name.endswith(")") and "(" in name, name


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
    shown = " ".join(m.value for m in at.markdown)
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
