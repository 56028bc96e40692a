"""What a scenario measured, as tables: latency per page and action, errors, training waits,
memory and CPU of the server and of the load generator, and the scenario's goals."""
import collections
import statistics

MB = 1024 * 1024


def percentile(values, q):
    """The q-th percentile (0-100), linear between the two nearest ranks."""
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def spread(values):
    return {"n": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95),
            "max": max(values) if values else float("nan")}


def latency_rows(samples):
    """{(kind, page): stats}, {kind: stats over pages}, {page: stats of its nudges} (ms)."""
    def table(key):
        groups = collections.defaultdict(list)
        errors = collections.Counter()
        for s in samples:
            k = key(s)
            if k is None:
                continue
            if s["error"]:
                errors[k] += 1
            else:
                groups[k].append(s["ms"])
        return {k: {**spread(groups.get(k, [])), "errors": errors[k]} for k in sorted(set(groups) | set(errors))}

    return (table(lambda s: (s["kind"], s["page"])), table(lambda s: s["kind"]),
            table(lambda s: s["page"] if s["kind"].startswith("nudge") else None))


def fmt_ms(value):
    return "      -" if value != value else f"{value:7.0f}"


def print_latency(samples, out):
    by_both, by_kind, by_page = latency_rows(samples)
    out(f"  {'action':20} {'page':16} {'n':>5} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'errors':>6}")
    for (kind, page), s in by_both.items():
        out(f"  {kind:20} {page:16} {s['n']:5d} {fmt_ms(s['p50'])} {fmt_ms(s['p95'])} {fmt_ms(s['max'])} {s['errors']:6d}")
    out("  by action, all pages:")
    for kind, s in by_kind.items():
        out(f"  {kind:20} {'(all)':16} {s['n']:5d} {fmt_ms(s['p50'])} {fmt_ms(s['p95'])} {fmt_ms(s['max'])} {s['errors']:6d}")
    nudges = [s["ms"] for s in samples if s["kind"].startswith("nudge") and not s["error"]]
    if nudges:
        errors = sum(1 for s in samples if s["kind"].startswith("nudge") and s["error"])
        s = spread(nudges)
        out(f"  {'every nudge':20} {'(all)':16} {s['n']:5d} {fmt_ms(s['p50'])} {fmt_ms(s['p95'])} {fmt_ms(s['max'])} {errors:6d}")
    return by_kind


def error_examples(samples, sessions, log_tracebacks, out, limit=5):
    """Count failed actions and the problems seen in the stream (exception elements, disconnections:
    most of them are what made an action fail); print a few examples. Returns both counts."""
    failed = [s for s in samples if s["error"]]
    exceptions = [e for session in sessions for e in session.errors]
    kinds = collections.Counter(e["kind"] for e in exceptions)
    out(f"  failed actions: {len(failed)}; problems seen in the stream: {dict(kinds) or 0}; "
        f"tracebacks in the server log: {len(log_tracebacks) if log_tracebacks is not None else 'n/a (not our server)'}")
    for s in failed[:limit]:
        out(f"    {s['kind']} /{s['page'].lstrip('/')}: {s['error'][:200]}")
        if s.get("after"):
            out(f"      after: {' | '.join(s['after'])}")
    shown = set()
    for e in exceptions:
        text = f"{e['kind']} on /{e['page']}: {e['message'][:160]}"
        if text not in shown and len(shown) < limit:
            shown.add(text)
            out(f"    {text}")
            out(f"      after: {' | '.join(e.get('after', []))}")
    for line, count in collections.Counter(log_tracebacks or []).most_common(limit):
        out(f"    server log ({count}x): {line}")
    return len(failed), len(exceptions)


def print_training(records, out):
    if not records:
        return {}
    records = sorted(records, key=lambda r: r["student"])
    out(f"  {'student':>7} {'update s':>8} {'epoch 1 s':>9} {'done s':>7} {'epochs':>6}  settings / problem")
    for r in records:
        def f(key):
            v = r.get(key)
            return "      -" if v is None else f"{v:7.2f}"
        settings = ", ".join(f"{k}={v}" for k, v in r["settings"].items()) or "the class link"
        out(f"  {r['student']:7d} {f('first_update_s'):>8} {f('epoch1_s'):>9} {f('done_s'):>7} {r.get('epochs', 0):6d}  "
            f"{r['error'] or settings[:90]}")
    epoch1 = [r["epoch1_s"] for r in records if r.get("epoch1_s") is not None]
    done = [r["done_s"] for r in records if r.get("done_s") is not None]
    clicks = [r["clicked"] for r in records if r.get("clicked")]
    ends = [r["clicked"] + r["done_s"] for r in records if r.get("done_s") is not None]
    summary = {"students": len(records), "epoch1": spread(epoch1), "done": spread(done),
               "failed": sum(1 for r in records if r["error"]),
               "last_done_after_first_click": (max(ends) - min(clicks)) if ends and clicks else None}
    e, d = summary["epoch1"], summary["done"]
    out(f"  click -> epoch 1 drawn: p50 {e['p50']:.2f} s, p95 {e['p95']:.2f} s, max {e['max']:.2f} s (n={e['n']})")
    out(f"  click -> run finished:  p50 {d['p50']:.2f} s, p95 {d['p95']:.2f} s, max {d['max']:.2f} s (n={d['n']})")
    if summary["last_done_after_first_click"] is not None:
        out(f"  first click -> last run finished: {summary['last_done_after_first_click']:.1f} s; "
            f"students without a finished run: {len(records) - len(done)}")
    return summary


def memory_summary(sampler, idle, students, left, end, tolerance_mb=64, tolerance_share=0.10):
    """Server and worker RSS: idle before the students, peak while they worked, when they left,
    and at the end of the cooldown; and whether it came back near idle."""
    def mean(samples, key):
        return statistics.fmean(s[key] for s in samples) if samples else float("nan")

    alive = [s for s in sampler.samples if not s.get("gone")]
    gone = next((s["t"] for s in sampler.samples if s.get("gone")), None)
    idle_s = [s for s in alive if idle[0] <= s["t"] <= idle[1]] or alive[:1]
    during = [s for s in alive if students <= s["t"] <= left]
    after = [s for s in alive if max(left, end - 10) <= s["t"] <= end] or ([] if gone else alive[-1:])
    at_left = min(alive, key=lambda s: abs(s["t"] - left)) if alive else None
    out = {"gone_at": gone}
    for s in sampler.samples:
        s["total_pss"] = s.get("pss", 0) + s.get("kids_pss", 0)
    for key, name in (("rss", "server"), ("kids_rss", "workers"), ("pss", "server_pss"), ("kids_pss", "workers_pss"),
                      ("total_pss", "total_pss")):
        base = mean(idle_s, key)
        final = mean(after, key)
        limit = base + max(tolerance_mb * MB, tolerance_share * base)
        out[name] = {"idle": base, "peak": max((s[key] for s in during), default=float("nan")),
                     "left": at_left[key] if at_left else float("nan"), "after": final,
                     "near_idle": None if gone else final <= limit, "limit": limit}
    out["workers"]["count_peak"] = max((s["kids"] for s in during), default=0)
    out["total_pss_peak"] = max((s["total_pss"] for s in during), default=float("nan"))
    return out


def replica_summary(sampler, replicas, students_at, left, end, students_on):
    """Each replica of a lecture hall (name -> pid): the students on it (`students_on`: name ->
    count, by the sticky cookie), its server's and workers' CPU while they worked, peak PSS."""
    from bench.classload.procmon import descendants_cpu

    during = [s for s in sampler.samples if students_at <= s["t"] <= left and "roots" in s]
    peak = [s for s in sampler.samples if students_at <= s["t"] <= end and "roots" in s]
    rows = {}
    for name, pid in replicas.items():
        own = [s["roots"][pid] for s in during if pid in s["roots"]]
        if len(own) < 2:
            continue
        wall = own[-1]["t"] - own[0]["t"]
        rows[name] = {"pid": pid, "students": students_on.get(name, 0), "wall_s": wall,
                      "server_cpu_s": own[-1]["cpu"] - own[0]["cpu"],
                      "workers_cpu_s": descendants_cpu(own[0], own[1:-1], own[-1]),
                      "peak_pss": max(s["roots"][pid]["pss"] + s["roots"][pid]["kids_pss"] for s in peak
                                      if pid in s["roots"])}
    return rows


def print_replicas(rows, out):
    for name, r in rows.items():
        out(f"  {name} (pid {r['pid']}): {r['students']} students; server {r['server_cpu_s']:.1f} s CPU "
            f"({r['server_cpu_s'] / max(r['wall_s'], 1e-9):.2f} cores), workers {r['workers_cpu_s']:.1f} s; "
            f"peak {r['peak_pss'] / MB:.0f} MB PSS with its workers")


def print_memory(memory, cooldown, out, start=None):
    if memory["gone_at"] is not None:
        when = f" {memory['gone_at'] - start:.0f} s after the students came" if start else ""
        out(f"  !! the server process is gone (exited or killed){when}: memory after that is unknown")
    for name in ("server", "workers", "server_pss", "workers_pss", "total_pss"):
        m = memory[name]
        verdict = "unknown" if m["near_idle"] is None else "back near idle" if m["near_idle"] else "NOT back near idle"
        kind = "PSS" if name.endswith("pss") else "RSS"
        out(f"  {name.split('_')[0] if name != 'total_pss' else 'both':8} {kind} MB: idle {m['idle'] / MB:7.0f}  peak {m['peak'] / MB:7.0f}  when they left "
            f"{m['left'] / MB:7.0f}  after {cooldown:.0f} s {m['after'] / MB:7.0f}  -> {verdict} "
            f"(limit {m['limit'] / MB:.0f})")
    out(f"  worker processes at the peak: {memory['workers']['count_peak']}; server + workers at the peak: "
        f"{memory['total_pss_peak'] / MB:.0f} MB PSS (RSS counts the shared TensorFlow library once per process)")


def print_timeline(sampler, start, end, out, every=30.0):
    """Server and worker RSS every `every` seconds (the JSON output has every sample)."""
    points, next_t = [], start
    for s in sampler.samples:
        if start <= s["t"] <= end and s["t"] >= next_t:
            points.append(f"{s['t'] - start:4.0f}s {s['rss'] / MB:.0f}+{s['kids_rss'] / MB:.0f}")
            next_t = s["t"] + every
    if points:
        out("  RSS over time (server+workers MB): " + "  ".join(points))


def goal_line(name, ok, detail, out):
    out(f"  [{'PASS' if ok else 'FAIL'}] {name}: {detail}")
    return ok


FLOORS = {"floor": "floor (Streamlit's defaults)", "floor_same": "floor (this repo's settings)"}


def floor_ratios(app, floor, label, nudge, out):
    """The app's nudges against one floor run: p50 and p95 in all and per page, server CPU per nudge."""
    def ms(samples, page=None):
        return [s["ms"] for s in samples if s["kind"].startswith("nudge") and not s["error"]
                and (page is None or s["page"] == page)]

    fn = ms(floor["samples"])
    if not fn or not nudge:
        return
    p50, p95 = percentile(fn, 50), percentile(fn, 95)
    out(f"  page / {label}: p50 {percentile(nudge, 50):.0f} / {p50:.0f} ms = "
        f"{percentile(nudge, 50) / max(p50, 1e-9):.1f}x; p95 {percentile(nudge, 95):.0f} / {p95:.0f} ms = "
        f"{percentile(nudge, 95) / max(p95, 1e-9):.1f}x")
    pages = sorted({s["page"] for s in app["samples"] if s["kind"].startswith("nudge")})
    for page in pages:
        own = ms(app["samples"], page)
        if own:
            out(f"    {page or '/':22} n={len(own):4}  p50 {percentile(own, 50) / max(p50, 1e-9):4.1f}x"
                f"  p95 {percentile(own, 95) / max(p95, 1e-9):4.1f}x")
    if app["cpu"]["server_s"] is not None and app["nudges"] and floor["nudges"]:
        a = app["cpu"]["server_s"] / app["nudges"] * 1000
        f = floor["cpu"]["server_s"] / floor["nudges"] * 1000
        out(f"  server CPU per nudge, page / {label}: {a:.0f} / {f:.0f} ms = {a / max(f, 1e-9):.1f}x "
            "(all pages at once; bench/nudge.py --floor gives it per page, one tab)")
