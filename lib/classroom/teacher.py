"""The teacher's key: what every teacher action is checked against, on the server.

It comes from KERAS_CLASSROOM_TEACHER_KEY (or the app's secrets); when the host set none, the first
server of the class makes one and keeps it in the class's store, so every replica takes the same
key, and prints it in its log. It is compared in constant time; wrong keys are counted, and after
a few each further try from the same place must wait longer (1 s, 2 s, 4 s, ... at most a minute),
so guessing it costs a stranger years, not minutes."""
import collections
import hmac
import os
import secrets
import threading
import time

from lib.classroom.store import StoreDown
from lib.errors import Refusal

FREE_TRIES = 3  # wrong keys from one place before it must wait
MAX_WAIT_S = 60.0
MAX_PLACES = 10_000  # places remembered (the least recent forgotten first)
MIN_KEY = 8  # characters: a key the host sets shorter than this is refused at start


class TeacherRefusal(Refusal):
    catalog = "teacher.error"


def make_key():
    """A new key: 12 characters a teacher can type from the log (72 bits)."""
    return secrets.token_urlsafe(9)


def class_key(store=None, environ=None, from_secrets=None):
    """(the class's key, whether it was made here rather than set by the host): the host's
    KERAS_CLASSROOM_TEACHER_KEY, else `from_secrets` (the app's secrets' "teacher_key"), else the
    one the class's store holds, made now by the first server to ask."""
    environ = os.environ if environ is None else environ
    key = environ.get("KERAS_CLASSROOM_TEACHER_KEY") or from_secrets
    if key:
        return key, False
    key = make_key()
    if store is not None:
        try:
            key = store.setdefault("teacher_key", key)
        except StoreDown:  # this server's own key, until the store answers (said in the log)
            pass
    return key, True


class TeacherKey:
    """Checks offered keys against `key`, counting wrong ones per place (a browser's address)."""

    def __init__(self, key, *, clock=time.monotonic):
        if not isinstance(key, str) or len(key) < MIN_KEY:
            raise TeacherRefusal("short_key", f"a teacher key needs at least {MIN_KEY} characters", least=MIN_KEY)
        self._key, self.clock = key.encode(), clock
        self._lock = threading.Lock()
        self._places = collections.OrderedDict()  # place -> (wrong tries in a row, may try again at)
        self.wrong = 0  # wrong keys since the start, from anywhere

    def wait_s(self, place):
        """Seconds `place` must wait before its next try (0: it may try now)."""
        with self._lock:
            _, free_at = self._places.get(place, (0, 0.0))
            return max(0.0, free_at - self.clock())

    def check(self, offered, place):
        """True for the right key (and `place` starts afresh); False for a wrong one, counted. A
        place that must still wait is refused without its key being looked at."""
        wait = self.wait_s(place)
        if wait > 0:
            raise TeacherRefusal("wait", f"too many wrong keys: try again in {wait:.0f} s", seconds=round(wait + 0.5))
        offered = offered.encode() if isinstance(offered, str) else b""
        right = hmac.compare_digest(offered, self._key)
        with self._lock:
            tries, _ = self._places.pop(place, (0, 0.0))
            if right:
                return True
            self.wrong += 1
            tries += 1
            wait = min(MAX_WAIT_S, 2.0 ** (tries - FREE_TRIES - 1)) if tries > FREE_TRIES else 0.0
            self._places[place] = (tries, self.clock() + wait)
            while len(self._places) > MAX_PLACES:
                self._places.popitem(last=False)
        return False

    def __repr__(self):  # never the key itself, in a log or a traceback
        return f"TeacherKey(wrong={self.wrong})"
