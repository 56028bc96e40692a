"""A student's nickname: plain text a stranger typed, made harmless before the class sees it.
It is shown as text only (never HTML or Markdown); here it loses control and format characters,
its spaces are collapsed, and it is cut to MAX_NAME characters. Nothing left: no name (a number)."""
import unicodedata

from lib.classroom.store import MAX_NAME

MAX_TYPED = 1000  # characters looked at, at most: a 10 kB paste costs no more than this


def clean(typed):
    """The nickname to keep, or None when nothing printable is left."""
    if not isinstance(typed, str):
        return None
    kept = "".join(c if unicodedata.category(c)[0] not in "CZ" else " " for c in typed[:MAX_TYPED])
    kept = " ".join(kept.split())  # any run of spaces (and what stood for a control) is one space
    kept = unicodedata.normalize("NFC", kept)[:MAX_NAME].strip()
    return kept or None


def shown(student, names):
    """How the class view names a student: their nickname, else "#" and the first four hex digits of
    their browser's id (the same number on every view, and not enough to take their place)."""
    return names.get(student) or f"#{student[:4]}"
