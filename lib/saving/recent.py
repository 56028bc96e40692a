"""What the server already did for one student, kept for the next: a bounded map keyed by content.

A class opens the Save & load page together: thirty students save the same class model and load
the same bytes back. Each load is a round trip to the one-use loader process (a fresh one imports
TensorFlow, ~2 s), so without this the thirtieth student waited a minute for what the first one
already had. Keys are content hashes (of the uploaded bytes, of a model's architecture and
weights), so a hit is the same answer by construction, never a stale one.
"""
import collections
import threading


class Recent:
    """At most `entries` values and `max_bytes` bytes (by `size(value)`), the least recently used
    out first. `get(key, make)` calls `make()` once for a key even when several threads ask at
    once: the others wait for that answer. An exception from `make` is not kept."""

    def __init__(self, entries, max_bytes, size):
        self.entries, self.max_bytes, self._size = entries, max_bytes, size
        self._items = collections.OrderedDict()  # key -> (value, bytes)
        self._pending = {}  # key -> the lock its maker holds
        self._lock = threading.Lock()

    def get(self, key, make):
        value = self._lookup(key)
        if value is not None:
            return value
        with self._lock:
            pending = self._pending.setdefault(key, threading.Lock())
        try:
            with pending:
                value = self._lookup(key)
                if value is None:
                    value = make()
                    self._store(key, value)
        finally:
            with self._lock:
                if self._pending.get(key) is pending:
                    del self._pending[key]
        return value

    def clear(self):
        """Forget every value (a maker still at work stores its answer when it ends)."""
        with self._lock:
            self._items.clear()

    def __len__(self):
        return len(self._items)

    def nbytes(self):
        with self._lock:
            return sum(n for _, n in self._items.values())

    def _lookup(self, key):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key][0]
        return None

    def _store(self, key, value):
        n = self._size(value)
        with self._lock:
            if n > self.max_bytes:
                return  # bigger than the whole cache: answered, not kept
            self._items[key] = (value, n)
            while len(self._items) > self.entries or sum(v[1] for v in self._items.values()) > self.max_bytes:
                self._items.popitem(last=False)
