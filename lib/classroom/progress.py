"""Task progress per browser: what each student has tried and done, kept across page switches and
reloads (a reload is a new Streamlit session; the browser's id is not), in the class's store
(lib.classroom.store: bounded there). Only the catalogue's task ids are kept. When the store does
not answer, the student goes on: this server keeps what they do until it answers again."""
import logging

from lib.classroom.store import MemoryStore, StoreDown

TRIED, DONE, RESULT = "tried", "done", "result"
log = logging.getLogger(__name__)


class Progress:
    """{browser id: {task id: record}}; a record is {"status": "tried" | "done" | "result", "memory": what
    the task's check keeps, "facts": the facts its "done" line names, "right": a prediction's,
    "at": when it last changed (the store's clock)}.
    `store` defaults to one in this process (with `bounds`: max_students, ttl_s, clock)."""

    def __init__(self, known_tasks, store=None, **bounds):
        self.known = set(known_tasks)
        self.store = store if store is not None else MemoryStore(**bounds)
        self._here = MemoryStore(**bounds)  # what changed while the store was down
        self.down = None  # the StoreDown of the last call that failed, None once the store answers

    def of(self, student):
        """One browser's records ({} for a browser never seen or forgotten): a copy to read."""
        here = self._here.records(student)
        kept = self._ask(lambda: self.store.records(student), {})
        for task_id, record in here.items():  # kept here while the store was down: done wins
            if record.get("status") == DONE or task_id not in kept:
                kept[task_id] = record
        return kept

    def tried(self, student, task_id):
        """The student opened the task or made a move on it: "tried" unless it is done."""
        self._update(student, task_id, lambda r: r.setdefault("status", TRIED))

    def remember(self, student, task_id, memory):
        """What the task's check keeps between runs (a guess, the settings of a broken state)."""
        self._update(student, task_id, lambda r: (r.setdefault("status", TRIED), r.__setitem__("memory", dict(memory))))

    def done(self, student, task_id, facts, right=None):
        """The task is done, with the facts its "done" line names; done stays done (the first
        completion's numbers are kept)."""
        def finish(record):
            if record.get("status") != DONE:
                record.update(status=DONE, facts=dict(facts), right=right)
        self._update(student, task_id, finish)

    def result(self, student, results_id, facts):
        """A page's numbers for the class view's charts (lib.tasks.Result): replaced, not a task."""
        self._update(student, results_id, lambda r: r.update(status=RESULT, facts=dict(facts)))

    def _update(self, student, task_id, change):
        if task_id not in self.known:
            raise KeyError(f"no task {task_id!r} in the catalogue")
        record = self.of(student).get(task_id, {})
        before = dict(record)
        change(record)
        if record != before:
            record["at"] = round(self.store.clock(), 3)  # when it last moved: the class view's "stuck"
        if record != before and self._ask(lambda: self.store.put(student, task_id, record), False) is False:
            self._here.put(student, task_id, record)

    def _ask(self, call, otherwise):
        try:
            answer = call()
        except StoreDown as e:
            if self.down is None:
                log.warning("the class's store is down, progress is kept on this server for now: %s", e)
            self.down = e
            return otherwise
        self.down = None
        return answer

    def __len__(self):
        return len(self.store)
