"""Tasks (과제): goals a student reaches by moving a page's own controls, checked from what the
page computed. The tasks are data — `lib/tasks/catalogue/<page>.toml`, both languages, each task
naming its check (`lib.tasks.checks`) and its parameters — so a teacher can read and extend them;
this module loads them, runs their checks and says the verdicts in either language."""
import dataclasses
import functools
import pathlib
import re
import tomllib

from lib import i18n
from lib.tasks.checks import CHECKS, DONE, SHORT, WAITING, Verdict, plain  # noqa: F401

CATALOGUE = pathlib.Path(__file__).resolve().parent / "catalogue"
TEXTS = ("title", "goal", "hints", "done")  # what every task says, in every language


@dataclasses.dataclass(frozen=True)
class Task:
    """One task of the catalogue: `id` ("pooling.quarter"), its page, its check and the check's
    parameters, the settings that show a solution (URL keys → values, as a class link sets them),
    for a prediction the options a student picks from, and its words per language."""
    id: str
    page: str
    check: str
    params: dict
    show_me: dict
    options: tuple
    text: dict  # {lang: {"title", "goal", "hints": [two], "done", ("options": [labels])}}

    @property
    def predicts(self):
        return self.check == "predict"

    def words(self, lang):
        return self.text[i18n.normalize(lang)]

    def verdict(self, facts, memory=None):
        """The check's Verdict for the page's `facts` and what it kept (`memory`)."""
        return CHECKS[self.check](facts, memory, **self.params)

    def solution(self, facts):
        """The settings "show me" sets. A value written "{fact}" is that fact of the page's run (the
        Evaluate page's costliest image depends on the model the server trained); a setting whose
        fact the page did not report is left as it is."""
        settings = {}
        for key, value in self.show_me.items():
            named = re.fullmatch(r"\{(\w+)\}", value) if isinstance(value, str) else None
            if named and facts.get(named[1]) is None:
                continue
            settings[key] = plain(facts[named[1]]) if named else value
        return settings


@dataclasses.dataclass(frozen=True)
class Fact:
    """How a page's fact is shown: its name per language and its number format."""
    words: dict
    format: str = ""


@functools.cache
def _files():
    """Every catalogue file, read once: [its TOML as a dict], in the catalogue's order."""
    read = []
    for path in sorted(CATALOGUE.glob("*.toml")):
        with open(path, "rb") as f:
            read.append(tomllib.load(f))
    return read


@functools.cache
def catalogue():
    """(tasks by page in the catalogue's order, {page: facts by name}), from every catalogue file."""
    tasks, facts = {}, {}
    for data in _files():
        page = data["page"]
        facts[page] = {name: Fact({lang: fact[lang] for lang in i18n.LANGUAGES}, fact.get("format", ""))
                       for name, fact in data.get("facts", {}).items()}  # a page's own names
        tasks[page] = tuple(_task(page, entry) for entry in data.get("task", []))
    return tasks, facts


@dataclasses.dataclass(frozen=True)
class Result:
    """A number of a page's runs the teacher's class view charts for every student, not only for
    the ones who did a task: `fact` of the page's facts (a number, or {name: number}: one row of
    the chart each), kept per student as their `keep` — "best" (the highest yet) or "last"."""
    page: str
    fact: str
    keep: str
    words: dict  # {lang: what the chart is called}

    @property
    def id(self):
        return f"{self.page}.results"  # the record every result of the page is kept in


@functools.cache
def results():
    """{page: (Result, ...)} from the catalogue files' `[results.<fact>]` tables."""
    found = {}
    for data in _files():
        found[data["page"]] = tuple(
            Result(data["page"], fact, entry["keep"], {lang: entry[lang] for lang in i18n.LANGUAGES})
            for fact, entry in data.get("results", {}).items())
    return found


def result_ids():
    return [kept[0].id for kept in results().values() if kept]


def kept_results(page, kept, facts):
    """What a student's results of `page` become after a run that reported `facts` (`kept`: what
    they were): the new {fact: value}, or None when nothing changed."""
    kept, now = dict(kept or {}), {}
    for result in results().get(page, ()):
        value = plain(facts.get(result.fact))
        if isinstance(value, dict):
            value = {k: plain(v) for k, v in value.items() if isinstance(plain(v), (int, float))}
        if value is None or value == {} or isinstance(value, bool) or not isinstance(value, (int, float, dict)):
            continue
        before = kept.get(result.fact)
        if result.keep == "best" and isinstance(before, (int, float)) and not isinstance(value, dict):
            value = max(before, value)
        now[result.fact] = value
    merged = {**kept, **now}
    return merged if merged != kept else None


def _task(page, entry):
    params = entry.get("params", {})
    show_me = params["scenario"] if entry["check"] == "predict" else entry.get("show_me", {})
    return Task(entry["id"], page, entry["check"], params, show_me, tuple(entry.get("options", ())),
                {lang: entry[lang] for lang in i18n.LANGUAGES if lang in entry})


def for_page(page):
    """The tasks of one page, in their order (none: an empty tuple)."""
    return catalogue()[0].get(page, ())


def by_id(task_id):
    """The task called `task_id`, or None."""
    return next((task for page in catalogue()[0].values() for task in page if task.id == task_id), None)


def all_tasks():
    return [task for page in catalogue()[0].values() for task in page]


def _fact(task, name):
    return catalogue()[1].get(task.page, {}).get(name)


def show(task, name, value, lang):
    """A fact of `task`'s page as the page shows it: its format, yes or no, "×" between the sides
    of a shape."""
    fact = _fact(task, name)
    if isinstance(value, bool):
        return i18n.translate(f"tasks.{str(value).lower()}", lang)
    if isinstance(value, (tuple, list)):
        return "×".join(str(v) for v in value)
    if not isinstance(value, (int, float)) or fact is None or not fact.format:
        return str(value)
    return format(value, fact.format)


def fact_name(task, name, lang):
    """What a fact of `task`'s page is called for the student: the catalogue's name, or a
    setting's own name ("pooling.pool_size" is pool_size, as in the Keras call)."""
    fact = _fact(task, name)
    return fact.words[i18n.normalize(lang)] if fact else name.split(".", 1)[-1]


def option_label(task, value, lang):
    """A prediction's option as the student reads it."""
    labels = task.words(lang).get("options") or [str(v) for v in task.options]
    return labels[list(task.options).index(value)] if value in task.options else str(value)


def say(task, verdict, facts, lang):
    """A verdict as one sentence in `lang`: for done, the task's own "done" line filled with the
    facts; otherwise what is missing ("validation accuracy 0.930: 0.020 to go")."""
    if verdict.state == DONE and not task.predicts:
        return done_line(task, facts, lang)
    code, *rest = verdict.say.split(".")
    base = rest[0] if rest else code
    details = _shown(task, verdict, lang)
    text = i18n.translate(f"tasks.say.{base}", lang, **details)
    if rest:  # break_first.<why>, fix.<why>: the step the student is on, then what is missing
        text = i18n.translate(f"tasks.step.{code}", lang) + " " + text
    return text


def _shown(task, verdict, lang):
    details = verdict.details
    fact = details.get("fact", "")
    shown = {k: show(task, fact, v, lang) for k, v in details.items() if k in ("value", "goal", "gap")}
    if verdict.say.endswith("not_one_of"):
        shown["goal"] = ", ".join(show(task, fact, g, lang) for g in details["goal"])
    for key in ("guess", "truth"):
        if key in details:
            shown[key] = option_label(task, details[key], lang)
    return {**details, **shown, "label": fact_name(task, fact, lang)}


PLACEHOLDER = re.compile(r"\{([\w.]+)\}")  # {val_accuracy}, {pooling.pool_size}: a fact's name


def done_line(task, facts, lang):
    """The task's "done" line in `lang`, with the facts it names (`{name}`; a setting by its URL
    key, `{pooling.pool_size}`) as the page shows them."""
    return PLACEHOLDER.sub(lambda m: show(task, m[1], facts.get(m[1]), lang), task.words(lang)["done"])


def named_facts(template):
    return set(PLACEHOLDER.findall(template))


def facts_to_keep(task, facts):
    """The facts a task's "done" line needs (in any language): what progress keeps of a finished
    task, so the line can be said again on another page or after a reload."""
    names = set().union(*(named_facts(words["done"]) for words in task.text.values()))
    return {name: facts.get(name) for name in sorted(names)}
