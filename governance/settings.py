"""Settings for the Agent Governance Console, configured from the environment.

Every setting that differs between a laptop and production is read from an
environment variable (django-environ). With no environment at all the console
runs on an embedded SQLite file, runs Celery tasks inline and sends e-mail to
the console, so that `make demo` needs nothing but Python.
"""

import os
import re
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from governance.static_headers import vendor_cache_headers

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A .env file is optional and never committed (see .gitignore).
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_bool(name: str, default: bool) -> bool:
    """A boolean from the environment; anything but 1/0, true/false, yes/no, on/off is
    refused (django-environ would read a typo as False)."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE | _FALSE:
        return raw in _TRUE
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use 1/0, true/false, yes/no.")


_RATE = re.compile(r"^(\d+)\s*/\s*(second|minute|hour|day)$")
_PERIOD_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def env_rate(name: str, default: str) -> tuple[int, int] | None:
    """A rate limit such as `600/minute` as (requests, seconds), or None for `off`.
    Anything else is refused at start-up rather than read as "no limit"."""
    raw = os.environ.get(name, "").strip().lower() or default
    if raw == "off":
        return None
    match = _RATE.match(raw)
    if not match or int(match[1]) < 1:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a rate: use N/second, N/minute, N/hour, N/day or off."
        )
    return int(match[1]), _PERIOD_SECONDS[match[2]]


DEBUG = env_bool("DEBUG", False)

# A development key only when DEBUG is on; production must provide its own.
_DEV_SECRET = "insecure-development-key-only-used-when-DEBUG-is-on"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET if DEBUG else "")
# The audit seals are signed with their own key so that rotating SECRET_KEY
# (sessions, CSRF) never invalidates the audit chain.
AUDIT_SIGNING_KEY = env.str("AUDIT_SIGNING_KEY", default=_DEV_SECRET if DEBUG else "")
# After rotating the key, list the old ones here so that older events and seals verify.
AUDIT_PREVIOUS_SIGNING_KEYS = env.list("AUDIT_PREVIOUS_SIGNING_KEYS", default=[])
AUDIT_SEALING = {
    "MAX_EVENTS_PER_SEAL": env.int("AUDIT_MAX_EVENTS_PER_SEAL", default=1000),
    # Only events written longer ago than this are sealed, so that a transaction that
    # commits late never lands inside an already sealed range.
    "MARGIN_SECONDS": env.int("AUDIT_SEAL_MARGIN_SECONDS", default=60),
}
# Each seal's hash is also appended to this JSON Lines file, outside the database, so that
# deleting the newest seals is detected. Keep it where the database's users cannot rewrite
# it. The local try-out writes one next to its SQLite file; production sets its own (the
# deploy check warns when it is unset).
AUDIT_WITNESS_PATH = env.str(
    "AUDIT_WITNESS_PATH", default=str(BASE_DIR / "audit-witness.jsonl") if DEBUG else ""
)
# SIEM sinks that receive every audit event as OCSF JSON (README, "Audit streaming to a
# SIEM"): a comma-separated list of URLs, e.g.
# "syslog+tcp://siem:514,https://splunk:8088/services/collector/event#name=splunk&format=hec".
AUDIT_SINKS = env.list("AUDIT_SINKS", default=[])
AUDIT_SINK_BATCH_SIZE = env.int("AUDIT_SINK_BATCH_SIZE", default=500)
AUDIT_SINK_TIMEOUT_SECONDS = env.float("AUDIT_SINK_TIMEOUT_SECONDS", default=10.0)
# Verification fails when an event is still not sealed this long after it was written.
AUDIT_MAX_UNSEALED_MINUTES = env.int("AUDIT_MAX_UNSEALED_MINUTES", default=60)


def _role_map(name: str) -> dict[str, list[str]]:
    """`provider-group=Console group,...` as {provider group: [console groups]}: one provider
    group may grant several console groups; a malformed entry fails at start."""
    mapping: dict[str, list[str]] = {}
    for entry in env.str(name, default="").split(","):
        if not entry.strip():
            continue
        source, equals, target = entry.partition("=")
        if not equals or not source.strip() or not target.strip():
            raise ImproperlyConfigured(
                f"{name}: {entry.strip()!r} is not provider-group=Console group."
            )
        mapping.setdefault(source.strip(), []).append(target.strip())
    return mapping


def _networks(name: str, default: str) -> list[str]:
    """Comma-separated addresses or networks (CIDR); a typo fails at start, not at a scrape."""
    import ipaddress

    values = [v.strip() for v in env.str(name, default=default).split(",") if v.strip()]
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError as error:
            raise ImproperlyConfigured(
                f"{name}: {value!r} is not an address or network."
            ) from error
    return values


# GET /metrics (Prometheus; governance/metrics.py): off unless a token or networks are set.
# The token is a secret from the environment, compared in constant time. The demo (DEBUG)
# lets localhost scrape without one.
METRICS = {
    "TOKEN": env.str("METRICS_TOKEN", default=""),
    "ALLOWED_NETWORKS": _networks(
        "METRICS_ALLOWED_NETWORKS", "127.0.0.1/32,::1/128" if DEBUG else ""
    ),
}
# The retention purge connects as a member of the agc_audit_purger database role (README,
# "Database roles"); empty: the purge runs on the application's own connection, which
# works only where that role may purge (a superuser, as in tests).
AUDIT_PURGE_DATABASE_URL = env.str("AUDIT_PURGE_DATABASE_URL", default="")
if not DEBUG:
    for _name, _value in (("SECRET_KEY", SECRET_KEY), ("AUDIT_SIGNING_KEY", AUDIT_SIGNING_KEY)):
        if len(_value) < 32:
            raise ImproperlyConfigured(
                f"{_name} must be set to a random value of at least 32 characters when "
                "DEBUG is off (for a local try-out, set DEBUG=1)."
            )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "axes",
    "csp",
    "governance",
    "catalog",
    "approvals",
    "audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "governance.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "governance.middleware.RejectUnreadableRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so that it sees the login view's answer and turns it into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "governance.urls"
WSGI_APPLICATION = "governance.wsgi.application"
ASGI_APPLICATION = "governance.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "governance.context_processors.navigation",
                "governance.context_processors.single_sign_on",
            ],
        },
    },
]

# Database: SQLite file by default (WAL so that readers never block the writer),
# PostgreSQL in production: DATABASE_URL=postgres://user@host:5432/name
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            # BEGIN IMMEDIATE takes the write lock up front, so two writers queue
            # on the busy timeout instead of failing with "database is locked".
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
else:
    _db = DATABASES["default"]
    _options = _db.setdefault("OPTIONS", {})
    # Server-side parameter binding lets psycopg prepare the statements a worker repeats
    # (the decision's one write statement above all) after a few executions.
    _options.setdefault("server_side_binding", env_bool("DB_SERVER_SIDE_BINDING", True))
    # ...and prepares a statement on its fifth execution in a connection (0: never, e.g.
    # behind a transaction-pooling PgBouncer older than 1.21).
    _prepare = env.int("DB_PREPARE_THRESHOLD", default=5)
    _options.setdefault("prepare_threshold", _prepare or None)
    _pool_size = env.int("DB_POOL_MAX_SIZE", default=0)
    if _pool_size:
        # psycopg_pool inside each process (Django 5.1+): for threaded workers; a sync
        # worker serves one request at a time and keeps one persistent connection instead.
        _options["pool"] = {
            "min_size": env.int("DB_POOL_MIN_SIZE", default=1),
            "max_size": _pool_size,
            "timeout": env.int("DB_POOL_TIMEOUT", default=10),
        }
        _db["CONN_MAX_AGE"] = 0
    else:
        _db.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    # No "SELECT 1" before every request: a connection the server dropped fails that one
    # request (the decision path answers 503, a deny), and Django discards it afterwards.
    _db.setdefault("CONN_HEALTH_CHECKS", env_bool("CONN_HEALTH_CHECKS", False))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "governance.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The lockout check runs before any password is compared (django-axes). The password
# backend refuses everyone but superusers when LOCAL_PASSWORDS is off; the OpenID Connect
# backend only answers the sign-in callback (governance/oidc.py).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "governance.oidc.LocalPasswordBackend",
    "governance.oidc.ConsoleOIDCBackend",
]
# Messages wait in the session, never in a cookie: one of them shows a new webhook
# secret once (the admin), and a cookie travels on every request after it.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
# Production runs `collectstatic` and sets STATIC_MANIFEST=1 for hashed, long-cached
# file names; without it, files are served by name (no collectstatic needed).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("STATIC_MANIFEST", False)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Serve from the finders as well, so a deployment that forgot collectstatic
# still has its assets (whitenoise prefers STATIC_ROOT when it exists).
WHITENOISE_USE_FINDERS = True
# Vendored scripts (static/vendor/, version in the name) are cached for a year and served
# gzipped from the .gz beside them, with or without collectstatic.
WHITENOISE_ADD_HEADERS_FUNCTION = vendor_cache_headers

# E-mail: printed to the console unless an SMTP URL is configured.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="governance@localhost")

# Security headers; the cookie and HSTS settings follow DEBUG so that
# `manage.py check --deploy` is clean in production.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The decision API answers agents on the same host in tests and benchmarks.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Content-Security-Policy (django-csp): everything from our own origin, nothing inline
# (no inline <script>, <style>, style="" or on...= handlers anywhere in the templates),
# no eval. See README, "Security model".
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# Permissions-Policy (django-permissions-policy): the console needs no device or sensor.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
        "browsing-topics",
    )
}

# The cache: rate-limit counters (and nothing that must survive a restart). Local memory
# on the embedded default; in production the shared Redis, so that every web process
# counts against the same limits: CACHE_URL=redis://127.0.0.1:6379/1
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://agc")}
if CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache":
    # A cache that is down must not hold requests up: fail fast (the limiter then lets
    # requests through and says so in the log; see governance/ratelimit.py).
    CACHES["default"].setdefault("OPTIONS", {}).update(
        {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5}
    )

# API rate limits, as N/second|minute|hour|day or "off" (a 429 with Retry-After beyond):
# per runtime on the decision API, per person on the approvals API and on the
# configuration, catalog and audit APIs.
RATE_LIMITS = {
    "decisions": env_rate("RATE_LIMIT_DECISIONS", "600/minute"),
    "approvals": env_rate("RATE_LIMIT_APPROVALS", "120/minute"),
    "config": env_rate("RATE_LIMIT_CONFIG", "300/minute"),
}

# Console sign-in lockout (django-axes): after LOGIN_FAILURE_LIMIT failed sign-ins for
# one username, or from one address, sign-in is refused for LOGIN_COOLOFF_MINUTES after
# the last failure (refusals while locked do not extend it). Every sign-in, failure,
# sign-out and lockout is an audit event (governance/signin.py).
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_HANDLER = "governance.signin.AuditedAxesHandler"
AXES_LOCKOUT_CALLABLE = "governance.signin.lockout_response"
AXES_DISABLE_ACCESS_LOG = True  # the audit log records sign-ins and sign-outs
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "governance.middleware.client_address"
# Behind N reverse proxies that append to X-Forwarded-For, the client is the N-th address
# from the right; 0 (the default) uses the connection's own address.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Single sign-on (OpenID Connect, mozilla-django-oidc; see governance/oidc.py and the
# README's "Single sign-on"). Off unless OIDC_ISSUER is set. Endpoints are discovered from
# the issuer's /.well-known/openid-configuration at the first sign-in (never at import), or
# set one by one. Authorization code flow with PKCE (S256), state and nonce; the ID token's
# RS256 signature (the provider's JWKS), issuer, audience and expiry are verified.
OIDC_ISSUER = env.str("OIDC_ISSUER", default="").rstrip("/")
OIDC_PROVIDER_NAME = env.str("OIDC_PROVIDER_NAME", default="single sign-on")
OIDC_RP_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", default="")
OIDC_RP_SCOPES = env.str("OIDC_SCOPES", default="openid email profile")
OIDC_RP_SIGN_ALGO = env.str("OIDC_SIGN_ALGO", default="RS256")
OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env.str("OIDC_USERINFO_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_JWKS_URI", default="")
OIDC_GROUPS_CLAIM = env.str("OIDC_GROUPS_CLAIM", default="groups")
OIDC_ROLE_MAP = _role_map("OIDC_ROLE_MAP")
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT_SECONDS", default=10.0)
OIDC_CALLBACK_CLASS = "governance.oidc.CallbackView"
OIDC_AUTHENTICATE_CLASS = "governance.oidc.AuthenticateView"
LOGIN_REDIRECT_URL_FAILURE = "login"
if OIDC_ISSUER and not (OIDC_RP_CLIENT_ID and OIDC_RP_CLIENT_SECRET):
    raise ImproperlyConfigured("OIDC_ISSUER is set: set OIDC_CLIENT_ID and OIDC_CLIENT_SECRET too.")
# Off: only superusers may sign in with a password (break-glass); everyone else signs in
# through the provider. Applies to the console's sign-in page and the admin's.
LOCAL_PASSWORDS = env_bool("LOCAL_PASSWORDS", True)

# Request bodies: the decision API refuses anything larger with a 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=256 * 1024)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Per runtime or per person, after authentication (see RATE_LIMITS).
    "DEFAULT_THROTTLE_CLASSES": ["governance.api.throttling.RateLimitThrottle"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "governance.api.exceptions.exception_handler",
    # JSON only: DRF's browsable HTML pages are built on inline styles, which the
    # Content-Security-Policy refuses; /api/docs/ (Swagger UI) is the API to click through.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # JSON only (the policy endpoint adds YAML), parsed strictly: see api/parsers.py.
    "DEFAULT_PARSER_CLASSES": ["governance.api.parsers.StrictJSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Formats are negotiated by Accept only; `?format=` is the audit export's own parameter.
    "URL_FORMAT_OVERRIDE": None,
}

SPECTACULAR_SETTINGS = {
    # The schema and docs are for signed-in people and runtimes only.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SERVE_AUTHENTICATION": [
        "rest_framework.authentication.SessionAuthentication",
        "governance.api.authentication.RuntimeTokenAuthentication",
    ],
    "TITLE": "Agent Governance Console API",
    "DESCRIPTION": (
        "Decide before agents act. Runtimes authenticate with `Authorization: Bearer <token>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Offline UI assets from drf-spectacular-sidecar: no CDN on a closed network.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["governance.api.schema.hide_trailing_slash_aliases"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "governance.api.schema.add_error_responses",
    ],
    # Several choice sets share field names ("kind", "status", "verdict"): name them.
    "ENUM_NAME_OVERRIDES": {
        "ItemKindEnum": "catalog.choices.ItemKind",
        "IntakeKindEnum": "catalog.choices.IntakeKind",
        "ReviewKindEnum": "catalog.choices.ReviewKind",
        "IntakeStateEnum": "catalog.choices.IntakeState",
        "ItemStatusEnum": "catalog.choices.ItemStatus",
        "DecisionStatusEnum": "governance.choices.DecisionStatus",
        "ProfileStatusEnum": "governance.choices.ProfileStatus",
        "ApprovalStatusEnum": "approvals.choices.ApprovalStatus",
        "VoteVerdictEnum": "approvals.choices.Verdict",
        "ReviewVerdictEnum": "catalog.choices.ReviewVerdict",
    },
}

# Celery: with no broker configured, tasks run inline in the web process so a
# first run needs nothing else; production sets CELERY_BROKER_URL=redis://...
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not CELERY_BROKER_URL)
# Inline tasks swallow their exceptions in production-like runs (a failing notification
# must not fail the request that queued it); the tests turn this on so a broken task
# fails its test.
CELERY_TASK_EAGER_PROPAGATES = env_bool("CELERY_TASK_EAGER_PROPAGATES", False)
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
# The queue tasks go to (and a worker reads with `-Q`); the real-worker test uses its own.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict = {
    "seal-audit-events": {"task": "audit.tasks.seal_audit_events", "schedule": 60.0},
    "deliver-outbox": {"task": "audit.tasks.deliver_outbox", "schedule": 10.0},
    "stream-audit-events": {"task": "audit.tasks.stream_audit_events", "schedule": 5.0},
    "flush-refusal-counts": {"task": "audit.tasks.flush_refusal_counts", "schedule": 60.0},
    "refresh-rollups": {"task": "audit.insights.tasks.refresh_rollups", "schedule": 300.0},
    "expire-approvals": {"task": "approvals.tasks.expire_approvals", "schedule": 60.0},
    "escalate-approvals": {"task": "approvals.tasks.escalate_approvals", "schedule": 60.0},
    "remind-intake-reviewers": {
        "task": "catalog.tasks.remind_intake_reviewers",
        "schedule": 6 * 3600.0,
    },
}

# Tuning recommendations: window (days), minimum human-routed count and approval rate for
# an allow-list candidate, and the size and share of a denial cluster.
TUNING = {
    "window_days": env.int("TUNING_WINDOW_DAYS", default=30),
    "min_count": env.int("TUNING_MIN_COUNT", default=10),
    "min_rate": env.float("TUNING_MIN_RATE", default=0.95),
    "cluster_min": env.int("TUNING_CLUSTER_MIN", default=10),
    "cluster_share": env.float("TUNING_CLUSTER_SHARE", default=0.1),
    # Above this many requests a what-if replay estimates from a random sample of this size
    # (about 4 s on 2 cores), so that a page never waits longer.
    "simulation_max": env.int("TUNING_SIMULATION_MAX", default=100_000),
}

# Governance behaviour.
GOVERNANCE = {
    # Approver group for action types that are not in the catalog of action types.
    "DEFAULT_APPROVER_GROUP": env.str("DEFAULT_APPROVER_GROUP", default="Governance admins"),
    "DEFAULT_APPROVAL_TTL_MINUTES": env.int("DEFAULT_APPROVAL_TTL_MINUTES", default=60),
    # Limits of the decision API input (a 400 beyond them).
    "MAX_DATA_SOURCES": env.int("MAX_DATA_SOURCES", default=100),
    "MAX_PARAMS_BYTES": env.int("MAX_PARAMS_BYTES", default=64 * 1024),
    "MAX_RATIONALE_CHARS": env.int("MAX_RATIONALE_CHARS", default=4000),
    "MAX_JSON_DEPTH": env.int("MAX_JSON_DEPTH", default=32),
    # People are named by e-mail; off: only plain ASCII addresses (look-alike letters such
    # as the dotless "ı" or the Kelvin sign are refused), see governance/identity.py.
    "ALLOW_INTERNATIONAL_EMAIL": env_bool("ALLOW_INTERNATIONAL_EMAIL", False),
    # Members of this group may give the security review of any intake request.
    "SECURITY_REVIEW_GROUP": env.str("SECURITY_REVIEW_GROUP", default="Security reviewers"),
    # Reviewers are reminded of intake requests waiting longer than this.
    "INTAKE_REMINDER_DAYS": env.int("INTAKE_REMINDER_DAYS", default=3),
    # The Claude Code HTTP hook holds a pending decision this long before answering deny.
    "HOOK_WAIT_SECONDS": env.float("HOOK_WAIT_SECONDS", default=20.0),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "celery.app.trace": {"level": "WARNING"},
        "kombu": {"level": "ERROR"},
        "axes": {"level": "WARNING"},  # failures and lockouts are in the audit log
    },
}
