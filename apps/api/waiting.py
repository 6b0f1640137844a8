"""Waiting for a run's end inside one request, for orchestrators that would rather hold one call open than
poll (`?wait=` on the trigger and on a run).

The run's row is read again with a growing pause between reads (0.25 s, ×1.5 each time, at most 2 s), so
that a wait costs a handful of short queries, not a busy loop: a 5-minute wait reads the row about 160
times, and a run that ends within a second is seen at most a quarter-second late. Between reads the
request holds no transaction and no lock (the connection is idle; ATOMIC_REQUESTS is off)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

from django.conf import settings
from django.core.cache import cache

from apps.api.models import ApiKey
from apps.syncs.models import SyncRun
from apps.syncs.runs import selectors as run_selectors
from apps.tenancy.models import Workspace

MAX_WAIT_SECONDS = 300  # below the web server's request time-out (gunicorn's --timeout in the Dockerfile)
FIRST_PAUSE, GROWTH, LONGEST_PAUSE = 0.25, 1.5, 2.0


def run_wait(
    *,
    workspace: Workspace,
    run: SyncRun,
    seconds: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> SyncRun:
    """The run as soon as it has ended, or as it is when `seconds` have passed (whichever comes first)."""
    deadline = clock() + min(seconds, MAX_WAIT_SECONDS)
    pause = FIRST_PAUSE
    while run.is_active and (remaining := deadline - clock()) > 0:
        sleep(min(pause, remaining))
        pause = min(pause * GROWTH, LONGEST_PAUSE)
        run = run_selectors.run_get(workspace=workspace, run_id=run.pk)
    return run


class TooManyWaits(Exception):
    """The key already holds API_WAITS_PER_KEY waits: one key cannot take every thread of the web server."""

    RETRY_AFTER = 10

    def __init__(self, limit: int):
        super().__init__(limit)
        self.limit = limit


@contextmanager
def wait_slot(api_key: ApiKey) -> Iterator[None]:
    """Hold one of the key's API_WAITS_PER_KEY waits for the block; TooManyWaits when none is free. Counted in
    the shared cache (Redis in production: atomic, shared by every web process)."""
    key, expiry = f"api-waits:{api_key.pk}", 2 * MAX_WAIT_SECONDS  # a count left by a killed process expires
    cache.add(key, 0, timeout=expiry)
    try:
        held = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, held := 1, timeout=expiry)
    try:
        if held > settings.API_WAITS_PER_KEY:
            raise TooManyWaits(settings.API_WAITS_PER_KEY)
        yield
    finally:
        with suppress(ValueError):  # expired meanwhile: nothing left to give back
            cache.decr(key)
