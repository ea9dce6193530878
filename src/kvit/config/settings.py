"""Settings, read from the environment.

DATABASE_URL selects the database (default: a SQLite file under var/). Every other
knob is an environment variable with a development default; production sets
KVIT_SECRET_KEY, KVIT_DEBUG=false and KVIT_ALLOWED_HOSTS.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent  # src/kvit
PROJECT_DIR = Path(os.environ.get("KVIT_HOME", BASE_DIR.parent.parent))
VAR_DIR = PROJECT_DIR / "var"


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("KVIT_DEBUG", True)
SECRET_KEY = os.environ.get("KVIT_SECRET_KEY", "dev-only-insecure-key-change-me" if DEBUG else "")
if not SECRET_KEY:
    raise RuntimeError("KVIT_SECRET_KEY must be set when KVIT_DEBUG is false")
ALLOWED_HOSTS = os.environ.get("KVIT_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")

INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.simple_history",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "simple_history",
    "ninja",  # its Swagger UI from its own static files, not from a CDN
    "kvit.db",
    "kvit.tenants",
    "kvit.users",
    "kvit.parameters",
    "kvit.providers",
    "kvit.premises",
    "kvit.people",
    "kvit.tariffs",
    "kvit.accounts",
    "kvit.metering",
    "kvit.ledger",
    "kvit.billing",
    "kvit.reports",
    "kvit.payments",
    "kvit.online",
    "kvit.api",
    "kvit.registries",
    "kvit.controls",
    "kvit.scenarios",
    "kvit.portal",
    "kvit.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "kvit.config.errors.ErrorIdMiddleware",  # innermost: it sees the view's exception
]

ROOT_URLCONF = "kvit.config.urls"
WSGI_APPLICATION = "kvit.config.wsgi.application"

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'kvit.sqlite3'}"),
        conn_max_age=int(os.environ.get("KVIT_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend with psycopg's compiled timestamptz loader (kvit.db.backends).
    DATABASES["default"]["ENGINE"] = "kvit.db.backends.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # WAL lets readers run beside a writer; IMMEDIATE takes the write lock up front, so
    # two writers queue instead of failing with "database is locked" half-way through.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

# Distributed bill runs (`kvit billrun --broker URL`, `kvit.config.celery`). Workers take
# the broker from KVIT_BROKER_URL (redis://… or amqp://…); empty: no distributed mode.
# No result backend: the caller follows the chunks' status in the database.
CELERY_BROKER_URL = os.environ.get("KVIT_BROKER_URL", "")
CELERY_TASK_IGNORE_RESULT = True
# A chunk task may run twice (architecture §8, reliability R11): it is acknowledged only
# after it finished, given back when its worker dies, and a worker takes one at a time.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis hands an unacknowledged task to another worker after this many seconds: longer
# than the longest chunk, so that a slow chunk is not billed twice at once (it would be
# harmless, only wasted).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# The nightly reconciliation (reliability R27): `celery -A kvit.config.celery beat` sends
# it at 02:30 in TIME_ZONE; without beat, run `kvit reconcile` from cron.
CELERY_BEAT_SCHEDULE = {
    "reconcile": {"task": "kvit.controls.reconcile", "schedule": crontab(hour=2, minute=30)}
}
# Seconds a distributed bill run waits for a worker to take one of its waiting chunks.
BILL_RUN_WORKER_TIMEOUT = int(os.environ.get("KVIT_WORKER_TIMEOUT", "60"))

AUTH_USER_MODEL = "users.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_packages"]
TIME_ZONE = os.environ.get("KVIT_TIME_ZONE", "Europe/Moscow")
CELERY_TIMEZONE = TIME_ZONE  # the beat schedule's hours
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Uploaded files (bank registries as received) are kept here under names the server gives
# them, and never served as they are: the back-office sends them as attachments.
MEDIA_ROOT = Path(os.environ.get("KVIT_MEDIA_ROOT", VAR_DIR / "media"))
# The largest registry the back-office takes in one upload (a million lines are ~150 MB).
REGISTRY_UPLOAD_MAX_BYTES = int(os.environ.get("KVIT_REGISTRY_UPLOAD_MAX_BYTES", 256 * 1024**2))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGIN_URL = "admin:login"
SIMPLE_HISTORY_REVERT_DISABLED = True  # history is read-only: corrections are new edits

UNFOLD = {
    "SITE_TITLE": "Kvit",
    "SITE_HEADER": "Kvit",
    "SITE_SYMBOL": "receipt_long",
    "SHOW_LANGUAGES": True,
    "SHOW_HISTORY": True,
}
