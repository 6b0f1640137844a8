"""What a run costs the worker, measured from inside its process (for the throughput and CPU benchmarks):
process CPU time (every thread, user + system: it holds on a busy machine, unlike wall clock), the SQL
statements and Redis commands it sends, and a profile of every thread. Not a benchmark itself."""

from __future__ import annotations

import contextlib
import cProfile
import io
import pstats
import resource
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


def process_cpu_seconds() -> float:
    """User + system CPU seconds of this process, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load_average() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


@dataclass
class Cost:
    """What a block of work cost this process."""

    wall: float = 0.0
    cpu: float = 0.0
    sql: int = 0
    redis: int = 0
    by_command: dict[str, int] = field(default_factory=dict)


class _Counters:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sql = 0
        self.redis: dict[str, int] = {}


@contextmanager
def measured() -> Iterator[Cost]:
    """Wall and CPU time, SQL statements (every thread's connection) and Redis commands (every client of
    redis-py in the process) of the block."""
    from django.db.backends import utils
    from redis.client import Pipeline, Redis

    counters = _Counters()
    originals: dict[tuple[type, str], Callable[..., Any]] = {}

    def count_sql(name: str) -> None:
        original = getattr(utils.CursorWrapper, name)
        originals[(utils.CursorWrapper, name)] = original

        def wrapper(self, *args, **kwargs):
            with counters.lock:
                counters.sql += 1
            return original(self, *args, **kwargs)

        setattr(utils.CursorWrapper, name, wrapper)

    for name in ("execute", "executemany"):
        count_sql(name)
    original_command = Redis.execute_command
    originals[(Redis, "execute_command")] = original_command

    def execute_command(self, *args, **options):
        if not isinstance(self, Pipeline):
            command = str(args[0]).upper()
            with counters.lock:
                counters.redis[command] = counters.redis.get(command, 0) + 1
        return original_command(self, *args, **options)

    Redis.execute_command = execute_command  # type: ignore[method-assign]
    cost = Cost()
    started, cpu = time.monotonic(), process_cpu_seconds()
    try:
        yield cost
    finally:
        cost.wall = time.monotonic() - started
        cost.cpu = process_cpu_seconds() - cpu
        for (owner, name), original in originals.items():
            setattr(owner, name, original)
        cost.sql = counters.sql
        cost.by_command = dict(counters.redis)
        cost.redis = sum(counters.redis.values())


@contextmanager
def profiled(sort: str = "tottime", limit: int = 40, dump: str = "") -> Iterator[io.StringIO]:
    """cProfile of every thread started inside the block and of the calling thread, merged; the report
    is written to the yielded buffer at the end (and the stats to `dump`, if named). Timed by each thread's
    CPU clock: a thread waiting on a socket or a lock costs nothing, so the profile shows where CPU goes. (cProfile sees one thread; each thread gets its own.)"""
    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()

    def start_in_thread(*_args: Any) -> None:
        profile = cProfile.Profile(time.thread_time)
        with lock:
            profiles.append(profile)
        profile.enable()  # replaces this hook for the rest of the thread

    main = cProfile.Profile(time.thread_time)
    report = io.StringIO()
    threading.setprofile(start_in_thread)
    main.enable()
    try:
        yield report
    finally:
        main.disable()
        threading.setprofile(None)  # type: ignore[arg-type]
        stats = pstats.Stats(main, stream=report)
        with lock:
            for profile in profiles:
                with contextlib.suppress(TypeError):  # a thread that never ran a profiled call
                    stats.add(profile)
        if dump:
            stats.dump_stats(dump)
        stats.sort_stats(sort).print_stats(limit)
