"""The DRF side of the API rate limits: one throttle class that asks
`governance.ratelimit.rate_limit_hit` (the limiter itself knows nothing of DRF)."""

from rest_framework.throttling import BaseThrottle

from governance.ratelimit import rate_limit_hit, rate_limit_key


class RateLimitThrottle(BaseThrottle):
    """Counts each authenticated request against its view's `rate_limit_scope` (decisions,
    approvals or config; config by default), per runtime or per person. DRF answers a
    refusal with Throttled, which the exception handler turns into a 429."""

    default_scope = "config"

    def allow_request(self, request, view) -> bool:
        key = rate_limit_key(request.user)
        if key is None:
            return True
        scope = getattr(view, "rate_limit_scope", self.default_scope)
        self.retry_after = rate_limit_hit(scope, key)
        return self.retry_after is None

    def wait(self) -> float | None:
        return self.retry_after
