"""The checks a task names: pure functions over what a page reports (`facts`: its settings under
their URL keys, like "pooling.pool_size", and what Keras computed, like "val_accuracy") and what
the check kept from earlier runs (`memory`). Each returns a `Verdict`; none touches Streamlit.

    reach            every condition holds                         "0.93: 0.02 to go"
    break_then_fix   first one state, then another with at most N settings changed from it
    predict          the student's guess, committed first, against what the page computed
"""
import dataclasses
import math

DONE, SHORT, WAITING = "done", "short", "waiting"
COMPARISONS = ("at_least", "at_most", "above", "below", "equals", "one_of")


@dataclasses.dataclass(frozen=True)
class Verdict:
    """Where a task stands: `state` (done, short of it, or waiting for something to be measured or
    chosen), `say` the message's name in the tasks catalog, `details` the values it needs, and
    `memory` what the check keeps for its next run (None: keep what there was)."""
    state: str
    say: str
    details: dict = dataclasses.field(default_factory=dict)
    memory: dict | None = None

    @property
    def done(self):
        return self.state == DONE


def unmet(facts, condition):
    """None when `condition` ({"fact": name, <comparison>: goal}) holds for `facts`, else a Verdict
    that says what is missing. A fact the page has not measured yet leaves the task waiting."""
    name = condition["fact"]
    (comparison, goal), = ((k, v) for k, v in condition.items() if k in COMPARISONS)
    value, goal = plain(facts.get(name)), plain(goal)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return Verdict(WAITING, "unmeasured", dict(fact=name))
    details = dict(fact=name, value=value, goal=goal)
    if comparison == "equals":
        return None if value == goal else Verdict(SHORT, "not_equal", details)
    if comparison == "one_of":
        return None if value in goal else Verdict(SHORT, "not_one_of", details)
    holds = dict(at_least=value >= goal, at_most=value <= goal, above=value > goal,
                 below=value < goal)[comparison]
    if holds:
        return None
    say = {"at_least": "to_go", "above": "not_above", "at_most": "too_much", "below": "not_below"}[comparison]
    return Verdict(SHORT, say, {**details, "gap": abs(goal - value)})


def plain(value):
    """A fact as plain Python (numpy scalars made int or float, shapes lists: a shape the page
    reports as a tuple compares equal to the catalogue's list), for checks and for progress."""
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    return value.item() if hasattr(value, "item") and not isinstance(value, (str, bytes)) else value


def _first_unmet(facts, conditions):
    return next((v for v in (unmet(facts, c) for c in conditions) if v is not None), None)


def reach(facts, memory, *, conditions):
    """Done when every condition holds; else the first one that does not, and by how much."""
    return _first_unmet(facts, conditions) or Verdict(DONE, "done")


def break_then_fix(facts, memory, *, broken, fixed, settings, changes=1):
    """Two steps: make `broken` hold (the page remembers its settings), then make `fixed` hold
    by changing at most `changes` of `settings` from the broken state's. Breaking again later
    starts the second step from the newer broken state."""
    now = {name: facts.get(name) for name in settings}
    if _first_unmet(facts, broken) is None:
        return Verdict(SHORT, "fix_now", dict(fact=broken[0]["fact"]), memory=dict(broken=now))
    kept = (memory or {}).get("broken")
    if kept is None:
        missing = _first_unmet(facts, broken)
        return dataclasses.replace(missing, say=f"break_first.{missing.say}")
    missing = _first_unmet(facts, fixed)
    if missing is not None:
        return dataclasses.replace(missing, say=f"fix.{missing.say}")
    changed = sorted(name for name in settings if now[name] != kept.get(name))
    if len(changed) > changes:
        return Verdict(SHORT, "changed_too_many", dict(n=len(changed), most=changes,
                                                      changed=", ".join(changed)))
    return Verdict(DONE, "fixed", dict(changed=", ".join(changed)))


def predict(facts, memory, *, answer, scenario):
    """Done once the student has committed a guess (kept in `memory["guess"]`) and the page shows
    the computed `answer` fact at the question's `scenario` settings; `details["right"]` says
    whether the guess was right."""
    guess = (memory or {}).get("guess")
    if guess is None:
        return Verdict(WAITING, "guess_first")
    if any(facts.get(name) != value for name, value in scenario.items()):
        return Verdict(WAITING, "back_to_question", dict(guess=guess))
    if facts.get(answer) is None:
        return Verdict(WAITING, "unmeasured", dict(fact=answer, guess=guess))
    truth = facts[answer]
    return Verdict(DONE, "right" if truth == guess else "wrong",
                   dict(guess=guess, truth=truth, right=truth == guess))


CHECKS = {"reach": reach, "break_then_fix": break_then_fix, "predict": predict}
