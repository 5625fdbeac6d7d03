"""How hard this machine pushes each platform: request gates and pacers the HTTP layer shares.

A platform's gate (``platform_gate``) is shared by every client of the process: at most
``max_concurrency`` requests in flight and ``min_interval`` seconds between two starts
(``PLATFORM_LIMITS``, overridden by ``ADS_ELT_<PLATFORM>_MAX_CONCURRENCY`` and
``ADS_ELT_<PLATFORM>_MIN_INTERVAL``). With ``ADS_ELT_RATE_LIMIT_DIR`` set, the spacing is
shared by every process of the machine (``SharedPacer``); otherwise each process paces alone
(``MinIntervalPacer``). ``adapters.http.HttpClient`` goes through the gate before each request.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds or a count, got {value!r}") from None


@dataclass(frozen=True)
class PlatformLimits:
    """How hard one process may push a platform: requests in flight, and spacing of their starts."""

    max_concurrency: int = 4
    min_interval: float = 0.0


# Per platform; a platform not listed gets PlatformLimits(). ``ADS_ELT_<PLATFORM>_MAX_CONCURRENCY``
# and ``ADS_ELT_<PLATFORM>_MIN_INTERVAL`` override them (e.g. ADS_ELT_META_MAX_CONCURRENCY=2).
PLATFORM_LIMITS: dict[str, PlatformLimits] = {
    "meta": PlatformLimits(max_concurrency=4, min_interval=0.05),
    "google_ads": PlatformLimits(max_concurrency=4, min_interval=0.0),
}


def platform_limits(platform: str) -> PlatformLimits:
    base = PLATFORM_LIMITS.get(platform, PlatformLimits())
    prefix = f"ADS_ELT_{platform.upper()}_"
    return PlatformLimits(
        max_concurrency=max(1, int(env_float(prefix + "MAX_CONCURRENCY", base.max_concurrency))),
        min_interval=max(0.0, env_float(prefix + "MIN_INTERVAL", base.min_interval)),
    )


class MinIntervalPacer:
    """Keeps at least ``min_interval`` seconds between the starts of two requests.

    The next start is counted from when a request really starts: a caller that wakes up
    late (a busy machine) pushes the next one back rather than letting the two go together.
    """

    def __init__(
        self,
        min_interval: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.min_interval = float(min_interval)
        self._clock = clock
        self._sleep = sleep
        self._next_allowed: float | None = None
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            now = self._clock()
            if self._next_allowed is not None and now < self._next_allowed:
                self._sleep(self._next_allowed - now)
                now = max(self._clock(), self._next_allowed)
            self._next_allowed = now + self.min_interval


class SharedPacer:
    """Keeps at least ``min_interval`` seconds between request starts across processes on one machine.

    Every process (Airflow LocalExecutor task processes, Celery worker processes and their
    threads) that points at the same ``directory`` shares one schedule per ``name``: the
    next free start time, in ``<directory>/<name>.pace``, read and moved on under an
    exclusive ``fcntl.flock``. A caller reserves the next free slot (now, or the slot after
    the last one reserved) and sleeps until it outside the lock, so waiting callers queue in
    the order they came and never two share a slot. The lock is held for a read and a write
    of a few bytes; each call opens the file anew, so threads of one process exclude each
    other too.

    Times are ``time.monotonic()`` (CLOCK_MONOTONIC: one clock for every process of the
    machine since boot). A reservation further ahead than ``stale_after`` seconds can only be
    left over from an earlier boot and is ignored. Not for network file systems: the
    processes must share the machine (for workers on several machines, divide the
    platform's limit between them).
    """

    def __init__(
        self,
        directory: str | os.PathLike,
        name: str,
        min_interval: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        stale_after: float = 3600.0,
    ) -> None:
        os.makedirs(directory, exist_ok=True)
        self.path = os.path.join(directory, f"{name}.pace")
        self.min_interval = float(min_interval)
        self._clock = clock
        self._sleep = sleep
        self._stale_after = stale_after
        self.late_tolerance = self.min_interval / 2
        self.max_late_retries = 3  # then it goes anyway: a machine that always wakes late must not stall

    def reserve(self) -> float:
        """Reserve the next free start; returns its time (``clock()``), without waiting for it."""
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            now = self._clock()
            try:
                next_free = float(os.pread(fd, 64, 0).decode().strip() or "-inf")
            except ValueError:
                next_free = float("-inf")  # an unreadable file: start afresh
            if next_free > now + self._stale_after:
                next_free = float("-inf")
            start = max(now, next_free)
            os.pwrite(fd, f"{start + self.min_interval:<32.6f}".encode(), 0)
            return start
        finally:
            os.close(fd)  # releases the lock

    def __call__(self) -> None:
        """Wait for a reserved start. A caller that wakes up later than ``late_tolerance`` after its
        slot reserves a fresh one: the callers of the next slots may already be on their way, and
        going now would put two requests in one interval (what a platform counts is arrivals).
        After ``max_late_retries`` late wake-ups in a row it goes anyway."""
        for _ in range(self.max_late_retries + 1):
            start = self.reserve()
            wait = start - self._clock()
            if wait > 0:
                self._sleep(wait)
            if self._clock() - start <= self.late_tolerance:
                return


def shared_pacing_dir() -> str | None:
    """``ADS_ELT_RATE_LIMIT_DIR``: where processes share their request spacing (None: each process paces alone)."""
    value = os.environ.get("ADS_ELT_RATE_LIMIT_DIR", "").strip()
    return value or None


class RequestGate:
    """At most ``max_concurrency`` requests in flight, starts ``min_interval`` apart (thread-safe).

    ``spacing`` replaces the in-process spacing, e.g. with a ``SharedPacer``.
    """

    def __init__(
        self,
        max_concurrency: int,
        min_interval: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        spacing: Callable[[], None] | None = None,
    ) -> None:
        self.max_concurrency = max(1, int(max_concurrency))
        self._slots = threading.BoundedSemaphore(self.max_concurrency)
        self._spacing = spacing or (MinIntervalPacer(min_interval, clock, sleep) if min_interval > 0 else None)

    def __enter__(self) -> RequestGate:
        self._slots.acquire()
        if self._spacing is not None:
            self._spacing()
        return self

    def __exit__(self, *exc: object) -> None:
        self._slots.release()


_GATES: dict[str, RequestGate] = {}


_GATES_LOCK = threading.Lock()


def platform_gate(platform: str) -> RequestGate:
    """The process-wide gate of ``platform``: every client of that platform shares it.

    With ``ADS_ELT_RATE_LIMIT_DIR`` set, the spacing of request starts (``min_interval``) is
    shared with every other process using that directory (``SharedPacer``), so workers
    extracting at once keep to the platform's rate together; the in-flight limit stays per
    process. Without it, each process paces alone.
    """
    with _GATES_LOCK:
        gate = _GATES.get(platform)
        if gate is None:
            limits = platform_limits(platform)
            directory = shared_pacing_dir()
            spacing = SharedPacer(directory, platform, limits.min_interval) if directory and limits.min_interval > 0 else None
            gate = _GATES[platform] = RequestGate(limits.max_concurrency, limits.min_interval, spacing=spacing)
        return gate


def forget_gates() -> None:
    """Forget the per-process platform gates, so new ``ADS_ELT_<PLATFORM>_*`` limits apply to the next clients."""
    with _GATES_LOCK:
        _GATES.clear()
