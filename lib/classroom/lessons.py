"""The teacher's lessons: which pages a lesson link opens and which controls it hides (each fixed
at the value the teacher chose), kept in the class's store under a short code. A lesson link is a
URL anyone can edit: its code is checked before the store is asked, and a lesson read back is
checked against the pages and controls that exist before a page uses it."""
import dataclasses
import json
import re
import secrets

from lib.errors import Refusal

MAX_LESSONS = 20  # kept in the class's store; making one more forgets the oldest
MAX_HIDDEN = 60  # controls one lesson may hide
CODE = re.compile(r"[0-9a-f]{8}")
INDEX = "lessons"  # the store's setting that lists the codes, oldest first


class LessonRefusal(Refusal):
    catalog = "lesson.error"


@dataclasses.dataclass(frozen=True)
class Lesson:
    code: str
    pages: tuple  # page ids, in the menu's order
    hidden: dict  # {control key: the value it is fixed at}

    def shows(self, page_id):
        return page_id in self.pages

    def as_text(self):
        return json.dumps({"pages": list(self.pages), "hidden": self.hidden}, separators=(",", ":"), sort_keys=True)


def make_lesson(store, pages, hidden, *, known_pages):
    """Keep a new lesson of `pages` (ids, ordered as `known_pages`) hiding `hidden` {key: value}
    (only controls of those pages); returns it with its new code."""
    pages = tuple(p for p in known_pages if p in set(pages))
    if not pages:
        raise LessonRefusal("no_pages", "a lesson needs at least one page")
    hidden = {k: v for k, v in hidden.items() if k.split(".", 1)[0] in pages}
    if len(hidden) > MAX_HIDDEN:
        raise LessonRefusal("too_many", f"a lesson hides at most {MAX_HIDDEN} controls", most=MAX_HIDDEN)
    lesson = Lesson(secrets.token_hex(4), pages, hidden)
    try:
        store.put_setting(f"lesson:{lesson.code}", lesson.as_text())
    except ValueError as e:  # its values too big for one record
        raise LessonRefusal("too_big", str(e)) from e
    codes = [c for c in _codes(store) if c != lesson.code] + [lesson.code]
    for gone in codes[:-MAX_LESSONS]:
        store.put_setting(f"lesson:{gone}", None)
    store.put_setting(INDEX, json.dumps(codes[-MAX_LESSONS:]))
    return lesson


def find_lesson(store, code, *, known_pages):
    """The lesson a link's `code` names, or None (not a code, not kept, or ended). Pages and
    controls it names that this app does not have are left out."""
    if not isinstance(code, str) or not CODE.fullmatch(code):
        return None
    text = store.setting(f"lesson:{code}")
    if text is None:
        return None
    try:
        kept = json.loads(text)
        pages = tuple(p for p in known_pages if p in set(kept["pages"]))
        hidden = {k: v for k, v in dict(kept["hidden"]).items()
                  if isinstance(k, str) and k.split(".", 1)[0] in pages}
    except (ValueError, KeyError, TypeError, RecursionError):  # (a kept text that is not a lesson)
        return None
    return Lesson(code, pages, hidden) if pages else None


def all_lessons(store, *, known_pages):
    """The kept lessons, newest first."""
    found = (find_lesson(store, code, known_pages=known_pages) for code in reversed(_codes(store)))
    return [lesson for lesson in found if lesson is not None]


def end_lesson(store, code):
    """Forget a lesson: its link then opens every page."""
    store.put_setting(f"lesson:{code}", None)
    store.put_setting(INDEX, json.dumps([c for c in _codes(store) if c != code]))


def _codes(store):
    try:
        codes = json.loads(store.setting(INDEX) or "[]")
    except (ValueError, RecursionError):
        return []
    return [c for c in codes if isinstance(c, str) and CODE.fullmatch(c)] if isinstance(codes, list) else []
