"""Task progress per browser: what each student has tried and done, kept across page switches and
reloads (a reload is a new Streamlit session; the browser's id is not). Bounded: at most
`max_students` browsers (the least recently seen are forgotten first, and any unseen for `ttl_s`),
and per browser only the catalogue's task ids, each with a small record."""
import collections
import threading
import time

TRIED, DONE = "tried", "done"


class Progress:
    """{browser id: {task id: record}}; a record is {"status": "tried" | "done", "memory": what
    the task's check keeps, "facts": the facts its "done" line names, "right": a prediction's}."""

    def __init__(self, known_tasks, *, max_students=2000, ttl_s=12 * 3600, clock=time.monotonic):
        self.known, self.max_students, self.ttl_s, self.clock = set(known_tasks), max_students, ttl_s, clock
        self._students = collections.OrderedDict()  # id -> (last seen, records)
        self._lock = threading.Lock()

    def of(self, student):
        """One browser's records ({} for a browser never seen or forgotten): a copy of each record,
        whose "memory" and "facts" are shared with the store, to read only (the store replaces
        them, never changes them in place; a deep copy cost ~1.8 ms with 30 tasks, per call)."""
        with self._lock:
            self._forget_old()
            entry = self._students.get(student)
            return {task_id: dict(record) for task_id, record in entry[1].items()} if entry else {}

    def tried(self, student, task_id):
        """The student opened the task or made a move on it: "tried" unless it is done."""
        self._update(student, task_id, lambda r: r.setdefault("status", TRIED))

    def remember(self, student, task_id, memory):
        """What the task's check keeps between runs (a guess, the settings of a broken state)."""
        self._update(student, task_id, lambda r: (r.setdefault("status", TRIED),
                                                   r.__setitem__("memory", dict(memory))))

    def done(self, student, task_id, facts, right=None):
        """The task is done, with the facts its "done" line names; done stays done (the first
        completion's numbers are kept)."""
        def finish(record):
            if record.get("status") != DONE:
                record.update(status=DONE, facts=dict(facts), right=right)
        self._update(student, task_id, finish)

    def _update(self, student, task_id, change):
        if task_id not in self.known:
            raise KeyError(f"no task {task_id!r} in the catalogue")
        with self._lock:
            self._forget_old()
            _, records = self._students.pop(student, (None, {}))
            change(records.setdefault(task_id, {}))
            self._students[student] = (self.clock(), records)
            while len(self._students) > self.max_students:
                self._students.popitem(last=False)

    def _forget_old(self):
        oldest = self.clock() - self.ttl_s
        while self._students and next(iter(self._students.values()))[0] < oldest:
            self._students.popitem(last=False)

    def __len__(self):
        return len(self._students)
