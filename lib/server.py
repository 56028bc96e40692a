"""One-time preparation of the Streamlit server process.

TensorFlow's import takes ~3.5 s and leaves about a million long-lived Python objects behind.
Every full garbage collection walks all of them, and a Streamlit rerun allocates enough to
trigger several: measured here, a bare page with one slider and one chart went from 154 ms to
380 ms per nudge once TensorFlow was imported. Moving everything that exists after the import
into the collector's permanent generation (`gc.freeze`) brought it to 42 ms; objects created
later are collected as usual.

Streamlit also calls `keras.backend.clear_session()` after every script run, which empties
TensorFlow's kernel cache: measured on the optimizers page, the server's CPU per nudge went from
~310 ms to ~140 ms once that was turned off (see `keep_keras_state_between_reruns`).

The import runs in a background thread, started once the first page has run, so that a page
that needs nothing draws first (a page that needs Keras imports it in its own run, under a note
saying what it waits for); a replica of a lecture hall starts it with its process
(deploy/replica.py). The same thread then trains the class model — the small CNN the filters,
evaluate and save pages share (a few seconds, once per computer: lib.class_model keeps it, and a
server started again reads it back), grades it and saves it (lib.class_exam and
lib.saving.class_files, kept alike). `imported` and `class_model_ready` say how far it has got.
What follows the import waits for moments when no page is being run (`page_running`).
"""
import collections
import contextlib
import gc
import logging
import os
import threading

_warm_up = None
_lock = threading.Lock()
imported = threading.Event()  # TensorFlow, Keras and the rest are imported and frozen
class_model_ready = threading.Event()  # ... and the class model is trained


def _import_and_freeze():
    _large_blocks_go_back()
    import keras  # noqa: F401  (the import itself is the point)
    import pandas  # noqa: F401
    import plotly.graph_objects  # noqa: F401
    import sklearn.datasets  # noqa: F401
    import tensorflow  # noqa: F401

    gc.collect()
    gc.freeze()
    keep_keras_state_between_reruns()
    _run_each(_set(imported, on_imported))
    from lib import class_exam, saving
    from lib.class_model import class_model

    _quiet_moment()
    class_model()  # train the shared read-only CNN now, not while a student waits
    _quiet_moment()
    class_exam.graded()  # and its mock exam, kept for the next server's Evaluate page (lib.class_exam)
    _quiet_moment()
    saving.class_file_view()  # and its files, kept for the next server's Save & load page
    _run_each(_set(class_model_ready, on_ready))
    threading.Thread(target=_give_memory_back, name="memory-trim", daemon=True).start()


# How often the server collects, shuts down the sessions Streamlit dropped and trims (seconds);
# the environment may shorten it (the tests do, to see a closed tab's session go within seconds).
TRIM_EVERY_S = float(os.environ.get("KERAS_CLASSROOM_TRIM_EVERY_S", 60))
MMAP_THRESHOLD = 1 << 20  # bytes: a block this large or larger is its own mapping, returned when freed


def _large_blocks_go_back():
    """glibc serves a large block (above 128 kB) from a mapping of its own, returned at free, but
    after the first such free it raises that threshold up to 32 MB and serves them from its heaps,
    which a server with a thread per student fragments and keeps. A fixed 1 MB threshold keeps big
    buffers (an upload, a layer's weights copied for a page) mapped, so they go back when freed.
    (glibc only: elsewhere nothing happens.) The ~6 MB a round that bench/upload_class.py showed
    the server keeping was not this but sessions never shut down: see `_close_dropped_sessions`."""
    import ctypes
    import ctypes.util

    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt(-3, MMAP_THRESHOLD)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass


# What runs in the warm-up thread once the imports are done, before the class model is trained: the
# entry point adds the first view of a page whose Keras work a student would otherwise wait for.
on_imported = []


def once_imported(action):
    """Run `action()` once, in the background, as soon as Keras is imported (kept once); at once,
    in a thread of its own, when it is asked after that (a replica prepares before its first page)."""
    _once_after(action, on_imported, imported)


# What runs in the warm-up thread once the class model is trained: the entry point adds the start
# of the first training worker, whose own import of Keras (seconds of a core) would otherwise
# begin when a student first opens a page that trains, and slow that page's first nudges.
on_ready = []


def once_ready(action):
    """Run `action()` once, in the background, as soon as the class model is trained (kept once); at
    once, in a thread of its own, when it is asked after that."""
    _once_after(action, on_ready, class_model_ready)


def _once_after(action, actions, event):
    """Keep `action` in `actions` once; run it in a thread of its own when `event` is already set
    (the warm-up thread took its list of them when it set the event, under the same lock)."""
    with _lock:
        if action in actions:
            return
        actions.append(action)
        late = event.is_set()
    if late:
        threading.Thread(target=_run_each, args=([action],), name="warm-up, late", daemon=True).start()


def _set(event, actions):
    """Set `event` and give the actions asked for until then (one asked for later runs on its own)."""
    with _lock:
        event.set()
        return list(actions)


def _run_each(actions):
    """Each action in turn, each at a quiet moment; one that fails is logged and the next still runs
    (a head start only: the page does the same work when it is opened)."""
    for action in actions:
        _quiet_moment()
        try:
            action()
        except Exception:
            logging.getLogger(__name__).exception("warm-up step %r failed", action)


# Pages being run in this process right now (the entry point runs each one inside `page_running`).
# The warm-up's head starts after Keras's import wait for a moment when none is: a student who
# opens a page while the server prepares is served first. Measured with the one-tab walker's
# pattern (the start page, then /optimizers while the server was still preparing): the reading of
# the class model, the first training worker's start (its own import of Keras: a core for seconds)
# and the walks around the first view had run beside the page's own work, slowing it.
_pages = threading.Condition()
_pages_running = 0
QUIET_MOMENT_LIMIT_S = 10.0  # a head start waits no longer for a class that never stops nudging


@contextlib.contextmanager
def page_running():
    """Count a page's run as running until it ends, however it ends (a rerun, a stop, an error)."""
    global _pages_running
    with _pages:
        _pages_running += 1
    try:
        yield
    finally:
        with _pages:
            _pages_running -= 1
            _pages.notify_all()


def _quiet_moment(limit=None):
    """Wait until no page is being run in this process, or `limit` seconds (QUIET_MOMENT_LIMIT_S)."""
    with _pages:
        _pages.wait_for(lambda: _pages_running == 0, QUIET_MOMENT_LIMIT_S if limit is None else limit)


# What runs once the last session of a class is gone: the entry point adds the pages' caches
# (ui.forget_figures). A list here, filled from above, so this module imports nothing of the pages.
on_class_left = []


def when_class_leaves(action):
    """Run `action()` each time the last session is gone (once, however often it is asked)."""
    if action not in on_class_left:
        on_class_left.append(action)


# What runs at every period while this server holds no session: what may go only once the whole
# class has gone, which with replicas this server alone cannot tell at the moment its own class left
# (the class's drawings: lib.classroom.drawings.class_has_ended asks the store).
on_idle = []


def while_idle(action):
    """Run `action()` every period (TRIM_EVERY_S) while this server has no session (kept once)."""
    if action not in on_idle:
        on_idle.append(action)


def _after_period(busy, sessions):
    """One period of `_give_memory_back`, given whether the class was here at the last one and how
    many sessions there are now: the class-left actions run when the last session has just gone,
    the idle ones at every period without a session. Returns whether the class is here."""
    if busy and sessions == 0:  # the last session is gone (closed tabs are kept a minute first)
        for action in list(on_class_left):
            action()
    if sessions == 0:
        for action in list(on_idle):
            action()
    return sessions != 0


_done_once, _once_lock = set(), threading.Lock()


def once_at_start(action):
    """Run `action()` the first time it is asked in this process (the entry point asks at every
    script run, so: at the server's first script run, before its first student is seen), never
    again. Another first run waits until it has run."""
    with _once_lock:
        if action not in _done_once:
            _done_once.add(action)
            action()


# Sessions Streamlit's session storage let go of, to be shut down (see _close_dropped_sessions).
_dropped = collections.deque()


def _watch_dropped_sessions():
    """Note every session Streamlit's storage of closed tabs removes; (runtime, storage) or None.

    Streamlit 1.67 keeps a closed tab's session for server.disconnectedSessionTTL in a TTL cache
    that forgets it at the end without `AppSession.shutdown()` (streamlit/streamlit#12506): its
    uploaded files stay in the uploaded-file manager for good. Measured with bench/upload_class.py's
    student uploading a 7 MB model a round (a gc probe in the server): +7.3 MB of upload bytes and
    ~190 widgets' state kept per round, 59 MB more after 8 rounds and a quiet 150 s. Streamlit has
    no public hook for this; if its internals move, nothing is watched."""
    try:
        from streamlit import runtime

        rt = runtime.get_instance()
        storage = rt._session_mgr._session_storage._cache
        earlier = storage._on_remove
    except Exception:  # noqa: BLE001  (another Streamlit: the leak may be fixed, or elsewhere)
        return None

    def noted(key, info):
        _dropped.append(info)
        if earlier is not None:
            earlier(key, info)

    storage._on_remove = noted
    return rt, storage


def _close_dropped_sessions(rt, storage):
    """On Streamlit's event loop (where it handles sessions): let the storage drop the sessions
    past their time, then shut down each dropped one that is not back (a reconnected tab takes its
    session out of storage too) — what Streamlit does for a session it closes itself."""
    storage.expire()
    while _dropped:
        session = _dropped.popleft().session
        if rt._session_mgr.get_active_session_info(session.id) is None and session.id not in storage:
            try:
                session.shutdown()  # a no-op for one already shut down
                # Its widgets' values (an uploaded file among them) go too: shutdown leaves them,
                # and with them a closed tab's 24 MiB upload gave back 12 MiB, without them 26.
                session._session_state.clear()
            except Exception:  # noqa: BLE001  (one session's clean-up must not stop the others')
                pass


def _give_memory_back():
    """Every minute, collect garbage and hand freed memory back to the system. When a class
    leaves, Streamlit drops their sessions (server.disconnectedSessionTTL) but the C allocator
    keeps the freed pages for reuse, so the process would stay at its peak. (glibc only; elsewhere
    just the collection.) Once the last session is gone, what was cached for the class goes too
    (`on_class_left`)."""
    import ctypes
    import ctypes.util
    import time

    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        trim = None
    watched = _watch_dropped_sessions()
    busy = False
    while True:
        time.sleep(TRIM_EVERY_S)
        if watched is not None:
            _on_event_loop(watched[0], _close_dropped_sessions, *watched)
        busy = _after_period(busy, _sessions())
        gc.collect()
        if trim is not None:
            trim(0)


def _on_event_loop(rt, action, *args):
    """Run action(*args) on Streamlit's event loop and wait for it (at most 10 s)."""
    done = threading.Event()

    def run():
        try:
            action(*args)
        finally:
            done.set()

    try:
        rt._get_async_objs().eventloop.call_soon_threadsafe(run)
    except RuntimeError:  # the server is stopping
        return
    done.wait(10)


def _sessions():
    """How many sessions this server holds (connected, or kept for a while after a tab closed:
    server.disconnectedSessionTTL); -1 when Streamlit does not say."""
    try:
        from streamlit import runtime

        return runtime.get_instance()._session_mgr.num_sessions()  # no public count in Streamlit 1.x
    except Exception:
        return -1


def keep_keras_state_between_reruns():
    """Streamlit calls `keras.backend.clear_session()` after every script run. That empties
    TensorFlow's kernel cache (so the first op of every rerun is slow again) and runs a full
    garbage collection; it also resets Keras's name counters under the feet of other sessions.
    This app keeps its models in caches on purpose, so that clean-up only costs time. Asked for at
    every run (ui.prepare_server; idempotent), not only by the warm-up: the first page a fresh
    server runs imports Keras itself, and its clean-up, a full collection of TensorFlow's million
    objects (~0.25 s), came while the browser fetched that page's first picture."""
    from streamlit.runtime.scriptrunner import script_runner

    script_runner._clean_problem_modules = lambda: None


def prepare():
    """Start importing the heavy libraries in the background, once per process (idempotent)."""
    global _warm_up
    with _lock:
        if _warm_up is None:
            _warm_up = threading.Thread(target=_import_and_freeze, name="warm-up", daemon=True)
            _warm_up.start()
    return _warm_up


def wait_until_prepared(timeout=None):
    """Block until the heavy imports are done and the class model is trained (for benchmarks and
    tests)."""
    prepare().join(timeout)
