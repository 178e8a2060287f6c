"""API rate limits: a fixed-window counter per (scope, key) in Django's cache.

`rate_limit_hit()` is the whole limiter, independent of DRF so that the decision view can
call it directly: one cache round trip per request in the steady state (`incr` of the
window's counter; an `add` once per window and key). The counters live in the shared Redis
cache in production (CACHE_URL), so that every web process counts against the same limit,
and in local memory on the embedded default.

A fixed window lets a client send up to twice its limit across a window boundary; that
is the price of one round trip (a sliding log, as DRF's SimpleRateThrottle keeps, costs a
read and a write of a growing list per request)."""

from __future__ import annotations

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse

logger = logging.getLogger("governance.ratelimit")

# After a cache error the limiter stands aside for this long instead of paying a
# connection timeout on every request (a rate limit is no reason to refuse service).
CACHE_RETRY_SECONDS = 5.0
_cache_down_until = 0.0


def rate_limit_hit(scope: str, key: str, *, now: float | None = None) -> float | None:
    """Count one request of `key` (a runtime, a person) against the limit of `scope`
    (settings.RATE_LIMITS). None while within the limit; past it, the seconds until the
    window ends (for Retry-After). A scope without a limit, or a cache that does not
    answer, lets the request through."""
    global _cache_down_until
    limit = settings.RATE_LIMITS.get(scope)
    if limit is None:
        return None
    allowed, period = limit
    moment = time.time() if now is None else now
    if moment < _cache_down_until:
        return None
    window = int(moment // period)
    counter = f"rl:{scope}:{key}:{window}"
    try:
        hits = _incr(counter, period)
    except Exception:
        _cache_down_until = moment + CACHE_RETRY_SECONDS
        logger.warning("Rate limits are not enforced: the cache does not answer", exc_info=True)
        return None
    if hits <= allowed:
        return None
    return (window + 1) * period - moment


def _incr(counter: str, period: int) -> int:
    """Increment the window's counter, creating it on the window's first request. The
    counter expires a little after its window, so nothing needs cleaning up."""
    try:
        return cache.incr(counter)
    except ValueError:  # no counter yet for this window
        if cache.add(counter, 1, timeout=period + 5):
            return 1
        return cache.incr(counter)  # another process created it in between


def rate_limit_key(user) -> str | None:
    """Whose budget a request counts against: the runtime (whatever token it holds now)
    or the person; None for anyone else (they are refused before being counted)."""
    if user is None or not user.is_authenticated:
        return None
    kind = "runtime" if hasattr(user, "token_hash") else "user"
    return f"{kind}:{user.pk}"


def rate_limited_response(wait: float, *, deny: bool) -> JsonResponse:
    """The 429 answer, in the API's error shape. `deny` adds `"outcome": "deny"` for agent
    runtimes, whose clients must treat it as a denial (they treat any non-2xx so too)."""
    seconds = max(1, math.ceil(wait))
    body = {
        "code": "rate_limited",
        "detail": f"Too many requests: try again in {seconds} seconds.",
        "retry_after": seconds,
    }
    if deny:
        body["outcome"] = "deny"
    response = JsonResponse(body, status=429)
    response["Retry-After"] = str(seconds)
    return response
