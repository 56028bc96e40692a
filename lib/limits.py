"""The limits a child process of the server sets on itself (a training worker, a model loader or
host): private memory above what it holds now, CPU time per request, no core files — and first
to go when memory runs out. POSIX only; elsewhere the server's own watch is what remains."""
import os


def private_data_bytes():
    """This process's VmData (private writable memory, what RLIMIT_DATA counts), or None."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmData:"))
    except (OSError, ValueError, StopIteration):
        return None


def set_limit(name, value, *, soft_only=False):
    """Lower the resource limit `name` ("RLIMIT_DATA", ...) to `value` (never above its hard limit);
    with `soft_only` the hard limit stays, so the limit can be renewed later (a CPU limit per
    request). Quietly nothing where the platform has no such limit."""
    try:
        import resource

        limit = getattr(resource, name)
        _, hard = resource.getrlimit(limit)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(limit, (value, hard if soft_only else value))
    except (ImportError, AttributeError, ValueError, OSError):
        pass


def limit_memory(memory_bytes):
    """RLIMIT_DATA at what this process holds now plus `memory_bytes`: past it an allocation fails
    (MemoryError, or TensorFlow stops the process), in this process only."""
    held = private_data_bytes()
    if held is not None:
        set_limit("RLIMIT_DATA", held + memory_bytes)


def allow_cpu(seconds):
    """RLIMIT_CPU (soft) at `seconds` beyond what this process has used: a busy loop dies of SIGXCPU."""
    try:
        import resource

        used = resource.getrusage(resource.RUSAGE_SELF)
    except ImportError:
        return
    set_limit("RLIMIT_CPU", int(used.ru_utime + used.ru_stime) + int(seconds), soft_only=True)


HOST_NICENESS = 10  # a stranger's model waits for the class: the server's own work runs first


def yield_to_the_class(niceness=HOST_NICENESS):
    """Lower this process's CPU priority: when it and the server both want a core, the server (a
    class on its sliders) gets it, and this process has what is left. Measured with one student
    grading the heaviest allowed upload while ten move sliders (bench/upload_class.py)."""
    try:
        os.nice(niceness)
    except (AttributeError, OSError):  # not POSIX: nothing to lower
        pass


def first_to_go():
    """Ask the kernel to pick this process first when memory runs out (oom_score_adj 1000): in a
    container with a memory limit, a stranger's model or a student's run dies, never the server
    a class is on. No core files either: a dying process writes nothing."""
    set_limit("RLIMIT_CORE", 0)
    try:
        with open(f"/proc/{os.getpid()}/oom_score_adj", "w") as f:
            f.write("1000")
    except OSError:  # not Linux: the other limits remain
        pass
