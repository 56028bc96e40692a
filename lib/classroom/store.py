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
import time

from lib.errors import Refusal

MAX_RECORD_BYTES = 4096  # a task's record: its status, a guess, the facts its "done" line names
MAX_NAME = 20  # a nickname's characters (lib.classroom.names cleans it before it gets here)


class StoreDown(Refusal):
    """The class's store did not answer (Redis stopped, the SQLite file unwritable)."""
    catalog = "classroom.error"


def open_store(url=None, **bounds):
    """The store at `url` (default: KERAS_CLASSROOM_STORE, else an SQLite file in the app's data
    folder, KERAS_CLASSROOM_DATA or ~/.keras_classroom)."""
    url = url or os.environ.get("KERAS_CLASSROOM_STORE") or "sqlite:///" + os.path.join(
        os.environ.get("KERAS_CLASSROOM_DATA") or os.path.expanduser("~/.keras_classroom"), "class.db")
    if url == "memory://":
        return MemoryStore(**bounds)
    if url.startswith("sqlite:///"):
        from lib.classroom.store_sqlite import SQLiteStore
        return SQLiteStore(url.removeprefix("sqlite:///"), **bounds)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from lib.classroom.store_redis import RedisStore
        return RedisStore(url, **bounds)
    raise ValueError(f"KERAS_CLASSROOM_STORE: no store for {url!r} (memory://, sqlite:///path, redis://host:port/db)")


def encoded(record):
    text = json.dumps(record, separators=(",", ":"), sort_keys=True)
    if len(text.encode()) > MAX_RECORD_BYTES:
        raise ValueError(f"a record of {len(text.encode())} bytes (at most {MAX_RECORD_BYTES})")
    return text


class Store:
    """What every home keeps. `student` is a browser's id, `task` a catalogue id; a record is a
    small JSON-able dict. Seeing a student (`put`, `seen`) makes them the most recent."""

    def __init__(self, *, max_students=2000, ttl_s=12 * 3600, clock=time.time):
        self.max_students, self.ttl_s, self.clock = max_students, ttl_s, clock

    def records(self, student):
        """{task: record} of one browser ({} for one never seen or forgotten)."""
        raise NotImplementedError

    def put(self, student, task, record):
        """Keep one task's record for a browser (replacing the one it had)."""
        raise NotImplementedError

    def seen(self, student, page):
        """The browser is here, on `page`."""
        raise NotImplementedError

    def present(self, within_s):
        """{student: (page, seconds since seen)} of the browsers seen within `within_s`."""
        raise NotImplementedError

    def everyone(self):
        """{student: {task: record}} of every browser the store keeps (the teacher's view)."""
        raise NotImplementedError

    def set_name(self, student, name):
        raise NotImplementedError

    def names(self):
        """{student: nickname} of the browsers that chose one."""
        raise NotImplementedError

    def push(self, message):
        """The teacher's latest push (a dict: where to follow, with what settings); returns its
        number, which grows with every push."""
        raise NotImplementedError

    def last_push(self):
        """(number, message) of the latest push, or (0, None)."""
        raise NotImplementedError

    def setdefault(self, name, value):
        """The class's setting `name`, set to `value` if no server has set it yet (the teacher's
        generated key: the first replica to start makes it, the others read it)."""
        raise NotImplementedError

    def __len__(self):
        """How many browsers the store keeps."""
        raise NotImplementedError


class MemoryStore(Store):
    """This process only: dicts under one lock."""

    def __init__(self, **bounds):
        super().__init__(**bounds)
        self._lock = threading.Lock()
        self._seen, self._records, self._pages, self._names = {}, {}, {}, {}
        self._push, self._settings = (0, None), {}

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

    def __len__(self):
        with self._lock:
            return sum(self._alive(s) for s in self._seen)
