"""What every home of the class's store keeps and how it is bounded (lib.classroom.store chooses
the home: memory, SQLite, Redis), and the one refusal they share."""
import json
import time

from lib.errors import Refusal

MAX_RECORD_BYTES = 4096  # a task's record: its status, a guess, the facts its "done" line names
MAX_NAME = 20  # a nickname's characters (lib.classroom.names cleans it before it gets here)
# The class's own handwriting (lib.classroom.drawings): bounded in the store itself, so two
# replicas adding at once cannot pass a bound: ~1.1 kB a drawing, 600 of them under 1 MB.
MAX_DRAWINGS = 600  # the class's set
MAX_DRAWINGS_PER_STUDENT = 20
MIN_DRAWING_GAP_S = 1.5  # between two drawings of one browser: faster than a person draws is refused
# ... and the whole class: a browser's id is a cookie a script can drop, so the class's pace is bounded
# too (thirty students giving one drawing each every thirty seconds stay under it).
MAX_DRAWINGS_PER_MINUTE = 60


class StoreDown(Refusal):
    """The class's store did not answer (Redis stopped, the SQLite file unwritable)."""
    catalog = "classroom.error"


class DrawingRefused(Refusal):
    """A drawing the class's set will not take: `too_fast`, `student_full`, `class_full`, `class_busy`
    (the class's pace), or (lib.classroom.drawings) `closed`, `bad_digit`, `bad_image`, `blank`."""
    catalog = "classroom.drawing.error"


def encoded(record):
    text = json.dumps(record, separators=(",", ":"), sort_keys=True)
    return bounded(text)


def bounded(text):
    """`text` if it is at most MAX_RECORD_BYTES, else a ValueError naming its size."""
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

    def setting(self, name):
        """The class's setting `name` (text), or None."""
        raise NotImplementedError

    def put_setting(self, name, value):
        """Set the class's setting `name` to `value` (text of at most MAX_RECORD_BYTES), or remove
        it (None): the teacher's lessons (lib.classroom.lessons)."""
        raise NotImplementedError

    def add_drawing(self, student, text):
        """Add one drawing (text of at most MAX_RECORD_BYTES) to the class's set; its number. A
        DrawingRefused when the browser added one within MIN_DRAWING_GAP_S, has added
        MAX_DRAWINGS_PER_STUDENT, the set holds MAX_DRAWINGS, or MAX_DRAWINGS_PER_MINUTE came in
        the last minute (checked and added at once)."""
        raise NotImplementedError

    def drawings(self):
        """[(number, student, text)] of the class's set, the oldest first."""
        raise NotImplementedError

    def drop_drawings(self, numbers=None):
        """Delete these drawings of the set (all of them when None)."""
        raise NotImplementedError

    def __len__(self):
        """How many browsers the store keeps."""
        raise NotImplementedError


def drawing_refusal(mine, last_at, everyone, last_minute, now):
    """The DrawingRefused for a browser that has added `mine` drawings, the last at `last_at`
    (None: none), to a set of `everyone` of which `last_minute` came in the last 60 s, at `now`;
    None when the drawing may be added. (A last drawing 'in the future', another server's clock
    ahead of this one's, does not count as too soon.)"""
    if last_at is not None and 0 <= now - last_at < MIN_DRAWING_GAP_S:
        return DrawingRefused("too_fast", f"a drawing {now - last_at:.1f} s after the last",
                              seconds=MIN_DRAWING_GAP_S)
    if mine >= MAX_DRAWINGS_PER_STUDENT:
        return DrawingRefused("student_full", f"{mine} drawings from this browser", count=MAX_DRAWINGS_PER_STUDENT)
    if everyone >= MAX_DRAWINGS:
        return DrawingRefused("class_full", f"{everyone} drawings in the class's set", count=MAX_DRAWINGS)
    if last_minute >= MAX_DRAWINGS_PER_MINUTE:
        return DrawingRefused("class_busy", f"{last_minute} drawings in the last minute", count=MAX_DRAWINGS_PER_MINUTE)
    return None
