"""The class's store (lib.classroom.store) in its three homes — memory, an SQLite file, a real
Debian `redis-server` on loopback (started and stopped here) — held to the same contract: what it
keeps, what it forgets and when, its bounds, and a clear StoreDown when it cannot be reached."""
import os
import shutil
import subprocess

import pytest

from deploy.launch import free_ports
from lib.classroom import contract
from lib.classroom import store as class_store
from tests.helpers import Clock, wait_until


def _free_port():
    return free_ports(1)[0]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A real redis-server on loopback, for this module only; skipped without one, except in CI."""
    server = shutil.which("redis-server") or ("/usr/bin/redis-server" if os.access("/usr/bin/redis-server", os.X_OK)
                                               else None)
    if server is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the store's tests must run against Redis in CI: apt-get install redis-server")
        pytest.skip("no redis-server (apt-get install redis-server)")
    port, folder = _free_port(), tmp_path_factory.mktemp("redis")
    process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    import redis
    probe = redis.Redis.from_url(url, socket_connect_timeout=0.2)

    def answers():
        try:
            return probe.ping()
        except redis.ConnectionError:
            return False
    wait_until(answers, 10, "redis-server did not answer within 10 s")
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(params=["memory", "sqlite", "redis"])
def make(request, tmp_path):
    """make(**bounds) -> a fresh store of the kind, on the test's clock; the same kind twice shares
    the class (two replicas on one Redis, or one SQLite file opened twice)."""
    made = []

    def open_one(**bounds):
        if request.param == "memory":
            if made:
                return made[0]
            url = "memory://"
        elif request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'class.db'}"
        else:
            url = request.getfixturevalue("redis_url")
            if not made:
                import redis
                redis.Redis.from_url(url).flushdb()
        opened = class_store.open_store(url, **bounds)
        made.append(opened)
        return opened
    return open_one


def test_records_are_kept_per_browser_and_replaced_per_task(make):
    clock = Clock()
    store = make(clock=clock)
    assert store.records("s1") == {}
    store.put("s1", "pooling.quarter", {"status": "tried"})
    store.put("s1", "pooling.quarter", {"status": "done", "facts": {"width_factor": 4.0}})
    store.put("s1", "losses.far", {"status": "tried", "memory": {"guess": "mse"}})
    store.put("s2", "losses.far", {"status": "tried"})
    assert store.records("s1") == {"pooling.quarter": {"status": "done", "facts": {"width_factor": 4.0}},
                                   "losses.far": {"status": "tried", "memory": {"guess": "mse"}}}
    assert make(clock=clock).everyone() == {"s1": store.records("s1"), "s2": {"losses.far": {"status": "tried"}}}
    assert len(store) == 2


def test_the_least_recently_seen_browser_is_forgotten_first_with_everything_it_had(make):
    clock = Clock()
    store = make(max_students=3, clock=clock)
    for k, student in enumerate(["s1", "s2", "s3"]):
        clock.now += 1
        store.put(student, "t", {"n": k})
        store.set_name(student, f"name {k}")
    clock.now += 1
    store.seen("s1", "pooling")  # s1 is the most recent now: s2 is the oldest
    clock.now += 1
    store.put("s4", "t", {"n": 4})
    assert len(store) == 3 and store.records("s2") == {} and store.records("s1") == {"t": {"n": 0}}
    assert set(store.everyone()) == {"s1", "s3", "s4"} and "s2" not in store.names()


def test_a_browser_unseen_for_the_ttl_is_forgotten(make):
    clock = Clock()
    store = make(ttl_s=60, clock=clock)
    store.put("s1", "t", {"n": 1})
    store.seen("s1", "training")
    clock.now += 59
    assert store.records("s1") == {"t": {"n": 1}} and set(store.present(60)) == {"s1"}
    clock.now += 2
    assert store.records("s1") == {} and store.everyone() == {} and len(store) == 0 and store.present(600) == {}
    store.put("s2", "t", {"n": 2})  # a write forgets the gone for good
    clock.now -= 10  # even if the clock were to come back
    assert store.records("s1") == {}


def test_presence_says_who_is_on_which_page_and_since_when(make):
    clock = Clock()
    store = make(clock=clock)
    store.seen("s1", "pooling")
    clock.now += 30
    store.seen("s2", "optimizers")
    store.put("s3", "t", {})  # a record is not a page: not "present" on one
    clock.now += 5
    assert store.present(60) == {"s1": ("pooling", 35.0), "s2": ("optimizers", 5.0)}
    assert store.present(10) == {"s2": ("optimizers", 5.0)}


def test_a_nickname_is_cut_to_its_limit_and_a_record_too_big_is_refused(make):
    store = make()
    store.set_name("s1", "가" * 30)
    assert store.names() == {"s1": "가" * class_store.MAX_NAME}
    with pytest.raises(ValueError, match=r"a record of 5\d{3} bytes \(at most 4096\)"):
        store.put("s1", "t", {"memory": "x" * 5000})
    assert store.records("s1") == {}


def test_pushes_are_numbered_and_the_last_one_is_read(make):
    store = make()
    assert store.last_push() == (0, None)
    assert store.push({"page": "optimizers", "settings": {"optimizers.lr": 0.3}}) == 1
    assert store.push({"page": "pooling", "settings": {}, "present": True}) == 2
    assert make().last_push() == (2, {"page": "pooling", "settings": {}, "present": True})


def test_the_first_server_to_set_a_setting_wins(make):
    assert make().setdefault("teacher_key", "first") == "first"
    assert make().setdefault("teacher_key", "second") == "first"  # another replica, the same class


def test_a_setting_is_read_replaced_removed_and_bounded(make):
    store, other = make(), make()  # two servers of one class (memory: the same one)
    assert store.setting("lesson:ab12cd34") is None
    store.put_setting("lesson:ab12cd34", '{"pages":["pooling"]}')
    store.put_setting("lesson:ab12cd34", '{"pages":["losses"]}')
    assert store.setting("lesson:ab12cd34") == '{"pages":["losses"]}'
    assert other.setting("lesson:ab12cd34") == '{"pages":["losses"]}'
    with pytest.raises(ValueError, match="a record of 4097 bytes"):
        store.put_setting("lesson:ab12cd34", "x" * 4097)
    store.put_setting("lesson:ab12cd34", None)
    assert store.setting("lesson:ab12cd34") is None
    store.put_setting("lesson:ab12cd34", None)  # removing what is not there: nothing happens


def test_drawings_are_numbered_kept_for_the_class_and_dropped_one_or_all(make):
    clock = Clock()
    store, other = make(clock=clock), make(clock=clock)  # two servers of one class
    assert store.drawings() == []
    first = store.add_drawing("s1", '{"digit":7}')
    clock.now += contract.MIN_DRAWING_GAP_S
    second = store.add_drawing("s1", '{"digit":1}')
    third = other.add_drawing("s2", '{"digit":7}')
    assert first < second < third
    assert other.drawings() == [(first, "s1", '{"digit":7}'), (second, "s1", '{"digit":1}'),
                                (third, "s2", '{"digit":7}')]
    store.drop_drawings([second, 999])  # one that is not there: nothing happens
    assert [n for n, _, _ in other.drawings()] == [first, third]
    with pytest.raises(ValueError, match="a record of 4097 bytes"):
        store.add_drawing("s3", "x" * 4097)
    other.drop_drawings()
    assert store.drawings() == []
    clock.now += contract.MIN_DRAWING_GAP_S
    assert store.add_drawing("s1", "{}") > third  # numbers are never given twice


def test_a_drawing_faster_than_a_person_draws_or_past_a_bound_is_refused_by_the_store(make, monkeypatch):
    monkeypatch.setattr(contract, "MAX_DRAWINGS_PER_STUDENT", 2)
    monkeypatch.setattr(contract, "MAX_DRAWINGS", 3)
    clock = Clock()
    store = make(clock=clock)

    def refused(student):
        with pytest.raises(contract.DrawingRefused) as caught:
            store.add_drawing(student, "{}")
        return caught.value.code, caught.value.details

    store.add_drawing("s1", "{}")
    clock.now += contract.MIN_DRAWING_GAP_S - 0.1
    assert refused("s1") == ("too_fast", {"seconds": contract.MIN_DRAWING_GAP_S})
    clock.now += 0.1
    store.add_drawing("s1", "{}")
    clock.now += 60
    assert refused("s1") == ("student_full", {"count": 2})
    store.add_drawing("s2", "{}")
    assert refused("s3") == ("class_full", {"count": 3})
    assert len(store.drawings()) == 3  # nothing refused was kept
    store.drop_drawings([store.drawings()[0][0]])
    store.add_drawing("s3", "{}")  # room again


def test_the_class_pace_is_bounded_whatever_the_browser_ids_and_a_clock_behind_is_not_too_soon(make, monkeypatch):
    monkeypatch.setattr(contract, "MAX_DRAWINGS_PER_MINUTE", 3)
    clock = Clock()
    store = make(clock=clock)
    for k in range(3):  # three fresh ids: one script dropping its cookie
        store.add_drawing(f"new{k}", "{}")
    with pytest.raises(contract.DrawingRefused) as refused:
        store.add_drawing("new3", "{}")
    assert (refused.value.code, refused.value.details) == ("class_busy", {"count": 3})
    clock.now += 61
    store.add_drawing("new3", "{}")  # a minute later: the class's pace allows it again
    clock.now -= 0.5  # another server whose clock is behind this one's: its student is not "too fast"
    store.add_drawing("new3", "{}")


def test_replicas_adding_drawings_at_once_cannot_pass_the_class_bound(make, monkeypatch):
    import threading

    monkeypatch.setattr(contract, "MAX_DRAWINGS", 5)
    servers = [make() for _ in range(4)]  # four replicas of one class, each with its own connection
    refusals, start = [], threading.Barrier(16)

    def add(k):
        start.wait(timeout=10)
        try:
            servers[k % 4].add_drawing(f"s{k}", "{}")
        except contract.DrawingRefused as refused:
            refusals.append(refused.code)
    threads = [threading.Thread(target=add, args=(k,)) for k in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(servers[0].drawings()) == 5 and refusals == ["class_full"] * 11


def test_the_sqlite_file_survives_a_restart_and_an_unwritable_one_is_said(tmp_path):
    path = tmp_path / "class.db"
    class_store.open_store(f"sqlite:///{path}").put("s1", "t", {"status": "done"})
    assert class_store.open_store(f"sqlite:///{path}").records("s1") == {"t": {"status": "done"}}
    (tmp_path / "locked").write_text("a file where the folder would be")
    with pytest.raises(class_store.StoreDown, match="the class's SQLite file .*locked/class.db"):
        class_store.open_store(f"sqlite:///{tmp_path / 'locked' / 'class.db'}")


def test_an_unknown_store_address_is_refused_with_the_ones_it_takes():
    with pytest.raises(ValueError, match=r"no store for 'postgres://x' \(memory://, sqlite:///path"):
        class_store.open_store("postgres://x")


def test_redis_keeps_its_keys_bounded_and_a_stopped_server_is_store_down(redis_url):
    import redis
    redis.Redis.from_url(redis_url).flushdb()
    clock = Clock()
    store = class_store.open_store(redis_url, max_students=5, clock=clock)
    for k in range(50):
        clock.now += 1
        store.seen(f"s{k}", "pooling")
        store.put(f"s{k}", "t", {"n": k})
        store.set_name(f"s{k}", "x")
    keys = redis.Redis.from_url(redis_url).keys("kc:*")
    assert len(keys) == 1 + 5 * 2, sorted(keys)  # the set of who is here, and two hashes per student kept
    dead = class_store.open_store(f"redis://127.0.0.1:{_free_port()}/0")
    with pytest.raises(class_store.StoreDown, match="the class's Redis at redis://127.0.0.1:"):
        dead.records("s1")


def test_a_student_goes_on_when_the_store_is_down_and_keeps_what_they_did_when_it_is_back(redis_url):
    import redis

    from lib.classroom.progress import Progress
    redis.Redis.from_url(redis_url).flushdb()
    progress = Progress(["p.a", "p.b"], class_store.open_store(f"redis://127.0.0.1:{_free_port()}/0"))
    progress.tried("s1", "p.a")
    progress.done("s1", "p.a", {"x": 1})
    def without_times(records):
        return {task: {k: v for k, v in record.items() if k != "at"} for task, record in records.items()}
    assert without_times(progress.of("s1")) == {"p.a": {"status": "done", "facts": {"x": 1}, "right": None}}
    assert isinstance(progress.down, class_store.StoreDown)
    progress.store = class_store.open_store(redis_url)  # the store answers again (a Redis restarted)
    progress.store.put("s1", "p.a", {"status": "tried"})  # what it had before it went down
    progress.tried("s1", "p.b")
    assert progress.down is None
    assert without_times(progress.of("s1")) == {"p.a": {"status": "done", "facts": {"x": 1}, "right": None},
                                                "p.b": {"status": "tried"}}
    assert without_times(class_store.open_store(redis_url).records("s1"))["p.b"] == {"status": "tried"}
