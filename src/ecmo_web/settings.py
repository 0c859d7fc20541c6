"""Django settings for ECMO Steward.

Defaults run the embedded SQLite database under ``var/``. Production and CI set ``DATABASE_URL``
(e.g. ``postgres://postgres@127.0.0.1:5432/test``). Secrets come from the environment; when
``ECMO_SECRET_KEY`` is unset a random key is generated once into ``var/secret_key`` (never committed).
"""

from __future__ import annotations

import json
import os
import re
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("ECMO_VAR_DIR", Path.cwd() / "var"))


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    key = os.environ.get("ECMO_SECRET_KEY")
    if key:
        return key
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("ECMO_DEBUG", False)
ALLOWED_HOSTS = [h for h in os.environ.get("ECMO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("ECMO_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "ecmo_web.accounts",
    "ecmo_web.audit",
    "ecmo_web.runs",
    "ecmo_web.surveillance",
    "ecmo_web.decisions",
    "ecmo_web.rounds",
    "ecmo_web.calculators",
    "ecmo_web.perfusion",
    "ecmo_web.registry",
    "ecmo_web.quality",
    "ecmo_web.governance",
    "ecmo_web.bedside",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "ecmo_web.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "ecmo_web.security.IdleTimeoutMiddleware",
    "ecmo_web.security.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "ecmo_web.audit.middleware.RequestIdMiddleware",
]

ROOT_URLCONF = "ecmo_web.urls"
WSGI_APPLICATION = "ecmo_web.wsgi.application"

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
                "ecmo_web.accounts.context_processors.program_context",
            ],
        },
    },
]

_default_sqlite = f"sqlite:///{VAR_DIR / 'ecmo.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(os.environ.get("DATABASE_URL", _default_sqlite), conn_max_age=60)
}
_test_suffix = os.environ.get("ECMO_TEST_DB_SUFFIX", "")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The SQLite test database is a file, never Django's default shared-cache in-memory database: there a thread
    # (the listener's evaluator, an export job) holding a table makes a concurrent read in the test fail at once
    # with "database table is locked", where a file in WAL mode lets readers proceed and writers wait on
    # busy_timeout, as in production. One file per test run (the suffix, else the process), so that two runs in
    # one checkout never share it; Django deletes it when the run ends.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test_ecmo_{_test_suffix or os.getpid()}.sqlite3")}
elif _test_suffix:
    # Lets several test runs share one PostgreSQL server without dropping each other's test databases.
    DATABASES["default"]["TEST"] = {"NAME": f"test_ecmo_{_test_suffix}"}
# SQLite durability (docs/hl7-mllp.md "Durability"): in WAL mode, NORMAL (the default) keeps every committed — and
# so acknowledged — transaction through a crash or kill of the process, but the last ones may be lost if the
# machine loses power; FULL syncs the WAL at every commit and keeps them through power loss too, at a cost per
# commit. PostgreSQL syncs at every commit (synchronous_commit=on).
SQLITE_SYNCHRONOUS = os.environ.get("ECMO_SQLITE_SYNCHRONOUS", "NORMAL").upper()
if SQLITE_SYNCHRONOUS not in ("NORMAL", "FULL"):
    raise ImproperlyConfigured("ECMO_SQLITE_SYNCHRONOUS must be NORMAL or FULL")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # WAL lets readers proceed during a write; IMMEDIATE transactions take the write lock up front so that two
    # writers queue on busy_timeout instead of failing with "database is locked" mid-transaction.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": f"PRAGMA journal_mode=WAL; PRAGMA synchronous={SQLITE_SYNCHRONOUS}; PRAGMA busy_timeout=20000;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Argon2id first (OWASP's first choice for password storage); older PBKDF2 hashes still verify and are
# upgraded to Argon2 at the user's next sign-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"  # storage and server clock; each program has its own display time zone
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True  # serve straight from the app folders: no collectstatic step for the demo
STATIC_ROOT.mkdir(
    parents=True, exist_ok=True
)  # WhiteNoise warns about a missing root; collectstatic fills it

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions and cookies: HttpOnly, SameSite=Lax, short idle life for shared ward terminals.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = int(os.environ.get("ECMO_SESSION_SECONDS", 12 * 3600))
# API bearer tokens expire after this many hours (docs/security.md).
ECMO_API_TOKEN_HOURS = float(os.environ.get("ECMO_API_TOKEN_HOURS", 12))

# Outbound alert notifications (docs/surveillance.md): Django's SMTP backend, set by the site; webhook signing
# secrets per program id from ECMO_WEBHOOK_SECRET_<program id>; ECMO_BASE_URL makes links in messages.
EMAIL_HOST = os.environ.get("ECMO_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("ECMO_EMAIL_PORT", 25))
EMAIL_HOST_USER = os.environ.get("ECMO_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("ECMO_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("ECMO_EMAIL_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("ECMO_EMAIL_FROM", "ecmo-steward@localhost")
ECMO_WEBHOOK_SECRETS = {
    name.removeprefix("ECMO_WEBHOOK_SECRET_"): value
    for name, value in os.environ.items()
    if name.startswith("ECMO_WEBHOOK_SECRET_") and value
}
ECMO_BASE_URL = os.environ.get("ECMO_BASE_URL", "")
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Idle sign-out for shared terminals (ecmo_web.security.IdleTimeoutMiddleware); background refreshes don't count.
ECMO_IDLE_SECONDS = int(os.environ.get("ECMO_IDLE_SECONDS", 30 * 60))
# Roles that must use a second factor (TOTP), e.g. "director,admin"; empty: optional for everyone.
ECMO_REQUIRE_2FA_ROLES = [
    r.strip() for r in os.environ.get("ECMO_REQUIRE_2FA_ROLES", "").split(",") if r.strip()
]
OTP_TOTP_ISSUER = "ECMO Steward"
CSRF_FAILURE_VIEW = "ecmo_web.errors.csrf_failure"  # a styled page with a way back
CSRF_COOKIE_HTTPONLY = False  # HTMX reads the token from the page meta tag, not the cookie
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Origins of the EHR(s) allowed to show these pages in a frame (a SMART launch inside the EHR), space-separated
# https origins; empty: no framing at all. Framed pages need their cookies sent cross-site, so SameSite=None
# (and therefore HTTPS) follows.
ECMO_FRAME_ANCESTORS = os.environ.get("ECMO_FRAME_ANCESTORS", "").split()
for _origin in ECMO_FRAME_ANCESTORS:
    if not re.fullmatch(r"https://[A-Za-z0-9.-]+(:[0-9]{1,5})?", _origin):
        raise ImproperlyConfigured(
            f"ECMO_FRAME_ANCESTORS: {_origin!r} is not an https origin like https://ehr.example.org"
        )
SECURE_REFERRER_POLICY = "same-origin"
if _env_bool("ECMO_HTTPS", False):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = _env_bool("ECMO_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading commits the hospital's whole domain to HTTPS in every browser; that is the hospital's
        # decision (ECMO_HSTS_PRELOAD=1), not this application's, so the check that asks for it is silenced.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if ECMO_FRAME_ANCESTORS:
    if not _env_bool("ECMO_HTTPS", False):
        raise ImproperlyConfigured(
            "ECMO_FRAME_ANCESTORS needs ECMO_HTTPS=1: framed pages need Secure cookies"
        )
    SESSION_COOKIE_SAMESITE = "None"
    CSRF_COOKIE_SAMESITE = "None"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("ECMO_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Sign-in throttling counts live in the cache: local memory by default, Redis when ECMO_CACHE_URL is set
# (several web processes then share the counts; needs `pip install redis`).
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["ECMO_CACHE_URL"]}
        if os.environ.get("ECMO_CACHE_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Optional broker for long jobs: without it jobs run in-process (see docs/decisions/0003-jobs.md).
CELERY_BROKER_URL = os.environ.get("ECMO_BROKER_URL", "")

# The HL7 live path (docs/hl7-mllp.md §6a, §6b): a run with new telemetry is evaluated at most once per this many
# seconds; the inbound message log keeps raw messages this many days.
ECMO_EVALUATION_INTERVAL_S = float(os.environ.get("ECMO_EVALUATION_INTERVAL_S", "1"))
ECMO_HL7_LOG_RETENTION_DAYS = int(os.environ.get("ECMO_HL7_LOG_RETENTION_DAYS", "30"))
# Exports (docs/exports/): an export of more runs than this answers 202 with a job URL instead of the file.
ECMO_EXPORT_SYNC_MAX_RUNS = int(os.environ.get("ECMO_EXPORT_SYNC_MAX_RUNS", "50"))
# ECLS CDM ecls_circuit.tubing_size_in_inches is mandatory and not recorded per circuit: the program's standard
# adult tubing (3/8 inch, local practice).
ECMO_TUBING_SIZE_IN_INCHES = float(os.environ.get("ECMO_TUBING_SIZE_IN_INCHES", "0.375"))
# Key of the research pseudonyms (HMAC); defaults to one derived from SECRET_KEY. Keep it secret and stable.
ECMO_RESEARCH_KEY = os.environ.get("ECMO_RESEARCH_KEY", "")
# EHR outbound (docs/ehr-outbound.md): hourly checks to an interface engine over MLLP ("host:port") and/or a FHIR
# server (base URL). Unset: nothing is queued.
ECMO_EHR_MLLP = os.environ.get("ECMO_EHR_MLLP", "")
ECMO_EHR_FHIR_URL = os.environ.get("ECMO_EHR_FHIR_URL", "")
ECMO_EHR_APPLICATION = os.environ.get("ECMO_EHR_APPLICATION", "EHR")
ECMO_EHR_TIMEOUT_S = float(os.environ.get("ECMO_EHR_TIMEOUT_S", "10"))
ECMO_EHR_RETRY_BASE_S = float(os.environ.get("ECMO_EHR_RETRY_BASE_S", "5"))
ECMO_EHR_RETRY_MAX_S = float(os.environ.get("ECMO_EHR_RETRY_MAX_S", "900"))
# SMART on FHIR EHR launch (/smart/launch): the EHR FHIR bases ECMO Steward is registered with, and its client id
# at each, as JSON: {"https://ehr.example.org/fhir": "ecmo-steward"}.
ECMO_SMART_CLIENTS: dict[str, str] = json.loads(os.environ.get("ECMO_SMART_CLIENTS", "{}"))
