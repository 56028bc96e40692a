"""The class's store in Redis, for replicas (see lib.classroom.contract)."""
import json

from lib.classroom.contract import MAX_NAME, Store, StoreDown, bounded, drawing_refusal, encoded


class RedisStore(Store):
    """Redis, for replicas: a sorted set of browsers by when they were last seen (trimmed by time
    and by count), and per browser a hash of its records and one of its page and nickname, both
    expiring with the browser; the last push as a counter and a value. Every key under `prefix`."""

    shared_by_replicas = True  # (lib.classroom.drawings: one server's class leaving is not the class's end)

    def __init__(self, url, *, prefix="kc:", timeout_s=0.5, **bounds):
        import redis

        super().__init__(**bounds)
        self.url, self.prefix, self._errors = url, prefix, (redis.RedisError, OSError)
        self._redis = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
                                           decode_responses=True)

    def _key(self, *parts):
        return self.prefix + ":".join(parts)

    def _do(self, work):
        try:
            return work(self._redis)
        except self._errors as e:
            raise StoreDown("unreachable", f"the class's Redis at {self.url}: {e}", where=self.url) from e

    def _touch(self, r, student, **about):
        """See the student (with their page or name), in one round trip; then forget whoever is
        past the bounds, with their keys."""
        now, seen = self.clock(), self._key("seen")
        pipe = r.pipeline()
        pipe.zadd(seen, {student: now})
        for name, value in about.items():
            pipe.hset(self._key("student", student), name, value)
        for key in (self._key("student", student), self._key("records", student)):
            pipe.expire(key, int(self.ttl_s) + 1)
        pipe.zcard(seen)
        pipe.zrange(seen, 0, 0, withscores=True)
        *_, count, oldest = pipe.execute()
        if count > self.max_students or (oldest and oldest[0][1] < now - self.ttl_s):
            gone = set(r.zrangebyscore(seen, "-inf", now - self.ttl_s)) | set(r.zrange(seen, 0, -self.max_students - 1))
            pipe = r.pipeline()
            for student_gone in gone:
                pipe.delete(self._key("student", student_gone), self._key("records", student_gone))
                pipe.zrem(seen, student_gone)
            pipe.execute()

    def _alive(self, r, within_s=None):
        """{student: seconds since seen} of the browsers seen within `within_s` (default: ttl_s)."""
        now = self.clock()
        within_s = min(within_s or self.ttl_s, self.ttl_s)
        recent = r.zrangebyscore(self._key("seen"), now - within_s, "+inf", withscores=True)
        return {student: now - at for student, at in recent}

    def _each(self, r, students, read):
        pipe = r.pipeline()
        for student in students:
            read(pipe, student)
        return zip(students, pipe.execute())

    def records(self, student):
        def work(r):
            at = r.zscore(self._key("seen"), student)
            if at is None or at < self.clock() - self.ttl_s:
                return {}
            return {task: json.loads(text) for task, text in r.hgetall(self._key("records", student)).items()}
        return self._do(work)

    def put(self, student, task, record):
        text = encoded(record)

        def work(r):
            r.hset(self._key("records", student), task, text)
            self._touch(r, student)
        self._do(work)

    def seen(self, student, page):
        self._do(lambda r: self._touch(r, student, page=page))

    def present(self, within_s):
        def work(r):
            alive = self._alive(r, within_s)
            pages = self._each(r, list(alive), lambda pipe, s: pipe.hget(self._key("student", s), "page"))
            return {s: (page, alive[s]) for s, page in pages if page is not None}
        return self._do(work)

    def everyone(self):
        def work(r):
            kept = self._each(r, list(self._alive(r)), lambda pipe, s: pipe.hgetall(self._key("records", s)))
            return {s: {t: json.loads(x) for t, x in records.items()} for s, records in kept if records}
        return self._do(work)

    def set_name(self, student, name):
        self._do(lambda r: self._touch(r, student, name=name[:MAX_NAME]))

    def names(self):
        def work(r):
            kept = self._each(r, list(self._alive(r)), lambda pipe, s: pipe.hget(self._key("student", s), "name"))
            return {s: name for s, name in kept if name is not None}
        return self._do(work)

    def push(self, message):
        text = encoded(message)

        def work(r):
            pipe = r.pipeline()
            pipe.incr(self._key("push", "number"))
            pipe.set(self._key("push", "body"), text)
            return pipe.execute()[0]
        return self._do(work)

    def last_push(self):
        def work(r):
            number, body = r.mget(self._key("push", "number"), self._key("push", "body"))
            return (int(number), json.loads(body)) if number and body else (0, None)
        return self._do(work)

    def setdefault(self, name, value):
        def work(r):
            r.set(self._key("setting", name), value, nx=True)
            return r.get(self._key("setting", name))
        return self._do(work)

    def setting(self, name):
        return self._do(lambda r: r.get(self._key("setting", name)))

    def put_setting(self, name, value):
        if value is None:
            self._do(lambda r: r.delete(self._key("setting", name)))
        else:
            value = bounded(value)
            self._do(lambda r: r.set(self._key("setting", name), value))

    def add_drawing(self, student, text):
        text = bounded(text)
        every, times, mine = self._key("drawings"), self._key("drawings", "at"), self._key("drawings", "of", student)

        def attempt(pipe):  # read, check and add under WATCH: a replica adding at once makes it try again
            now, last = self.clock(), pipe.zrange(mine, -1, -1, withscores=True)
            refused = drawing_refusal(pipe.zcard(mine), last[0][1] if last else None, pipe.hlen(every),
                                      pipe.zcount(times, now - 60, "+inf"), now)
            if refused:
                raise refused
            number = pipe.incr(self._key("drawings", "number"))
            pipe.multi()
            pipe.hset(every, number, json.dumps([student, text]))
            pipe.zadd(mine, {number: now})
            pipe.zadd(times, {number: now})
            return number
        return self._do(lambda r: r.transaction(attempt, every, times, mine, value_from_callable=True))

    def drawings(self):
        def work(r):
            kept = sorted((int(n), *json.loads(body)) for n, body in r.hgetall(self._key("drawings")).items())
            return [(number, student, text) for number, student, text in kept]
        return self._do(work)

    def drop_drawings(self, numbers=None):
        every, times = self._key("drawings"), self._key("drawings", "at")

        def attempt(pipe):  # under WATCH: a drawing added meanwhile is not left behind by "all"
            kept = pipe.hgetall(every)
            chosen = kept if numbers is None else {str(int(n)) for n in numbers} & set(kept)
            pipe.multi()
            for number in chosen:
                pipe.hdel(every, number)
                pipe.zrem(times, number)
                pipe.zrem(self._key("drawings", "of", json.loads(kept[number])[0]), number)
        self._do(lambda r: r.transaction(attempt, every))

    def __len__(self):
        return self._do(lambda r: r.zcount(self._key("seen"), self.clock() - self.ttl_s, "+inf"))
