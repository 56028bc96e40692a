"""The overview: the seed's missing figure, every step explained and linked, the journey in code."""
import html
import re

from lib import i18n, plots, snippets, ui
from tests.helpers import open_page, run_snippet, shown_code


def test_the_diagram_has_every_step_in_order_in_its_colour_with_its_parts_inside():
    for lang in i18n.LANGUAGES:
        diagram = plots.pipeline_html(lang)
        cards = re.findall(r'<div class="kc-step" style="[^"]*border:2px solid (#[0-9a-f]{6});.*?'
                           r'font-size:15px;margin-bottom:4px">(\d)\. ([^<]*)</div>(.*?)</div></div>', diagram)
        assert [(color, int(number)) for color, number, _, _ in cards] == [
            (color, number) for number, (_, color, _) in enumerate(plots.PIPELINE, start=1)]
        for (step, _, parts), (_, _, title, inside) in zip(plots.PIPELINE, cards):
            assert title == html.escape(i18n.translate(f"overview.fig.{step}", lang))
            assert re.findall(r">([^<>]+)</div>", inside + "</div>") == [
                html.escape(i18n.translate(f"overview.fig.{step}_{part}", lang)) for part in parts]
        assert diagram.count("→") == len(plots.PIPELINE) - 1
    layers = re.search(r"2\. [^<]*</div>(.*?)</div></div>", plots.pipeline_html("en")).group(1)
    assert [m for m in re.findall(r"border:1px solid (#[0-9a-f]{6})", layers)] == [
        plots.LAYER_COLORS[name] for name in ("Conv2D", "MaxPooling2D", "Dense")]


def test_the_diagrams_words_are_escaped(monkeypatch):
    monkeypatch.setattr(plots.overview, "translate", lambda key, lang: "<b>Data & more</b>")
    assert "<b>" not in plots.pipeline_html("en") and "&lt;b&gt;Data &amp; more&lt;/b&gt;" in plots.pipeline_html("en")


def test_the_page_draws_the_diagram_and_links_every_built_page_in_the_language():
    at = open_page(lang="ko")
    assert at.title[0].value == "케라스 교실"
    assert len(at.get("plotly_chart")) == 0  # no chart on the first page: nothing heavy to load
    assert [e.proto.body for e in at.get("html") if "kc-diagram" in e.proto.body] == [plots.pipeline_html("ko")]
    links = at.main.get("page_link")
    assert {link.proto.page for link in links} == {p.url_path for p in ui.available_pages() if p.id != "overview"}
    assert all(link.proto.query_string == "lang=ko" for link in links)


def test_the_journey_in_code_runs_offline_trains_and_reloads(tmp_path):
    out = run_snippet(snippets.pipeline_snippet("en", epochs=3), tmp_path)
    accuracy = float(re.search(r"test accuracy ([0-9.]+)", out).group(1))
    assert accuracy > 0.6
    assert "same predictions after loading: True" in out
    assert (tmp_path / "digits_model.keras").exists()


def test_the_shown_code_is_the_pipeline_in_the_page_language():
    at = open_page(lang="ko")
    assert shown_code(at).strip() == snippets.pipeline_snippet("ko").strip()
    assert "## 데이터" in shown_code(at)


def test_the_overview_claims_what_the_tagline_claims_the_landscapes_are_numpy():
    """'Every chart is what Keras computed' was overstated: the optimizers' landscapes are formulas
    evaluated with numpy (the tagline says so); both texts say it, in both languages."""
    for lang in i18n.LANGUAGES:
        for text in (i18n.translate("overview.idea", lang), i18n.translate("app.tagline", lang)):
            assert "numpy" in text, (lang, text)
