"""Django settings, read from the environment (see docs/operations.md for every variable)."""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("STEMLINE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

# Development fallbacks are deliberately recognisable; `stemline check --deploy` refuses them.
DEV_SECRET_KEY = "dev-insecure-secret-key-do-not-use-in-production-0000000000"
DEV_TOKEN_KEY = "dev-insecure-token-key-do-not-use-in-production-00000000000"
SECRET_KEY = os.environ.get("SECRET_KEY") or DEV_SECRET_KEY
# The key that protects API tokens: keyed hash for look-up, encryption for the copy a portal shows.
STEMLINE_TOKEN_KEY = os.environ.get("STEMLINE_TOKEN_KEY") or DEV_TOKEN_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "django_rq",
    "stemline.core",
    "stemline.parties",
    "stemline.catalog",
    "stemline.tokens",
    "stemline.inventory",
    "stemline.hardgoods",
    "stemline.sales",
    "stemline.purchasing",
    "stemline.availability",
    "stemline.money",
    "stemline.channels",
    "stemline.api",
    "stemline.web",
    "stemline.vendor_portal",
    "stemline.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads a body or touches the database (sessions, users): a web body too
    # large or chunked is refused unread, and every answer, even a refusal, carries the CSP.
    "stemline.core.middleware.ContentSecurityPolicyMiddleware",
    "stemline.core.middleware.WebBodyLimitMiddleware",
    # A view's database outage -> 503; outages in the middleware below reach handler500.
    "stemline.core.middleware.OutageMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # An /api/<method> call is answered here, without the web application's middleware below
    # (sessions, CSRF, sign-in, messages): a caller with a token has no session.
    "stemline.api.middleware.ApiGatewayMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "stemline.core.timezones.CompanyTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "stemline.urls"
WSGI_APPLICATION = "stemline.wsgi.application"
ASGI_APPLICATION = "stemline.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DEFAULT_SQLITE = f"sqlite:///{VAR_DIR / 'stemline.sqlite3'}"
DATABASE_URL = os.environ.get("DATABASE_URL") or DEFAULT_SQLITE
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let several server processes share the one file; IMMEDIATE
    # transactions take the write lock up front so concurrent writers queue instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("STEMLINE_TEST_SQLITE") or None}
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env_bool("STEMLINE_DB_HEALTH_CHECKS", False)
    # The hottest statements (the API's token check) are planned once per connection through
    # stemline.core.prepared, whose cursors ask psycopg to prepare each statement; Django's own
    # cursors bind on the client and never prepare, whatever the threshold. 0 behind a pooler
    # that shares server sessions between clients (PgBouncer in transaction mode).
    if env_bool("STEMLINE_DB_PREPARE", True):
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 2**31 - 1

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# The embedded default keeps its database and collected static files here.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Hashed, compressed file names from `stemline collectstatic` (serve runs it first); straight
# from the apps in development.
if DEBUG or env_bool("STEMLINE_STATIC_FINDERS", False):
    WHITENOISE_USE_FINDERS = True
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "stemline@localhost")

# Background work: the database backend needs no other service; set TASKS_BACKEND to move it.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# The Redis (RQ) backend, for scale: TASKS_BACKEND=django_tasks_rq.RQBackend and REDIS_URL;
# `stemline worker` then runs an RQ worker (as many as needed; see docs/operations.md).
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600}}

# A database-queue task still running this long after it started belongs to a worker that was
# killed or lost its machine: the scheduler marks it failed (and may run a periodic one again).
TASK_LEASE_SECONDS = float(os.environ.get("STEMLINE_TASK_LEASE_SECONDS", "600"))

# Webhook delivery: a worker's claim on an endpoint lasts this long without renewal, so a
# worker killed mid-delivery delays that endpoint by at most this much.
WEBHOOK_LEASE_SECONDS = float(os.environ.get("STEMLINE_WEBHOOK_LEASE_SECONDS", "60"))
# One total deadline per delivery attempt: connect, send and the whole answer together.
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("STEMLINE_WEBHOOK_TIMEOUT_SECONDS", "10"))
# Endpoints a `stemline worker` delivers side by side (one thread each): a slow one never holds
# back another's events while fewer than this many are slow at once. 0: one after the other.
WEBHOOK_DELIVERY_THREADS = int(os.environ.get("STEMLINE_WEBHOOK_DELIVERY_THREADS", "16"))
# Snapshots have threads of their own, beside the deltas' (never ahead of them): as many
# endpoints side by side, so a snapshot to a slow marketplace (held until its deadline) never
# holds back another's while fewer than this many are slow at once.
WEBHOOK_SNAPSHOT_THREADS = int(os.environ.get("STEMLINE_WEBHOOK_SNAPSHOT_THREADS", "8"))
# Each process keeps a company's channels this long, so an inventory change writes its outbox
# rows without reading them; a change of a channel made in another process is seen after at
# most this long (and the snapshot it triggers waits as long). 0: read them at every change.
CHANNELS_CACHE_SECONDS = float(os.environ.get("STEMLINE_CHANNELS_CACHE_SECONDS", "2"))
# A busy feed (inventory changes, documents) is numbered by its writers at most this often per
# process; readers and the worker's tick number the rest (inventory.feeds).
FEED_NUMBER_SECONDS = float(os.environ.get("STEMLINE_FEED_NUMBER_SECONDS", "0.1"))
# Tenants' webhook and feed URLs must be public addresses (no loopback, private network or
# cloud metadata); on-premises installs whose marketplaces live on the private network, and the
# demo's simulator on 127.0.0.1, allow private addresses with STEMLINE_ALLOW_PRIVATE_WEBHOOKS=1.
ALLOW_PRIVATE_WEBHOOKS = env_bool("STEMLINE_ALLOW_PRIVATE_WEBHOOKS", False)

# Security headers; HTTPS-only settings switch on with STEMLINE_HTTPS (behind a TLS proxy).
HTTPS = env_bool("STEMLINE_HTTPS", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
# How many reverse proxies in front append to X-Forwarded-For; 0 trusts only REMOTE_ADDR (the
# header is the client's to write). The sign-in throttle counts attempts per client address.
STEMLINE_PROXIES = int(os.environ.get("STEMLINE_PROXIES", "0"))
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Scripts, styles and images only from /static/ (no inline script or style, no eval); pages may
# not be framed, post elsewhere or re-base their links. `data:` images: the browser's own form
# controls and the API docs' icons. The demo's simulator sets a policy of its own.
CONTENT_SECURITY_POLICY = os.environ.get("STEMLINE_CSP") or (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'"
)

# Production resilience (docs/operations.md, "Production checklist"): while the database is
# unreachable, answers are 503 with this Retry-After; the web application (not the API, which
# has its own limits below) refuses bodies larger than this unread.
OUTAGE_RETRY_AFTER = int(os.environ.get("STEMLINE_OUTAGE_RETRY_AFTER", "10"))
WEB_MAX_BODY = 1024 * 1024

# The API's limits (contract §1): 64 KB bodies, 20 MB for methods that carry a file.
API_MAX_BODY = 64 * 1024
API_MAX_FILE_BODY = 20 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_FILE_BODY + 1024
API_RATE_PER_SECOND = float(os.environ.get("STEMLINE_API_RATE", "10"))
API_RATE_BURST = int(os.environ.get("STEMLINE_API_BURST", "100"))
IDEMPOTENCY_TTL_HOURS = 24
# How long boxes in a pending web order stay held before a background task releases them.
WEB_ORDER_HOLD_MINUTES = int(os.environ.get("STEMLINE_WEB_ORDER_HOLD_MINUTES", "30"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"refusals": {"()": "stemline.core.logfilters.RefusalsWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["refusals"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
