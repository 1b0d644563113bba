"""Affea's one settings module: every value comes from the environment.

Defaults make a fresh clone run locally (DEBUG on, SQLite under var/, local Redis
and SeaweedFS). With DEBUG off, a missing or insecure value stops start-up with a
message naming the variable, so production never runs on a development default.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import environ
from boto3.s3.transfer import TransferConfig
from django.core.exceptions import ImproperlyConfigured
from sentry_sdk.utils import BadDsn

from affea.logging import logging_config
from affea.sentry import init_sentry

BASE_DIR = Path(__file__).resolve().parent.parent


class _Env(environ.Env):
    """django-environ, with a value that cannot be read as its type (`DB_CONN_MAX_AGE=5m`,
    malformed JSON) stopping start-up with a message naming its variable."""

    def get_value(
        self,
        var: str,
        cast: Any = None,
        default: Any = environ.Env.NOTSET,
        parse_default: bool = False,
    ) -> Any:
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except (ValueError, TypeError) as exc:  # json.JSONDecodeError is a ValueError
            raise ImproperlyConfigured(f"{var} cannot be read: {exc} (see .env.example).") from exc


def _stripped(values: list[str]) -> list[str]:
    # "a.example, b.example" is two hosts, not "a.example" and " b.example" (which no
    # request ever matches).
    return [value.strip() for value in values if value.strip()]


env = _Env()
# A local .env (never committed; `make run` writes its local services there) is read
# when present; the real environment wins. AFFEA_ENV_FILE names another file, and empty
# reads none (the test suite), so every process of a checkout shares one configuration.
ENV_FILE: str = env.str("AFFEA_ENV_FILE", default=str(BASE_DIR / ".env"))
if ENV_FILE:
    environ.Env.read_env(ENV_FILE, overwrite=False)

# Local state of the quick run (SQLite, local media, SeaweedFS and Redis data).
VAR_DIR = BASE_DIR / (env.str("AFFEA_VAR_DIR", default="") or "var")

DEBUG: bool = env.bool("DEBUG", default=True)
TESTING: bool = env.bool("AFFEA_TESTING", default=False)

_INSECURE_KEY = "django-insecure-local-development-key-change-me-0123456789abcdef"


def _required_in_production(name: str, value: str, *, insecure: tuple[str, ...] = ("",)) -> str:
    """Refuse to start in production when `name` is unset or still a development value."""
    if not DEBUG and value in insecure:
        raise ImproperlyConfigured(
            f"{name} must be set to a production value when DEBUG is off (see .env.example)."
        )
    return value


def _email_file_path(url: str) -> Path:
    """Directory of a `filemail://` URL, read like a file URL.

    `filemail:///srv/mail` is absolute, `filemail://var/mail` is relative to the project,
    and a bare `filemail://` is var/mail. (django-environ drops the leading slash.)
    """
    parts = urlsplit(url)
    written = unquote(parts.netloc + parts.path)
    if not written:
        return VAR_DIR / "mail"
    return BASE_DIR / written  # an absolute path replaces BASE_DIR


SECRET_KEY: str = _required_in_production(
    "SECRET_KEY", env.str("SECRET_KEY", default=_INSECURE_KEY), insecure=("", _INSECURE_KEY)
)
if not DEBUG and (len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5):
    raise ImproperlyConfigured(
        "SECRET_KEY must be at least 50 random characters when DEBUG is off."
    )

ALLOWED_HOSTS: list[str] = _stripped(
    env.list(
        "ALLOWED_HOSTS",
        default=["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else [],
    )
)
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off.")

SITE_URL: str = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
if not DEBUG and not SITE_URL.startswith("https://"):
    raise ImproperlyConfigured("SITE_URL must be an https:// URL when DEBUG is off.")

CSRF_TRUSTED_ORIGINS: list[str] = _stripped(env.list("CSRF_TRUSTED_ORIGINS", default=[]))
CORS_ALLOWED_ORIGINS: list[str] = _stripped(env.list("CORS_ALLOWED_ORIGINS", default=[]))

# --- Applications -------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_rq",
    "affea",
    "users_app",
    "content_app",
    "legal_app",
]

MIDDLEWARE = [
    # First: every later log line and the metrics of the whole request see these.
    "affea.middleware.RequestIdMiddleware",
    "affea.middleware.MetricsMiddleware",
    # Outside every middleware that may query PostgreSQL or Redis: their outage is a 503.
    "affea.middleware.ServiceUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "affea.middleware.AdminNulQueryMiddleware",
    "legal_app.terms.middleware.TermsAcceptanceMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "affea.urls"
WSGI_APPLICATION = "affea.wsgi.application"
AUTH_USER_MODEL = "users_app.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
                "content_app.seo.site_context",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'affea.sqlite3'}"),
}
if "." not in DATABASES["default"].get("ENGINE", ""):
    raise ImproperlyConfigured(
        "DATABASE_URL must be a database URL, e.g. postgres://user:password@host:5432/name."
    )
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
IS_POSTGRES: bool = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
if IS_POSTGRES:
    # Fail fast when PostgreSQL is down instead of hanging a worker for minutes.
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int(
        "DB_CONNECT_TIMEOUT", default=5
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # `make run`'s web and worker write the same file at once. WAL lets readers go on
    # beside a writer; BEGIN IMMEDIATE takes the write lock when a transaction starts,
    # where waiting is safe, instead of failing a read-then-write transaction on the spot
    # ("database is locked"); the timeout is how long a writer waits for the lock.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        }
    )

# --- Redis: queues, cache, throttling -------------------------------------------

REDIS_URL: str = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
REDIS_SOCKET_TIMEOUT: float = env.float("REDIS_SOCKET_TIMEOUT", default=2.0)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="affea"),
        "OPTIONS": {
            "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
            "socket_timeout": REDIS_SOCKET_TIMEOUT,
        },
    }
}

_RQ_QUEUE = {
    "URL": REDIS_URL,
    "DEFAULT_TIMEOUT": env.int("RQ_DEFAULT_TIMEOUT", default=3600),
    "CONNECTION_KWARGS": {"socket_connect_timeout": REDIS_SOCKET_TIMEOUT},
}
# Workers listen to "high" first (`rqworker high default`): the pipeline puts there what
# makes a film playable first (content_app.pipeline.queue).
RQ_QUEUES = {"high": dict(_RQ_QUEUE), "default": dict(_RQ_QUEUE)}
RQ_SHOW_ADMIN_LINK = True
# Jobs carry the enqueuing request's id and report their outcome to the metrics.
RQ = {"QUEUE_CLASS": "affea.jobs.Queue"}

# --- Storage --------------------------------------------------------------------

STORAGE_BACKEND: str = env.str("STORAGE_BACKEND", default="s3")
if STORAGE_BACKEND not in ("s3", "local"):
    raise ImproperlyConfigured("STORAGE_BACKEND must be 's3' or 'local'.")

AWS_STORAGE_BUCKET_NAME: str = env.str("S3_BUCKET", default="affea")
AWS_S3_ENDPOINT_URL: str | None = env.str("S3_ENDPOINT_URL", default="") or None
# Where browsers reach S3 when servers use an internal address (compose: http://s3:8333).
AWS_S3_PUBLIC_ENDPOINT_URL: str | None = (
    env.str("S3_PUBLIC_ENDPOINT_URL", default="") or AWS_S3_ENDPOINT_URL
)
_public_s3 = urlsplit(AWS_S3_PUBLIC_ENDPOINT_URL or "")
if (
    not DEBUG
    and STORAGE_BACKEND == "s3"
    and _public_s3.scheme == "http"
    and _public_s3.hostname not in ("localhost", "127.0.0.1", "::1")
):
    # Players and the uploader fetch S3 straight from pages served over https: browsers
    # block a plain http address (compose's internal http://s3:8333 by default) as mixed
    # content, loopback excepted.
    raise ImproperlyConfigured(
        "S3_PUBLIC_ENDPOINT_URL must be the https:// address browsers reach S3 at when DEBUG "
        "is off (S3_ENDPOINT_URL is the servers' own address)."
    )
AWS_S3_REGION_NAME: str = env.str("S3_REGION", default="us-east-1")
AWS_ACCESS_KEY_ID: str = env.str("S3_ACCESS_KEY_ID", default="affea-local" if DEBUG else "")
AWS_SECRET_ACCESS_KEY: str = env.str(
    "S3_SECRET_ACCESS_KEY", default="affea-local-secret" if DEBUG else ""
)
# V4 signatures are required for presigned URLs carrying response-content-type;
# path-style addressing works with any local endpoint (no wildcard DNS needed).
AWS_S3_SIGNATURE_VERSION = "s3v4"
AWS_S3_ADDRESSING_STYLE: str = env.str(
    "S3_ADDRESSING_STYLE", default="path" if AWS_S3_ENDPOINT_URL else "virtual"
)
AWS_DEFAULT_ACL = None
AWS_S3_FILE_OVERWRITE = False
AWS_QUERYSTRING_AUTH = True
AWS_QUERYSTRING_EXPIRE: int = env.int("PLAYBACK_URL_TTL", default=300)
# A file opened from S3 spills from memory to a temporary file past 16 MB.
AWS_S3_MAX_MEMORY_SIZE = 16 * 1024 * 1024
# s3transfer holds every in-flight part of a file object in memory (10 x 8 MB by default);
# two parts of 5 MB keep workers and the web process small. Admin uploads spooled to disk
# are sent from their path (content_app.media.objects.store), so the web process stays
# under 150 MB during a 1 GB admin upload (bench/upload_memory.py). Part sizes grow by
# themselves past 10,000 parts.
AWS_S3_TRANSFER_CONFIG = TransferConfig(
    multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024, max_concurrency=2
)
AWS_S3_TRANSFER_CONFIG.max_in_memory_upload_chunks = 2

MEDIA_ROOT: Path = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"

if STORAGE_BACKEND == "s3":
    _required_in_production("S3_ACCESS_KEY_ID", AWS_ACCESS_KEY_ID)
    _required_in_production("S3_SECRET_ACCESS_KEY", AWS_SECRET_ACCESS_KEY)
    _default_storage: dict[str, Any] = {"BACKEND": "storages.backends.s3.S3Storage"}
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "base_url": MEDIA_URL},
    }

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES: dict[str, dict[str, Any]] = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Uploads above 2.5 MB stream to a temporary file; nginx allows up to 10 GB.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_TEMP_DIR: str | None = env.str("FILE_UPLOAD_TEMP_DIR", default="") or None
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Email ----------------------------------------------------------------------

# Required in production: account links and the DMCA's mails must leave, and a default
# (an SMTP server on localhost, which a container does not have) would only fail later.
_email_url: str = _required_in_production(
    "EMAIL_URL", env.str("EMAIL_URL", default="consolemail://" if DEBUG else "")
)
_email = environ.Env.email_url_config(_email_url)
EMAIL_BACKEND: str = _email["EMAIL_BACKEND"]
if EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend":
    EMAIL_FILE_PATH: Path = _email_file_path(_email_url)
EMAIL_HOST: str = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT: int = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER: str = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD: str = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS: bool = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL: bool = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL: str = env.str("DEFAULT_FROM_EMAIL", default="Affea <no-reply@affea.local>")
SERVER_EMAIL: str = DEFAULT_FROM_EMAIL

# --- Security -------------------------------------------------------------------

# The number of proxies in front of gunicorn whose X-Forwarded-* headers we trust (nginx: 1).
TRUSTED_PROXY_COUNT: int = env.int("TRUSTED_PROXY_COUNT", default=0)
# nginx sets X-Forwarded-Proto, overwriting any value a client sent. Reached directly
# (TRUSTED_PROXY_COUNT=0), a client could claim HTTPS with that header: it is not read.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY_COUNT else None
USE_X_FORWARDED_HOST = False
HTTPS: bool = SITE_URL.startswith("https://")
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT: bool = env.bool("SECURE_SSL_REDIRECT", default=HTTPS and not DEBUG)
SECURE_HSTS_SECONDS: int = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD: bool = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# The health probe answers over plain HTTP inside the private network.
# Health checks and Prometheus reach gunicorn over plain HTTP on the internal network.
SECURE_REDIRECT_EXEMPT = [r"^health/$", r"^metrics$"]
SILENCED_SYSTEM_CHECKS: list[str] = env.list("SILENCED_SYSTEM_CHECKS", default=[])

CORS_ALLOW_CREDENTIALS = True
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "user-agent",
    "x-csrftoken",
    "x-requested-with",
    "x-retry",
    "range",
)
# Headers an SPA on another origin may read besides the CORS-safelisted ones: the wait a 429
# asks for, and the id that ties an error report to the server's logs.
CORS_EXPOSE_HEADERS = ("retry-after", "x-request-id")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# --- API ------------------------------------------------------------------------

REST_FRAMEWORK: dict[str, Any] = {
    # The JWT class comes first: its `Bearer` challenge makes DRF answer 401 (not 403)
    # to anonymous requests, which is what tells an SPA to refresh its cookies.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "users_app.authentication.CookieJWTAuthentication",
        "users_app.authentication.OriginSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "affea.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "affea.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Affea API",
    "DESCRIPTION": "Catalogue, playback, accounts and legal API of Affea.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

SIMPLE_JWT: dict[str, Any] = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=5)),
    "REFRESH_TOKEN_LIFETIME": timedelta(hours=env.int("JWT_REFRESH_HOURS", default=1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    # Tokens carry a hash of the password hash: changing the password ends every session.
    "CHECK_REVOKE_TOKEN": True,
}
JWT_REMEMBER_ME_LIFETIME = timedelta(days=env.int("JWT_REMEMBER_DAYS", default=7))
# A refresh token traded less than this long ago still refreshes (concurrent requests of one
# page); presenting it later is a replay and revokes the whole sign-in (users_app.jwt_tokens).
JWT_REFRESH_GRACE_SECONDS: int = env.int("JWT_REFRESH_GRACE_SECONDS", default=30)
JWT_ACCESS_COOKIE: str = env.str("JWT_ACCESS_COOKIE", default="access_token")
JWT_REFRESH_COOKIE: str = env.str("JWT_REFRESH_COOKIE", default="refresh_token")
JWT_COOKIE_SAMESITE: str = env.str("JWT_COOKIE_SAMESITE", default="Lax")
JWT_COOKIE_SECURE: bool = env.bool("JWT_COOKIE_SECURE", default=HTTPS)

ACCOUNT_CONFIRMATION_DAYS: int = env.int("ACCOUNT_CONFIRMATION_DAYS", default=3)
# SPA clients whose mailed links land in them (users_app.clients): a JSON object mapping an
# exact origin to its routes, e.g. {"https://app.example": {"login": "/login",
# "reset_password": "/reset-password", "confirm": "/confirm"}}. Empty: Affea's own pages.
_spa_clients: object = env.json("SPA_CLIENTS", default={})
if not isinstance(_spa_clients, dict) or not all(
    isinstance(routes, dict)
    and all(isinstance(path, str) and path.startswith("/") for path in routes.values())
    for routes in _spa_clients.values()
):
    raise ImproperlyConfigured(
        'SPA_CLIENTS must map each origin to its routes, e.g. {"https://app.example": '
        '{"login": "/login"}}, every route a path starting with "/".'
    )
SPA_CLIENTS: dict[str, dict[str, str]] = {
    str(origin).rstrip("/"): routes for origin, routes in _spa_clients.items()
}

# Account endpoint throttles (users_app.throttling): scope -> kind -> (requests, seconds).
# "account" is the email (or uid) the request is about; login counts failures only.
ACCOUNT_THROTTLE_RATES: dict[str, dict[str, tuple[int, int]]] = {
    "login": {"ip": (30, 900), "account": (env.int("LOGIN_FAILURES_PER_ACCOUNT", default=5), 900)},
    "register": {"ip": (10, 3600), "account": (3, 3600)},
    # Sign-up forms check the address as the viewer types (3-4 calls, more with typos):
    # generous per minute, capped per hour and across all clients against enumeration.
    "email_exists": {
        "ip": (30, 60),
        "ip_hour": (200, 3600),
        "account": (10, 60),
        "global": (env.int("EMAIL_EXISTS_GLOBAL_PER_MINUTE", default=1000), 60),
    },
    "forgot_password": {"ip": (10, 3600), "account": (3, 3600)},
    "confirm": {"ip": (30, 3600), "account": (10, 3600)},
    "reset_password": {"ip": (30, 3600), "account": (10, 3600)},
}

# --- Media pipeline -------------------------------------------------------------

FFMPEG_BINARY: str = env.str("FFMPEG_BINARY", default="ffmpeg")
FFPROBE_BINARY: str = env.str("FFPROBE_BINARY", default="ffprobe")
FFMPEG_PRESET: str = env.str("FFMPEG_PRESET", default="veryfast")
# How often the reconciler re-enqueues processing that Redis lost (content_app.pipeline).
PIPELINE_RECONCILE_INTERVAL: int = env.int("PIPELINE_RECONCILE_INTERVAL", default=120)
# How often a worker checks its scheduler, the reconciler's chain and dead siblings' jobs,
# and how soon a running job whose worker died is noticed (content_app.pipeline.worker).
PIPELINE_WORKER_MAINTENANCE_INTERVAL: int = env.int(
    "PIPELINE_WORKER_MAINTENANCE_INTERVAL", default=15
)
PIPELINE_JOB_HEARTBEAT_INTERVAL: int = env.int("PIPELINE_JOB_HEARTBEAT_INTERVAL", default=5)
# Seconds the reconciler leaves a just-started film alone (its first job is being enqueued).
PIPELINE_RECONCILE_SETTLE: int = env.int("PIPELINE_RECONCILE_SETTLE", default=30)
# Staff uploads straight to S3 (content_app.uploads): a multipart upload not finished
# after this many seconds is aborted by the reconciler (and by the bucket's lifecycle
# rule, in whole days); part URLs signed for the browser live this long.
UPLOAD_ABANDON_AFTER: int = env.int("UPLOAD_ABANDON_AFTER", default=24 * 3600)
# The daily storage sweep (content_app.pipeline.sweep) deletes objects under films/ that no
# row names once they are this many seconds old: longer than any step or upload takes
# between storing an object and recording it.
STORAGE_ORPHAN_AGE: int = env.int("STORAGE_ORPHAN_AGE", default=24 * 3600)
UPLOAD_PART_URL_TTL: int = env.int("UPLOAD_PART_URL_TTL", default=900)
# Bytes per part the browser sends (S3 wants at least 5 MiB for all but the last).
UPLOAD_PART_SIZE: int = max(5 * 1024 * 1024, env.int("UPLOAD_PART_SIZE", default=16 * 1024 * 1024))

# --- Catalogue and playback -----------------------------------------------------

# A private catalogue answers 401 to anonymous list requests (pages ask to sign in).
CATALOGUE_PRIVATE: bool = env.bool("CATALOGUE_PRIVATE", default=False)
# CloudFront signed URLs replace S3 presigning when all three are set. The private
# key is PEM text (newlines may be written as \\n) or the path of a PEM file.
CLOUDFRONT_DOMAIN: str = env.str("CLOUDFRONT_DOMAIN", default="")
CLOUDFRONT_KEY_PAIR_ID: str = env.str("CLOUDFRONT_KEY_PAIR_ID", default="")
CLOUDFRONT_PRIVATE_KEY: str = env.str("CLOUDFRONT_PRIVATE_KEY", default="")
# Local storage mode behind nginx: the signed media view answers with
# X-Accel-Redirect to this `internal` location instead of sending the bytes itself.
MEDIA_X_ACCEL_PREFIX: str = env.str("MEDIA_X_ACCEL_PREFIX", default="")

# --- Legal ----------------------------------------------------------------------

# Affea's designated DMCA agent (17 U.S.C. §512(c)(2)), shown on /legal/dmca/; the
# Copyright Office's directory must list the same. Required in production.
DMCA_AGENT_NAME: str = _required_in_production(
    "DMCA_AGENT_NAME", env.str("DMCA_AGENT_NAME", default="Affea DMCA Agent" if DEBUG else "")
)
DMCA_AGENT_ADDRESS: str = _required_in_production(
    "DMCA_AGENT_ADDRESS",
    env.str("DMCA_AGENT_ADDRESS", default="1 Example Street, Springfield, USA" if DEBUG else ""),
)
DMCA_AGENT_EMAIL: str = _required_in_production(
    "DMCA_AGENT_EMAIL", env.str("DMCA_AGENT_EMAIL", default="dmca@affea.local" if DEBUG else "")
)
DMCA_AGENT_PHONE: str = _required_in_production(
    "DMCA_AGENT_PHONE", env.str("DMCA_AGENT_PHONE", default="+1 555 0100" if DEBUG else "")
)
# Who is mailed when a notice arrives (default: the agent).
DMCA_STAFF_EMAILS: list[str] = env.list("DMCA_STAFF_EMAILS", default=[DMCA_AGENT_EMAIL])
# Restoration after a counter-notice happens once this many business days following receipt
# have passed, at the end of the last of them (§512(g)(2)(C): not less than 10, nor more than 14).
# At most 13: the end of the 14th is the law's limit itself, which a restoration run seconds
# late (the job) or minutes late (the cron sweep) would pass.
DMCA_RESTORATION_BUSINESS_DAY: int = env.int("DMCA_RESTORATION_BUSINESS_DAY", default=10)
if not 10 <= DMCA_RESTORATION_BUSINESS_DAY <= 13:
    raise ImproperlyConfigured(
        "DMCA_RESTORATION_BUSINESS_DAY must be between 10 and 13 (the law allows up to the end "
        "of the 14th business day, which a restoration running late would pass)."
    )
# Business days are counted in this time zone, skipping weekends and US federal holidays.
DMCA_TIME_ZONE: str = env.str("DMCA_TIME_ZONE", default="America/New_York")
# Repeat-infringer policy (§512(i)): rights holders with this many accepted notices are flagged.
DMCA_REPEAT_INFRINGER_NOTICES: int = env.int("DMCA_REPEAT_INFRINGER_NOTICES", default=3)
# The public legal forms, throttled per client IP by users_app.throttling.
ACCOUNT_THROTTLE_RATES["dmca_notice"] = {"ip": (env.int("DMCA_NOTICES_PER_HOUR", default=10), 3600)}
ACCOUNT_THROTTLE_RATES["counter_notice"] = {"ip": (10, 3600)}
# Terms (legal_app.terms): when on, a signed-in API client that has not accepted the
# current terms gets 403 `terms_not_accepted` outside the account and legal endpoints.
# Off by default, so clients that know nothing of terms keep working.
TERMS_ENFORCE_API: bool = env.bool("TERMS_ENFORCE_API", default=False)

# --- Internationalisation, logging ----------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# One JSON object per line in production (searchable), plain text for a developer.
LOG_FORMAT: str = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be 'plain' or 'json'.")
LOG_LEVEL: str = env.str("LOG_LEVEL", default="INFO").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured("LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL.")
LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)

# --- Operations: metrics and error reports --------------------------------------------

# /metrics answers only a scraper that sends `Authorization: Bearer <METRICS_TOKEN>`
# (empty: /metrics is off); nginx also admits only the networks its `location = /metrics`
# allows.
METRICS_TOKEN: str = env.str("METRICS_TOKEN", default="")
# Unhandled exceptions and failed jobs go to Sentry when a DSN is set, never personal data.
SENTRY_DSN: str = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT: str = env.str(
    "SENTRY_ENVIRONMENT", default="development" if DEBUG else "production"
)
try:
    init_sentry(dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT)
except BadDsn as exc:
    raise ImproperlyConfigured(f"SENTRY_DSN is not a Sentry DSN: {exc}") from exc

DEMO_STAFF_EMAIL: str = env.str("DEMO_STAFF_EMAIL", default="staff@affea.local")
DEMO_STAFF_PASSWORD: str = env.str("DEMO_STAFF_PASSWORD", default="affea-demo-staff")

if TESTING:
    # Hashing with PBKDF2's full work factor would dominate the suite's run time.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
