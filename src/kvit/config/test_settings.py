"""Test configuration: the same settings, with fast password hashing."""

import os

from kvit.config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LANGUAGE_CODE = "en"

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not memory: the bill-run tests fork worker processes that share the database.
    # One per test process, so that two test runs at once never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test_kvit_{os.getpid()}.sqlite3")}  # noqa: F405
