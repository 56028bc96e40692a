"""The glossary: the seed's analogies, every term in both languages, links to the pages."""
from lib import i18n, ui
from tests.helpers import ROOT, exercise_widgets, open_page


def _terms():
    source = (ROOT / "pages" / "glossary.py").read_text()
    start, end = source.index("TERMS = ("), source.index("SEED_TERMS")
    namespace = {}
    exec(source[start:end], namespace)  # the data table only, not the page
    return namespace["TERMS"]


def test_every_term_has_a_name_and_text_in_both_languages_and_a_known_page():
    page_ids = {p.id for p in ui.PAGES}
    for _, terms in _terms():
        for term, page in terms:
            assert page in page_ids
            for lang in i18n.LANGUAGES:
                assert i18n.translate(f"glossary.term.{term}.name", lang)
                assert i18n.translate(f"glossary.term.{term}.text", lang)


def test_the_seeds_analogies_are_there_in_both_languages():
    assert "workbook" in i18n.translate("glossary.term.train_set.seed", "en")
    assert "학습지" in i18n.translate("glossary.term.train_set.seed", "ko")
    assert "모의고사" in i18n.translate("glossary.term.test_set.seed", "ko")
    assert "정답지" in i18n.translate("glossary.term.label.seed", "ko")


def test_the_page_shows_every_term_and_the_analogy_figure():
    at = open_page("pages/glossary.py", "ko")
    assert at.title[0].value == "용어 사전"
    assert len(at.get("plotly_chart")) == 1
    shown = " ".join(m.value for m in at.markdown)
    for _, terms in _terms():
        for term, _ in terms:
            assert i18n.translate(f"glossary.term.{term}.name", "ko") in shown


def test_search_filters_terms_and_says_when_nothing_matches():
    at = open_page("pages/glossary.py", "en")
    at.text_input(key="glossary.q").set_value("softmax").run()
    shown = " ".join(m.value for m in at.markdown)
    assert "Softmax" in shown and "Pooling" not in shown
    at.text_input(key="glossary.q").set_value("zzzz").run()
    assert "zzzz" in at.info[0].value
    assert exercise_widgets(at) >= 1
