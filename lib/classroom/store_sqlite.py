"""The class's store in one SQLite file: the default, nothing to install (see lib.classroom.contract)."""
import json
import os
import sqlite3
import threading

from lib.classroom.contract import MAX_NAME, Store, StoreDown, bounded, drawing_refusal, encoded


class SQLiteStore(Store):
    """One file (WAL: readers do not wait for the writer), one connection under a lock: every
    call is a short transaction. Survives a restart of the server; forgets like the others."""

    SCHEMA = """
        CREATE TABLE IF NOT EXISTS student (id TEXT PRIMARY KEY, seen REAL NOT NULL, page TEXT, name TEXT);
        CREATE INDEX IF NOT EXISTS student_seen ON student (seen);
        CREATE TABLE IF NOT EXISTS record (student TEXT NOT NULL, task TEXT NOT NULL, body TEXT NOT NULL,
                                           PRIMARY KEY (student, task));
        CREATE TABLE IF NOT EXISTS push (id INTEGER PRIMARY KEY CHECK (id = 1), number INTEGER, body TEXT);
        CREATE TABLE IF NOT EXISTS setting (name TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS drawing (number INTEGER PRIMARY KEY AUTOINCREMENT, student TEXT NOT NULL,
                                            at REAL NOT NULL, body TEXT NOT NULL);
    """

    def __init__(self, path, **bounds):
        super().__init__(**bounds)
        self.path, self._lock = path, threading.Lock()
        try:
            if path != ":memory:":
                os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=2.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # a crash may lose the last moment, not the file
            self._db.executescript(self.SCHEMA)
        except (sqlite3.Error, OSError) as e:
            raise StoreDown("unreachable", f"the class's SQLite file {path}: {e}", where=path) from e

    def _run(self, work, write=False):
        try:
            with self._lock:
                self._db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    result = work(self._db)
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
                return result
        except sqlite3.Error as e:
            raise StoreDown("unreachable", f"the class's SQLite file {self.path}: {e}", where=self.path) from e

    def _touch(self, db, student, page=None):
        now = self.clock()
        db.execute("INSERT INTO student (id, seen, page) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                   "seen = excluded.seen, page = coalesce(excluded.page, student.page)", (student, now, page))
        gone = set()
        if self._crowded(db, now):
            gone.update(row[0] for row in db.execute("SELECT id FROM student WHERE seen < ?", (now - self.ttl_s,)))
            gone.update(row[0] for row in db.execute(
                "SELECT id FROM student ORDER BY seen DESC LIMIT -1 OFFSET ?", (self.max_students,)))
        for student_gone in gone:
            db.execute("DELETE FROM record WHERE student = ?", (student_gone,))
            db.execute("DELETE FROM student WHERE id = ?", (student_gone,))

    def _crowded(self, db, now):
        count, oldest = db.execute("SELECT count(*), min(seen) FROM student").fetchone()
        return count > self.max_students or (oldest is not None and oldest < now - self.ttl_s)

    def _since(self):
        return self.clock() - self.ttl_s

    def records(self, student):
        rows = self._run(lambda db: db.execute(
            "SELECT task, body FROM record JOIN student ON student.id = record.student "
            "WHERE student = ? AND student.seen >= ?", (student, self._since())).fetchall())
        return {task: json.loads(body) for task, body in rows}

    def put(self, student, task, record):
        text = encoded(record)

        def work(db):
            self._touch(db, student)
            db.execute("INSERT OR REPLACE INTO record (student, task, body) VALUES (?, ?, ?)", (student, task, text))
        self._run(work, write=True)

    def seen(self, student, page):
        self._run(lambda db: self._touch(db, student, page), write=True)

    def present(self, within_s):
        now = self.clock()
        rows = self._run(lambda db: db.execute(
            "SELECT id, page, seen FROM student WHERE seen >= ? AND page IS NOT NULL",
            (now - min(within_s, self.ttl_s),)).fetchall())
        return {student: (page, now - seen) for student, page, seen in rows}

    def everyone(self):
        rows = self._run(lambda db: db.execute(
            "SELECT student, task, body FROM record JOIN student ON student.id = record.student "
            "WHERE student.seen >= ?", (self._since(),)).fetchall())
        kept = {}
        for student, task, body in rows:
            kept.setdefault(student, {})[task] = json.loads(body)
        return kept

    def set_name(self, student, name):
        def work(db):
            self._touch(db, student)
            db.execute("UPDATE student SET name = ? WHERE id = ?", (name[:MAX_NAME], student))
        self._run(work, write=True)

    def names(self):
        rows = self._run(lambda db: db.execute(
            "SELECT id, name FROM student WHERE name IS NOT NULL AND seen >= ?", (self._since(),)).fetchall())
        return dict(rows)

    def push(self, message):
        text = encoded(message)

        def work(db):
            db.execute("INSERT INTO push (id, number, body) VALUES (1, 1, ?) ON CONFLICT (id) DO UPDATE SET "
                       "number = push.number + 1, body = excluded.body", (text,))
            return db.execute("SELECT number FROM push WHERE id = 1").fetchone()[0]
        return self._run(work, write=True)

    def last_push(self):
        row = self._run(lambda db: db.execute("SELECT number, body FROM push WHERE id = 1").fetchone())
        return (row[0], json.loads(row[1])) if row else (0, None)

    def setdefault(self, name, value):
        def work(db):
            db.execute("INSERT OR IGNORE INTO setting (name, value) VALUES (?, ?)", (name, value))
            return db.execute("SELECT value FROM setting WHERE name = ?", (name,)).fetchone()[0]
        return self._run(work, write=True)

    def setting(self, name):
        row = self._run(lambda db: db.execute("SELECT value FROM setting WHERE name = ?", (name,)).fetchone())
        return row[0] if row else None

    def put_setting(self, name, value):
        if value is None:
            self._run(lambda db: db.execute("DELETE FROM setting WHERE name = ?", (name,)), write=True)
        else:
            value = bounded(value)
            self._run(lambda db: db.execute("INSERT INTO setting (name, value) VALUES (?, ?) ON CONFLICT (name) "
                                            "DO UPDATE SET value = excluded.value", (name, value)), write=True)

    def add_drawing(self, student, text):
        text = bounded(text)

        def work(db):
            now = self.clock()
            mine, last_at = db.execute("SELECT count(*), max(at) FROM drawing WHERE student = ?",
                                       (student,)).fetchone()
            everyone, last_minute = db.execute("SELECT count(*), count(CASE WHEN at >= ? THEN 1 END) FROM drawing",
                                               (now - 60,)).fetchone()
            refused = drawing_refusal(mine, last_at, everyone, last_minute, now)
            if refused:
                raise refused
            added = db.execute("INSERT INTO drawing (student, at, body) VALUES (?, ?, ?)", (student, now, text))
            return added.lastrowid
        return self._run(work, write=True)

    def drawings(self):
        return [tuple(row) for row in self._run(lambda db: db.execute(
            "SELECT number, student, body FROM drawing ORDER BY number").fetchall())]

    def drop_drawings(self, numbers=None):
        if numbers is None:
            self._run(lambda db: db.execute("DELETE FROM drawing"), write=True)
        else:
            self._run(lambda db: db.executemany("DELETE FROM drawing WHERE number = ?",
                                                [(int(n),) for n in numbers]), write=True)

    def __len__(self):
        return self._run(lambda db: db.execute(
            "SELECT count(*) FROM student WHERE seen >= ?", (self._since(),)).fetchone()[0])
