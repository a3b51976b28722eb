"""Test settings: production settings with a throwaway key and plain HTTP."""

import os
import secrets
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-" + "t" * 40)
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
# Each test process has an embedded events engine of its own (chDB holds a path per
# process); tests/conftest.py removes it at the end.
# The pid and a random part: a path left by a killed run is never picked up again.
os.environ.setdefault("EVENTS_URL", "chdb://" + os.path.join(
    tempfile.gettempdir(), f"soc-test-events-{os.getpid()}-{secrets.token_hex(4)}"))

from socconsole.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True

# Ordinary tests run tasks in process; tests/test_worker.py starts a real worker on Redis.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/15"
CELERY_RESULT_BACKEND = CELERY_BROKER_URL
if os.environ.get("TEST_BROKER_FOLDER"):
    # Where Redis does not run (a fresh workstation), tests/test_worker.py passes messages
    # and results through a folder instead, so its real worker still runs. CI uses Redis.
    _folder = os.environ["TEST_BROKER_FOLDER"]
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": _folder, "data_folder_out": _folder,
                                       "control_folder": _folder}
    CELERY_RESULT_BACKEND = f"file://{_folder}"
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A file, not memory, so that a worker process can share the test database.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(BASE_DIR / f".test-db-{os.getpid()}.sqlite3")}  # noqa: F405
