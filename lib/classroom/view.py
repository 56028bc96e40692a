"""What the teacher's class view counts, from what the class's store holds: who is here and on
which page, how many did and tried each task, what the done ones reached, and who has made no
progress for a while. Pure: the page draws it (lessons/teacher.py)."""
import collections
import dataclasses

from lib.classroom import names as nicknames
from lib.classroom.progress import DONE, RESULT


@dataclasses.dataclass(frozen=True)
class ClassView:
    here: int  # students seen within the presence window
    pages: dict  # {page: students on it}
    tasks: dict  # {task id: (done, tried but not done)}, every catalogue task
    results: dict  # {task or results id: {fact: [values] or {name: [values]}}}: the done ones', every result
    quiet: list  # names of the students here whose last move on a task is older than `quiet_s`
    idle: list  # names of the students here who have not tried a task yet


def class_view(task_ids, present, everyone, names, *, now, quiet_s=300, result_ids=()):
    """`present` {student: (page, seconds since seen)}, `everyone` {student: {task: record}},
    `names` {student: nickname} (the store's answers); `now` on the store's clock; `result_ids`
    the records of the pages' results (lib.tasks.Result), charted for every student who has one."""
    pages = collections.Counter(page for page, _ in present.values())
    counts = {task: [0, 0] for task in task_ids}
    results = collections.defaultdict(lambda: collections.defaultdict(list))
    for records in everyone.values():
        for task, record in records.items():
            if record.get("status") == RESULT and task in result_ids:
                _add_results(results[task], record.get("facts") or {})
                continue
            if task not in counts:
                continue
            done = record.get("status") == DONE
            counts[task][0 if done else 1] += 1
            for fact, value in (record.get("facts") or {}).items() if done else ():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    results[task][fact].append(value)
    quiet, idle = [], []
    for student in sorted(present, key=lambda s: nicknames.shown(s, names).casefold()):
        records = everyone.get(student, {})
        moves = [record.get("at", 0.0) for record in records.values()]
        if not any(record.get("status") != RESULT for record in records.values()):
            idle.append(nicknames.shown(student, names))
        elif max(moves) < now - quiet_s:
            quiet.append(nicknames.shown(student, names))
    return ClassView(len(present), dict(pages.most_common()), {t: tuple(c) for t, c in counts.items()},
                     {t: dict(facts) for t, facts in results.items()}, quiet, idle)


def _add_results(into, facts):
    """One student's results into the class's: a number to its fact's list, {name: number} to
    each name's list."""
    for fact, value in facts.items():
        if isinstance(value, dict):
            rows = into.setdefault(fact, {})
            for name, number in value.items():
                if isinstance(number, (int, float)) and not isinstance(number, bool) and isinstance(name, str):
                    rows.setdefault(name, []).append(number)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            into.setdefault(fact, []).append(value)
