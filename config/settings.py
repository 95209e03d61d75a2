"""Ordo settings, configured from the environment.

DATABASE_URL   database (default: SQLite file db.sqlite3 beside manage.py)
REDIS_URL      optional cache
EMAIL_URL      outgoing mail: smtp://user:pass@host:587?tls=1, smtps://…, console://
SECRET_KEY     required (`make run` writes a random development one to .env)
DEBUG          "1"/"true" to enable debug pages (default off)
ALLOWED_HOSTS  comma separated (default: localhost names)
CORS_ALLOWED_ORIGINS  comma separated origins (https://app.example.com) whose browser apps
               may call the API; unset (the default): CORS is off
ORDO_ENV_FILE  the local development file to read (default: .env beside manage.py)

Any of the others may also be a line of the development file (`NAME=value`), which make
writes once; a variable set in the environment always wins over the file.
"""

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent

# The development set-up: a git-ignored file that `make run` (or any make target) writes
# once with a random SECRET_KEY, so every `manage.py` command and `python -m pytest` run
# by hand finds the same settings as make does. A production host has no such file and
# sets real environment variables, which this never overrides.
DEV_ENV_FILE = Path(os.environ.get("ORDO_ENV_FILE") or BASE_DIR / ".env")
load_dotenv(DEV_ENV_FILE, override=False)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    # No fallback key, not even with DEBUG: a server started without one must not sign
    # sessions and CSRF tokens with a key anyone can read in this repository.
    if DEV_ENV_FILE.exists():
        development = (
            f"For local development, {DEV_ENV_FILE} has no SECRET_KEY line: add one, or "
            "delete the file and run `make .env` to write a new one."
        )
    else:
        development = (
            "For local development, run `make run` (or `make .env`) once: it writes a "
            f"random development key to {DEV_ENV_FILE}."
        )
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. In production, set the SECRET_KEY environment variable to "
        "a long random string (python -c 'import secrets; print(secrets.token_urlsafe(50))'). "
        + development
    )

ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",")
    if host.strip()
]

INSTALLED_APPS = [
    "backoffice.apps.OrdoAdminConfig",  # django.contrib.admin with the dashboard as its index
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "orders",
    "notes",
    "refunds",
    "webhooks",
    "backoffice",
]

MIDDLEWARE = [
    "orders.api.middleware.RequestIdMiddleware",
    # API only, outermost first: no-store on every answer (304s too), then 304 from the
    # ETag the (possibly gzipped) 200 carries, then gzip of the body CORS headers sit on.
    "orders.api.middleware.ApiCacheControlMiddleware",
    "orders.api.middleware.ApiConditionalGetMiddleware",
    "orders.api.middleware.ApiGZipMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Bad input answered 4xx before a view can 500 on it: a NUL in any query string, and on
    # the API a write body over 1 MB (413) or not JSON (415); chunked bodies are read here.
    "backoffice.input_guards.QueryStringNulGuard",
    "orders.api.parsers.RequestBodyGuard",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "backoffice.middleware.StoreTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "backoffice.webhook_banner.webhook_banner",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the dev server and a seeding command share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _mailer_from_url(url: str) -> dict:
    """EMAIL_URL: smtp://user:pass@host:587?tls=1, smtps://…, console://, memory://."""
    parsed = urlsplit(url)
    if parsed.scheme == "console":
        return {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parsed.scheme in {"memory", "locmem"}:
        return {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if parsed.scheme not in {"smtp", "smtps"}:
        raise ImproperlyConfigured(f"EMAIL_URL scheme must be smtp, smtps or console: {url!r}")
    query = parse_qs(parsed.query)
    options = {
        "host": parsed.hostname or "localhost",
        "port": parsed.port or (465 if parsed.scheme == "smtps" else 25),
        "username": unquote(parsed.username or ""),
        "password": unquote(parsed.password or ""),
        "use_ssl": parsed.scheme == "smtps",
        "use_tls": query.get("tls", ["0"])[0] in {"1", "true"},
        "timeout": 15,
    }
    return {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": options}


MAILERS = {"default": _mailer_from_url(os.environ.get("EMAIL_URL", "smtp://localhost:25"))}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Ordo <orders@localhost>")
# Customer emails (notes.delivery, sent by `manage.py delivery_worker`). The first retry of a
# failed one waits this long; later ones double it, up to 15 minutes.
NOTE_EMAIL_RETRY_BASE_SECONDS = int(os.environ.get("NOTE_EMAIL_RETRY_BASE_SECONDS", "60"))
# Retried this long from its first attempt before it is `failed`: outlasts a mail outage.
NOTE_EMAIL_RETRY_WINDOW_SECONDS = int(
    os.environ.get("NOTE_EMAIL_RETRY_WINDOW_SECONDS", str(24 * 3600))
)
# How long a worker holds the emails it took: above a batch's worst case (SMTP timeout 15 s
# per email); a killed worker's emails go out once it has passed.
NOTE_EMAIL_LEASE_SECONDS = int(os.environ.get("NOTE_EMAIL_LEASE_SECONDS", "600"))

# Webhooks (DESIGN.md "Events and webhooks"). Private, loopback and link-local receivers
# (and plain http) only where a developer or a test runs one on its own machine.
WEBHOOK_ALLOW_PRIVATE_URLS = env_bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=False)
# Each delivery is retried this long; an endpoint failing this long is disabled.
WEBHOOK_RETRY_WINDOW_SECONDS = int(os.environ.get("WEBHOOK_RETRY_WINDOW_SECONDS", str(3 * 86400)))
WEBHOOK_RETRY_BASE_SECONDS = int(os.environ.get("WEBHOOK_RETRY_BASE_SECONDS", "30"))
# How long a worker holds the deliveries it took; a killed worker's go out after this.
WEBHOOK_LEASE_SECONDS = int(os.environ.get("WEBHOOK_LEASE_SECONDS", "60"))
WEBHOOK_WORKER_THREADS = int(os.environ.get("WEBHOOK_WORKER_THREADS", "8"))

# Warm API keys live here (orders.services.api_keys), a second at most. With REDIS_URL every
# app process shares one cache; without it each process keeps its own, in memory.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # A stalled Redis costs a request half a second, once: then the database
            # answers alone for a while (orders.services.api_keys).
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

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

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# Bodies over 1 MB are refused (413 PAYLOAD_TOO_LARGE on the API) before they are read.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# CORS (django-cors-headers), for browser apps calling the API from another origin. Off
# unless origins are listed: CORS_ALLOWED_ORIGINS=https://app.example.com,… (scheme, host
# and port, exactly as the browser sends Origin). Only the API answers CORS, never the
# admin; no cookies cross (CORS_ALLOW_CREDENTIALS stays False): browser clients send a key.
CORS_ALLOWED_ORIGINS = [
    origin.strip()
    for origin in os.environ.get("CORS_ALLOWED_ORIGINS", "").split(",")
    if origin.strip()
]
# A prefix match: /v1, /api and anything under them (newlines in a path included).
CORS_URLS_REGEX = r"^/(?:v1|api)(?:/|$)"
# The methods the API serves (DELETE: webhook endpoints); HEAD needs no preflight.
CORS_ALLOW_METHODS = ["DELETE", "GET", "OPTIONS", "PATCH", "POST"]
# What an API client sends: its key, idempotency and precondition headers, its request id.
CORS_ALLOW_HEADERS = [
    "accept",
    "authorization",
    "content-type",
    "idempotency-key",
    "if-match",
    "if-none-match",
    "x-api-key",
    "x-request-id",
]
# What a browser client may read besides the basics: ETag for If-Match / If-None-Match, the
# next page's Link, the id to quote to support, rate limits and where a created order lives.
CORS_EXPOSE_HEADERS = [
    "ETag",
    "Link",
    "Location",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "Retry-After",
    "X-Request-Id",
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["orders.api.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["orders.api.auth.HasApiKeyScope"],
    "DEFAULT_RENDERER_CLASSES": ["orders.api.renderers.OrdoJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["orders.api.parsers.StrictJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "orders.api.schema.OrdoAutoSchema",
    "EXCEPTION_HANDLER": "orders.api.errors.exception_handler",
    # The API speaks JSON only, whatever Accept says: never a 406 for a browser's Accept.
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "orders.api.renderers.JSONOnlyNegotiation",
    "UNAUTHENTICATED_USER": None,
    "UNAUTHENTICATED_TOKEN": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Ordo Orders API",
    "DESCRIPTION": (
        "Store-scoped orders API. Authenticate with the `X-API-Key` header (or the `api_key` "
        "query parameter). Canonical routes are `/v1/stores/{store_id}/orders…`; the shorthand "
        "`/v1/orders…` acts on the key's own store."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PUBLIC": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # /api/… repeats the /v1/… shorthand for seed 004 clients; document each route once.
    "PREPROCESSING_HOOKS": ["orders.api.schema.document_routes"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "ApiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            "BearerAuth": {"type": "http", "scheme": "bearer"},
            "ApiKeyQuery": {"type": "apiKey", "in": "query", "name": "api_key"},
        }
    },
    "SECURITY": [{"ApiKeyHeader": []}, {"BearerAuth": []}, {"ApiKeyQuery": []}],
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.statuses.OrderStatus",
        "PaymentStatusEnum": "orders.models.statuses.PaymentStatus",
        "PaymentMethodEnum": "orders.models.statuses.PaymentMethod",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# The city index carries shipping_city as a non-key column so that PostgreSQL counts a city
# from the index alone (orders migration 0009); SQLite, the laptop default, just ignores it.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
