"""Cost of the API rate limiter: calls per second of `governance.ratelimit.rate_limit_hit`.

The decision API calls it once per request, so its cost is added to every decision. It is
measured in-process, one caller, in the steady state (the window's counter exists: one
cache round trip per call), with each cache it can run on:

- local memory (the embedded default),
- Redis on 127.0.0.1:6379 through django-redis (production's CACHE_URL=redis://...),
- Redis through Django's built-in RedisCache, for comparison (its `incr` asks EXISTS and
  INCR: two round trips).

Figures only, nothing asserted. Usage: .venv/bin/python bench/ratelimit_bench.py [--calls N]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PREFIX = f"agc-bench-{uuid.uuid4().hex[:8]}"
BACKENDS = {
    "local memory": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "Redis, django-redis": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/0",
        "KEY_PREFIX": PREFIX,
    },
    "Redis, Django's RedisCache": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/0",
        "KEY_PREFIX": PREFIX,
    },
}


def redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


def measure(calls: int) -> tuple[float, float, float]:
    """Calls per second, and p50 / p99 of one call in microseconds."""
    from governance.ratelimit import rate_limit_hit

    key = uuid.uuid4().hex
    for _ in range(200):  # warm up: connection, counter created
        rate_limit_hit("decisions", key)
    timings = []
    started = time.perf_counter()
    for _ in range(calls):
        t0 = time.perf_counter()
        wait = rate_limit_hit("decisions", key)
        timings.append(time.perf_counter() - t0)
        assert wait is None
    elapsed = time.perf_counter() - started
    timings.sort()
    p50 = statistics.median(timings) * 1e6
    p99 = timings[int(len(timings) * 0.99)] * 1e6
    return calls / elapsed, p50, p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    os.environ.setdefault("DEBUG", "1")
    # Counted, never reached; the counters expire a minute later (nothing to clean up).
    os.environ["RATE_LIMIT_DECISIONS"] = "1000000000/minute"
    import django
    from django.test.utils import override_settings

    django.setup()
    print(f"rate_limit_hit, {args.calls} calls, one caller (figures only)")
    print(f"{'cache':<28} {'calls/s':>10} {'p50 µs':>8} {'p99 µs':>8}")
    for name, backend in BACKENDS.items():
        if "Redis" in name and not redis_up():
            print(f"{name:<28} {'skipped: no Redis on 127.0.0.1:6379':>28}")
            continue
        with override_settings(CACHES={"default": backend}):
            rate, p50, p99 = measure(args.calls)
        print(f"{name:<28} {rate:>10,.0f} {p50:>8.1f} {p99:>8.1f}")


if __name__ == "__main__":
    main()
