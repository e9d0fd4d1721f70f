"""Django settings for Bach or Bot, all overridable from the environment (see README.md).

With nothing set, a checkout runs at once: SQLite in var/, Celery tasks in-process, debug on.
"""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from bachsurvey.env import (
    cache_from_url,
    database_from_url,
    env_bool,
    env_int,
    env_list,
    env_networks,
    env_str,
)
from bachsurvey.error_reporting import start_error_reporting
from bachsurvey.observability import admins_from, logging_config
from composer.paths import DEFAULT_COMPOSER, DEFAULT_HARMONIZER, shipped

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"  # git-ignored: database, collected static files, media

# Default on while the project is young; a deployment sets DJANGO_DEBUG=0.
DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if SECRET_KEY is None:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off")
    SECRET_KEY = "django-insecure-bachsurvey-development-only"
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")

# HTTPS hardening: on by default whenever debug is off; DJANGO_HTTPS=0 serves plain HTTP
# (loopback tests, or a proxy that terminates TLS and forwards plain HTTP).
HTTPS = env_bool("DJANGO_HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31_536_000, minimum=0) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = HTTPS
# Behind a proxy: trust its X-Forwarded-Proto header (a forged one fools only the request's own
# scheme), and, unless DJANGO_TRUSTED_PROXIES names them, the proxies on this machine.
BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY", False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Proxies whose X-Forwarded-For names the client (bachsurvey.client); none: nobody's is read.
TRUSTED_PROXIES = env_networks("DJANGO_TRUSTED_PROXIES", "127.0.0.1,::1" if BEHIND_PROXY else "")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "axes",
    "drf_spectacular",
    "bachsurvey",
]

MIDDLEWARE = [
    # First, so that every reply and every log line of the request carries its id.
    "bachsurvey.observability.RequestIdMiddleware",
    # Headers no server sends (a NUL, a lone surrogate) answer 400 before anything reads them.
    "bachsurvey.hostile_headers.HostileHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Right after SecurityMiddleware, as WhiteNoise asks, so static files skip the rest.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # CSP on every HTML page, Cache-Control: no-store on the API (bachsurvey.security_headers);
    # outside the rest, so that it sees every page they answer (403s, 404s, 503s) too.
    "bachsurvey.security_headers.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the switcher's cookie, else the browser's Accept-Language, else English.
    # URLs carry no language prefix, so the quiz's script keeps its absolute API paths.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A database outage answers 503 with Retry-After instead of 500 (see db_outage).
    "bachsurvey.db_outage.DatabaseOutageMiddleware",
]

ROOT_URLCONF = "bachsurvey.urls"

# Optional error reporting (bachsurvey.error_reporting): a Sentry-protocol DSN; unset, nothing
# is sent anywhere.
ERROR_REPORTING_DSN = env_str("ERROR_REPORTING_DSN")
start_error_reporting(ERROR_REPORTING_DSN, "development" if DEBUG else "production")

# --- Logging: structured lines with request ids, 500s with tracebacks (bachsurvey.observability)
ADMINS = admins_from(env_str("DJANGO_ADMINS"))
SERVER_EMAIL = env_str("DJANGO_SERVER_EMAIL", "bachsurvey@localhost")
EMAIL_HOST = env_str("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 25, minimum=1)
_LOG_FORMAT = env_str("DJANGO_LOG_FORMAT", "text" if DEBUG else "json")
if _LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"DJANGO_LOG_FORMAT must be json or text, got {_LOG_FORMAT!r}")
LOGGING = logging_config(
    _LOG_FORMAT == "json", env_str("DJANGO_LOG_LEVEL", "INFO"), mail_admins=bool(ADMINS)
)
WSGI_APPLICATION = "bachsurvey.wsgi.application"

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
            ],
        },
    },
]

# --- Database: SQLite under var/ unless DATABASE_URL says otherwise ---
_database = database_from_url(
    env_str("DATABASE_URL"), BASE_DIR, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
)
if _database["ENGINE"].endswith("sqlite3") and _database["NAME"] != ":memory:":
    # SQLite creates the file but not its folder (var/ on a fresh clone).
    Path(_database["NAME"]).parent.mkdir(parents=True, exist_ok=True)
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Celery: with no broker, tasks run in-process so the site works without Redis ---
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
if CELERY_BROKER_URL is None:
    CELERY_BROKER_URL = "memory://"  # never contacted while tasks are eager
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True  # an in-process task failure should raise, not vanish
elif "://" not in CELERY_BROKER_URL:
    raise ImproperlyConfigured(f"CELERY_BROKER_URL must be a URL, got {CELERY_BROKER_URL!r}")
else:
    # A batch's pieces are a chord (render tasks, then the one that finishes the batch), and
    # chords need a result backend: the broker's Redis unless another is named.
    CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND")
    if CELERY_RESULT_BACKEND is None and CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        CELERY_RESULT_BACKEND = CELERY_BROKER_URL
    elif CELERY_RESULT_BACKEND is None:
        raise ImproperlyConfigured(
            "CELERY_RESULT_BACKEND must be set when CELERY_BROKER_URL is not Redis "
            "(a generation batch's chord needs a result backend)"
        )
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Model work goes to the `gpu` queue: a worker started with `-Q gpu --concurrency 1` on a
# machine with a GPU picks it up (any machine can; it then runs on the CPU). A batch's pieces are
# rendered and stored on the `render` queue, by as many CPU workers as consume it.
CELERY_TASK_ROUTES = {
    "bachsurvey.tasks.generate_batch": {"queue": "gpu"},
    "bachsurvey.tasks.run_grid_configuration": {"queue": "gpu"},
    "bachsurvey.tasks.harmonize_melody": {"queue": "gpu"},
    "bachsurvey.tasks.render_piece": {"queue": "render"},
    "bachsurvey.tasks.finish_batch": {"queue": "render"},
}
# A task is acknowledged when it ends, not when it starts: a worker that dies mid-batch leaves
# its message unacknowledged, and the broker hands it out again (tasks are safe to run twice).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # long tasks: never hold a second one back in a busy worker
# With Redis, an unacknowledged message returns to the queue this many seconds after delivery.
# It must exceed the longest task (else a running batch is handed out twice: harmless, wasteful).
_visibility_timeout = env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": _visibility_timeout,
    # How often a worker looks for messages whose time ran out (kombu's default: ~100 s).
    "unacked_restore_interval": max(1, min(60, _visibility_timeout // 10)),
    "unacked_restore_throttle": 1,
}

# --- Generation batches (bachsurvey.generation.batches, run by the Celery task generate_batch) ---
# Free pieces: the length-aware composer; harmonization batches: the harmonizer; each the language
# model where it does not ship (composer.paths: names only, no torch in the web processes).
GENERATION_CHECKPOINT = env_str("GENERATION_CHECKPOINT", str(shipped(DEFAULT_COMPOSER)))
HARMONIZATION_CHECKPOINT = env_str("HARMONIZATION_CHECKPOINT", str(shipped(DEFAULT_HARMONIZER)))
GENERATION_DEVICE = env_str("GENERATION_DEVICE", "auto")  # auto: CUDA when present, else CPU
GENERATION_DEVICE_BATCH = env_int("GENERATION_DEVICE_BATCH", 64, minimum=1)  # pieces per pass
# torch's CPU threads in a worker: more threads than free cores make sampling far slower.
GENERATION_TORCH_THREADS = env_int("GENERATION_TORCH_THREADS", 2, minimum=1)
GRID_RUNS_DIR = Path(env_str("GRID_RUNS_DIR", str(BASE_DIR / "runs" / "grid")))
# A batch task started this many times since it was queued (its worker died each time, and Redis
# handed the message out again) is failed instead of run once more: a poison task must not loop.
GENERATION_MAX_ATTEMPTS = env_int("GENERATION_MAX_ATTEMPTS", 3, minimum=1)
# A pending or running batch with no sign of life (queued, started, a piece stored) for this long
# shows as stale in the admin and may be queued again.
GENERATION_STALE_SECONDS = env_int("GENERATION_STALE_SECONDS", 1800, minimum=1)
# The public harmonizer (/harmonize/, bachsurvey.harmonize): a result and its files are deleted
# this many seconds after the request (manage.py expire_harmonizations, and on new requests).
HARMONIZATION_TTL_SECONDS = env_int("HARMONIZATION_TTL_SECONDS", 86_400, minimum=1)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]

# English and German (locale/de/LC_MESSAGES: django.po for pages and server messages, djangojs.po
# for the scripts' catalog at /jsi18n/). English stays the default for a browser that asks for
# neither, so the tests' English strings hold.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
# The switcher's choice (django.views.i18n.set_language) is a cookie that scripts need not read.
LANGUAGE_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
# A GPU worker writes rendered clips here: in a deployment, storage the web server shares.
MEDIA_ROOT = Path(env_str("DJANGO_MEDIA_ROOT", str(VAR_DIR / "media")))
# Participants reach clips only through URLs of their own assignment (bachsurvey.quiz.clip_urls),
# which stop working this many seconds after the participant finished.
CLIP_URL_SECONDS = env_int("CLIP_URL_SECONDS", 3600, minimum=1)
# Behind nginx: Django checks who may have a clip and nginx sends the file from this internal
# location (X-Accel-Redirect; deploy/nginx.conf). Unset: Django sends the file itself.
MEDIA_ACCEL_REDIRECT = env_str("MEDIA_ACCEL_REDIRECT")
if MEDIA_ACCEL_REDIRECT is not None and not (
    MEDIA_ACCEL_REDIRECT.startswith("/") and MEDIA_ACCEL_REDIRECT.endswith("/")
):
    raise ImproperlyConfigured(
        f"MEDIA_ACCEL_REDIRECT must be a path that starts and ends with /, got "
        f"{MEDIA_ACCEL_REDIRECT!r}"
    )
# WhiteNoise warns on every start when STATIC_ROOT is missing, i.e. before the first collectstatic.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Compressed but not manifest storage: pages render without a prior collectstatic.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# No HTTP Basic anywhere (DRF's default had it): a password sent with any API request would be a
# login that bypasses the lockout. The API takes the session (logins go through the two login
# pages) and researchers' tokens, whose wrong guesses count toward the lockout too.
_SESSION = "rest_framework.authentication.SessionAuthentication"
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "bachsurvey.logins.tokens.LockoutTokenAuthentication",
        _SESSION,
    ],
    # JSON only, refusing what Python's parser takes but the database or DRF's own error reply
    # cannot: lone surrogates, NUL, non-finite and absurdly long numbers (bachsurvey.quiz.parsers).
    "DEFAULT_PARSER_CLASSES": ["bachsurvey.quiz.parsers.SafeJSONParser"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Bach or Bot API",
    "DESCRIPTION": "The listening test: can you tell Bach from a machine?",
    "VERSION": "0.1.0",
    "SERVE_AUTHENTICATION": [_SESSION],
}

# --- Hostile input: rate limits, login lockout, request size (README, "Hostile input") ---
# The counters live in this cache; with several web processes it must be shared (CACHE_URL).
CACHES = {"default": cache_from_url(env_str("CACHE_URL"))}
# Sessions are kept in PostgreSQL; with a shared cache they are also read from it, which saves
# every API request a query. A per-process cache could hand one worker a session that another
# has since changed, so without CACHE_URL they are read from the database alone.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.db"
    if CACHES["default"]["BACKEND"].endswith("LocMemCache")
    else "django.contrib.sessions.backends.cached_db"
)
# New participants per client address per hour: high enough for a classroom behind one NAT.
RATE_LIMIT_PARTICIPANTS = env_int("RATE_LIMIT_PARTICIPANTS", 300, minimum=0)  # 0: off
# Answers per participant per minute: a person who listens to both clips manages a few.
RATE_LIMIT_ANSWERS = env_int("RATE_LIMIT_ANSWERS", 30, minimum=0)  # 0: off
# Melodies harmonized per client address per hour: each costs seconds of a worker's time.
RATE_LIMIT_HARMONIZATIONS = env_int("RATE_LIMIT_HARMONIZATIONS", 30, minimum=0)  # 0: off
# Withdrawal codes tried per client address per hour (/withdraw/): a few typing mistakes pass,
# guessing a code (one in ~10^11 per try) does not.
RATE_LIMIT_WITHDRAWALS = env_int("RATE_LIMIT_WITHDRAWALS", 10, minimum=0)  # 0: off

# --- The login lockout: django-axes (bachsurvey.logins), on both login pages and API tokens ---
# Failed logins for one user name from one address before that pair is locked out; for one user
# name from all addresses together; how long a failure counts after the last one.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10, minimum=0)  # 0: off
LOGIN_USER_FAILURE_LIMIT = env_int("LOGIN_USER_FAILURE_LIMIT", 100, minimum=0)  # 0: off
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 15 * 60, minimum=1)
# Axes' backend refuses a locked-out login in any authenticate() call, before the password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "bachsurvey.logins.handler.LockoutHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "bachsurvey.client.client_address"
# Read from the LOGIN_* settings at each login (so tests and deployments may change them).
AXES_FAILURE_LIMIT = "bachsurvey.logins.lockout.failure_limit"
AXES_COOLOFF_TIME = "bachsurvey.logins.lockout.cool_off"
# Refused logins do not count: a lockout ends a cool-off after the failure that started it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True  # the right password forgives that pair's earlier typos
# Addresses are kept only while failures count (no log of every successful login).
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ADMIN = False  # bachsurvey.logins.admin shows current lockouts instead
# No AxesMiddleware: the login forms and the token authentication answer a lockout themselves
# (the page's own message, 429, Retry-After), and the middleware would turn the last counted
# failure into a lockout page too.
SILENCED_SYSTEM_CHECKS = ["axes.W002"]
# Bodies above this are refused (Django's forms: 400; the JSON API: 413). An answer is ~250 bytes.
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
