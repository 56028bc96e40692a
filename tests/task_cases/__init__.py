"""What test_tasks needs of each page's tasks, one module per page (the page's id; see pooling.py).

`Like`: a message with a trained number in it, which may differ a little from machine to machine."""
import re


class Like(str):
    """A message whose trained numbers may differ a little from machine to machine: equal to any
    shown line that matches the regular expression it is made from (nothing else about it may
    differ, so a wrong number on the goal's other side, or other words, still fail)."""

    def __new__(cls, pattern):
        like = super().__new__(cls, pattern)
        like.pattern = re.compile(pattern)
        return like

    def __eq__(self, other):
        return isinstance(other, str) and self.pattern.fullmatch(other) is not None

    __hash__ = str.__hash__
