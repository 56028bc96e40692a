"""The class's state, kept where every server of the class sees it: each browser's task records,
who is here and on which page, nicknames, and the teacher's last push. One interface, three homes:

    memory://                   this process only (the tests; a teacher who wants nothing kept)
    sqlite:///path/class.db     the default: one file, survives a restart of the server
    redis://host:port/db        replicas: every replica reads and writes the same class

Every size is bounded: at most `max_students` browsers (the least recently seen are forgotten
first, with everything they had), any browser unseen for `ttl_s` forgotten, a record at most
`MAX_RECORD_BYTES` of JSON. A store that cannot be reached raises `StoreDown`: a student's page
goes on without it, the teacher's view says so."""
import json
import os
import threading

from lib.classroom.contract import (MAX_NAME, MAX_RECORD_BYTES, DrawingRefused, Store, StoreDown,  # noqa: F401
                                    bounded, drawing_refusal, encoded)


def open_store(url=None, **bounds):
    """The store at `url` (default: KERAS_CLASSROOM_STORE, else an SQLite file in the app's data
    folder, KERAS_CLASSROOM_DATA or ~/.keras_classroom)."""
    from lib.data import app_folder

    url = url or os.environ.get("KERAS_CLASSROOM_STORE") or "sqlite:///" + os.path.join(app_folder(), "class.db")
    if url == "memory://":
        return MemoryStore(**bounds)
    if url.startswith("sqlite:///"):
        from lib.classroom.store_sqlite import SQLiteStore
        return SQLiteStore(url.removeprefix("sqlite:///"), **bounds)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from lib.classroom.store_redis import RedisStore
        return RedisStore(url, **bounds)
    raise ValueError(f"KERAS_CLASSROOM_STORE: no store for {url!r} (memory://, sqlite:///path, redis://host:port/db)")


class MemoryStore(Store):
    """This process only: dicts under one lock."""

    def __init__(self, **bounds):
        super().__init__(**bounds)
        self._lock = threading.Lock()
        self._seen, self._records, self._pages, self._names = {}, {}, {}, {}
        self._push, self._settings = (0, None), {}
        self._drawings, self._drawn = {}, 0  # number -> (student, text, at); the last number given

    def _touch(self, student, page=None):
        self._seen.pop(student, None)
        self._seen[student] = self.clock()  # insertion order: the least recently seen first
        if page is not None:
            self._pages[student] = page
        oldest = self.clock() - self.ttl_s
        while len(self._seen) > self.max_students or next(iter(self._seen.values())) < oldest:
            self._forget(next(iter(self._seen)))

    def _forget(self, student):
        for kept in (self._seen, self._records, self._pages, self._names):
            kept.pop(student, None)

    def _alive(self, student):
        at = self._seen.get(student)
        return at is not None and at >= self.clock() - self.ttl_s

    def records(self, student):
        with self._lock:
            kept = self._records.get(student, {}) if self._alive(student) else {}
            return {task: json.loads(text) for task, text in kept.items()}

    def put(self, student, task, record):
        text = encoded(record)
        with self._lock:
            self._touch(student)
            self._records.setdefault(student, {})[task] = text

    def seen(self, student, page):
        with self._lock:
            self._touch(student, page)

    def present(self, within_s):
        now = self.clock()
        with self._lock:
            return {s: (self._pages.get(s), now - at) for s, at in self._seen.items()
                    if now - at <= min(within_s, self.ttl_s) and s in self._pages}

    def everyone(self):
        with self._lock:
            return {s: {t: json.loads(x) for t, x in kept.items()}
                    for s, kept in self._records.items() if self._alive(s)}

    def set_name(self, student, name):
        with self._lock:
            self._touch(student)
            self._names[student] = name[:MAX_NAME]

    def names(self):
        with self._lock:
            return {s: n for s, n in self._names.items() if self._alive(s)}

    def push(self, message):
        text = encoded(message)
        with self._lock:
            self._push = (self._push[0] + 1, text)
            return self._push[0]

    def last_push(self):
        with self._lock:
            number, text = self._push
            return number, (json.loads(text) if text else None)

    def setdefault(self, name, value):
        with self._lock:
            return self._settings.setdefault(name, value)

    def setting(self, name):
        with self._lock:
            return self._settings.get(name)

    def put_setting(self, name, value):
        value = None if value is None else bounded(value)
        with self._lock:
            if value is None:
                self._settings.pop(name, None)
            else:
                self._settings[name] = value

    def add_drawing(self, student, text):
        text = bounded(text)
        with self._lock:
            now, mine = self.clock(), [at for s, _, at in self._drawings.values() if s == student]
            last_minute = sum(at >= now - 60 for _, _, at in self._drawings.values())
            refused = drawing_refusal(len(mine), max(mine, default=None), len(self._drawings), last_minute, now)
            if refused:
                raise refused
            self._drawn += 1
            self._drawings[self._drawn] = (student, text, now)
            return self._drawn

    def drawings(self):
        with self._lock:
            return [(number, student, text) for number, (student, text, _) in self._drawings.items()]

    def drop_drawings(self, numbers=None):
        with self._lock:
            for number in list(self._drawings) if numbers is None else numbers:
                self._drawings.pop(number, None)

    def __len__(self):
        with self._lock:
            return sum(self._alive(s) for s in self._seen)
