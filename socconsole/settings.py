"""Settings, read from the environment only (see .env.example and docs/operations.md)."""

import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from socconsole.lib.env import env_bool, env_int, env_list, env_str
from socconsole.lib.net import parse_networks

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", None)
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required unless DEBUG=true.")
    SECRET_KEY = "development-only-not-secret-" + "x" * 40  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "ninja",
    "inventory",
    "alerts",
    "incidents",
    "investigation",
    "search",
    "detections",
    "response",
    "dashboard",
]

MIDDLEWARE = [
    "socconsole.lib.middleware.ForwardedHeadersMiddleware",
    "socconsole.lib.middleware.HealthCheckMiddleware",
    "socconsole.lib.middleware.ApiErrorShapeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "socconsole.lib.middleware.RefuseNulMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "socconsole.lib.middleware.SecurityHeadersMiddleware",
    "socconsole.lib.middleware.LoginRequiredMiddleware",
]

ROOT_URLCONF = "socconsole.urls"
WSGI_APPLICATION = "socconsole.wsgi.application"

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
                "inventory.context_processors.console",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while a worker writes; the timeout rides out short locks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHE_URL = env_str("CACHE_URL", "")
if CACHE_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": CACHE_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Failed sign-ins allowed per (account, client address) pair and per address in
# LOGIN_FAILURE_WINDOW seconds, and per account from any address in LOGIN_ACCOUNT_WINDOW.
LOGIN_FAILURES_PER_PAIR = env_int("LOGIN_FAILURES_PER_PAIR", 5, minimum=1)
LOGIN_FAILURES_PER_ADDRESS = env_int("LOGIN_FAILURES_PER_ADDRESS", 20, minimum=1)
LOGIN_FAILURE_WINDOW = env_int("LOGIN_FAILURE_WINDOW", 900, minimum=1)
LOGIN_FAILURES_PER_ACCOUNT = env_int("LOGIN_FAILURES_PER_ACCOUNT", 50, minimum=1)
LOGIN_ACCOUNT_WINDOW = env_int("LOGIN_ACCOUNT_WINDOW", 3600, minimum=1)
# The reverse proxies (addresses or CIDRs) whose X-Forwarded-For and X-Forwarded-Proto are
# believed; from any other peer those headers are dropped.
if env_str("TRUSTED_PROXY_COUNT", "0") != "0":
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT is gone: name the proxies' addresses or "
                               "networks in TRUSTED_PROXIES instead.")
try:
    TRUSTED_PROXIES = parse_networks(env_list("TRUSTED_PROXIES", []))
except ValueError as exc:
    raise ImproperlyConfigured(f"TRUSTED_PROXIES: {exc}.") from None

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Request size limits: forms and ordinary API calls stay small; alert ingestion has its own.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BYTES", 2_621_440, minimum=1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = env_int("MAX_REQUEST_FIELDS", 2000, minimum=10)
INGEST_MAX_BYTES = env_int("INGEST_MAX_BYTES", 32 * 1024 * 1024, minimum=1024)

# Security headers; the HTTPS ones default on outside DEBUG.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXIES else None
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600, minimum=60)
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS", [])

# Celery: without a broker, tasks run eagerly in the web process (the embedded default).
_BROKER = env_str("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not _BROKER
# Eager mode never talks to a broker; "memory://" keeps Celery from looking for one.
CELERY_BROKER_URL = _BROKER or "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", _BROKER or None)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A request that publishes a task (ingest queues correlation on commit) must not wait long
# on a broker that is down: bounded connect and socket waits, and few publish retries.
# What is not published is in the database (alerts_awaitingcorrelation) for the sweep.
_BROKER_CONNECT_TIMEOUT = env_int("CELERY_BROKER_CONNECT_TIMEOUT", 2, minimum=1)
_BROKER_SOCKET_TIMEOUT = env_int("CELERY_BROKER_SOCKET_TIMEOUT", 5, minimum=2)
CELERY_BROKER_CONNECTION_TIMEOUT = _BROKER_CONNECT_TIMEOUT
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": _BROKER_CONNECT_TIMEOUT,
                                   "socket_timeout": _BROKER_SOCKET_TIMEOUT}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = _BROKER_CONNECT_TIMEOUT
CELERY_REDIS_SOCKET_TIMEOUT = _BROKER_SOCKET_TIMEOUT
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": env_int("CELERY_PUBLISH_MAX_RETRIES", 2, minimum=0),
    "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
# Seconds between beat's sweeps of the alerts still awaiting correlation: the longest a
# broker outage or a lost task delays an alert's correlation.
CORRELATION_SWEEP_SECONDS = env_int("CORRELATION_SWEEP_SECONDS", 60, minimum=1)
CELERY_BEAT_SCHEDULE = {
    "purge-login-failures": {"task": "inventory.tasks.purge_login_failures", "schedule": 3600},
    "purge-rejected-items": {"task": "alerts.tasks.purge_rejected_items", "schedule": 3600},
    "purge-refused-events": {"task": "search.tasks.purge_refused_events", "schedule": 3600},
    "correlate-alerts": {"task": "incidents.tasks.correlate_alerts",
                         "schedule": CORRELATION_SWEEP_SECONDS},
    "apply-event-retention": {"task": "search.tasks.apply_retention", "schedule": 3600},
    "send-due-deliveries": {"task": "response.tasks.send_due_deliveries", "schedule": 30},
}

# Searches (search.runs): each statement's time limit, and the rows a result keeps.
SEARCH_TIMEOUT_SECONDS = env_int("SEARCH_TIMEOUT_SECONDS", 30, minimum=1)
SEARCH_ROW_LIMIT = env_int("SEARCH_ROW_LIMIT", 10000, minimum=1)
# Bytes a search may read from the events engine (0: no limit).
SEARCH_MAX_BYTES = env_int("SEARCH_MAX_BYTES", 0, minimum=0)

# The events engine (search.engine): ClickHouse embedded in this process (chdb://<path>,
# one process only) or a server (clickhouse://user:password@host:8123/database,
# clickhouses:// for TLS), with a bounded pool of connections per process.
EVENTS_URL = env_str("EVENTS_URL", f"chdb://{BASE_DIR / 'var' / 'events'}")
if not re.match(r"^(chdb://.+|clickhouses?://[^\s/]+(/\w*)?)$", EVENTS_URL):
    raise ImproperlyConfigured("EVENTS_URL must be chdb://<path> or "
                               "clickhouse[s]://user:password@host:port/database, not "
                               f"{EVENTS_URL.split('@')[-1]!r}.")
EVENTS_POOL_SIZE = env_int("EVENTS_POOL_SIZE", 8, minimum=1)
# The ClickHouse cluster (its name in remote_servers) the events tables are created on,
# ON CLUSTER, as shards behind a Distributed table; empty for one server or embedded.
EVENTS_CLUSTER = env_str("EVENTS_CLUSTER", "")
if not re.match(r"^\w*$", EVENTS_CLUSTER):
    raise ImproperlyConfigured(f"EVENTS_CLUSTER must be a cluster's name, not {EVENTS_CLUSTER!r}.")
if EVENTS_CLUSTER and EVENTS_URL.startswith("chdb://"):
    raise ImproperlyConfigured("EVENTS_CLUSTER needs a ClickHouse server (clickhouse://...): "
                               "the embedded engine is one process, not a cluster.")

# Alerts on one resource whose times fall within this many hours of each other form one
# incident (incidents.correlation).
CORRELATION_WINDOW_HOURS = env_int("CORRELATION_WINDOW_HOURS", 24, minimum=1)
# Alerts correlated per sweep run (the rest wait for the next run).
CORRELATION_BATCH = env_int("CORRELATION_BATCH", 20000, minimum=100)

# Minutes to acknowledge an incident, per severity (high, medium, low, informational).
SLA_MINUTES = dict(zip((0, 1, 2, 3), (
    env_int("SLA_HIGH_MINUTES", 15, minimum=1), env_int("SLA_MEDIUM_MINUTES", 60, minimum=1),
    env_int("SLA_LOW_MINUTES", 240, minimum=1),
    env_int("SLA_INFORMATIONAL_MINUTES", 1440, minimum=1)), strict=True))

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "soc-console@localhost")
# Where the console is reached, for the absolute links in its emails (no trailing slash).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", SITE_URL):
    raise ImproperlyConfigured(f"SITE_URL must be an http(s) URL such as "
                               f"https://soc.example.com, not {SITE_URL!r}.")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django adds its own console handlers; route everything through root, once.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "INFO"},
        "celery.app.trace": {"level": "WARNING"},  # one line per task is noise here
    },
}
