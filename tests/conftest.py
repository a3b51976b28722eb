import os
import shutil
import tempfile
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db.backends.postgresql.operations import DatabaseOperations as PostgresOperations

from inventory.activity import Actor
from inventory.people import grant_role
from inventory.roles import Scope
from inventory.subscriptions import create_subscription
from inventory.tokens import create_token

SYSTEM = Actor.of_system("tests")

_sql_flush = PostgresOperations.sql_flush


def _sql_flush_past_triggers(self, style, tables, **kwargs):
    # Tests that commit (live_server, transaction=True) are emptied with TRUNCATE, which the
    # activity log's trigger refuses. The test run is a superuser: it skips triggers for it.
    sql = _sql_flush(self, style, tables, **kwargs)
    return ["SET LOCAL session_replication_role = replica;", *sql] if sql else sql


PostgresOperations.sql_flush = _sql_flush_past_triggers


def make_user(username, password="correct horse battery staple"):
    user = get_user_model().objects.create_user(username=username, password=password)
    return user


def make_subscription(name, **kwargs):
    return create_subscription(name=name, actor=SYSTEM, **kwargs)


def make_token(subscription, user=None, scopes=(Scope.INGEST, Scope.READ), name="test token"):
    """Returns the plaintext; the row is on `.token` of the returned str subclass."""
    token, plaintext = create_token(subscription=subscription, name=name, user=user,
                                    scopes=scopes, actor=SYSTEM)
    return TokenText(plaintext, token)


class TokenText(str):
    def __new__(cls, text, token):
        obj = super().__new__(cls, text)
        obj.token = token
        return obj

    @property
    def header(self):
        return {"HTTP_AUTHORIZATION": f"Bearer {self}"}


class Personas:
    """Analyst, shift lead and admin of `sub`; an outsider who belongs only to `other`."""

    def __init__(self):
        self.sub = make_subscription("Contoso")
        self.other = make_subscription("Fabrikam")
        self.analyst = make_user("analyst")
        self.lead = make_user("lead")
        self.admin = make_user("admin")
        self.outsider = make_user("outsider")
        for user, role in ((self.analyst, "analyst"), (self.lead, "shift_lead"),
                           (self.admin, "admin")):
            grant_role(subscription=self.sub, user=user, role=role, actor=SYSTEM)
        grant_role(subscription=self.other, user=self.outsider, role="admin", actor=SYSTEM)


@pytest.fixture
def p(db):
    return Personas()


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client
    return login


# The suite's own alerts and events in each format, written for the tests.
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# The real third-party sample corpus, never in the repository: SOC_SAMPLES_DIR, else
# shared/samples beside the clone (CI lays shared/ beside its clone).
SAMPLES = Path(os.environ.get("SOC_SAMPLES_DIR") or
               Path(__file__).resolve().parents[1].parent / "shared" / "samples")


def pytest_runtest_setup(item):
    """Tests marked `corpus` need the real samples: skipped without them, failed in CI."""
    if item.get_closest_marker("corpus") is None or SAMPLES.is_dir():
        return
    reason = (f"the real sample corpus is not at {SAMPLES}: set SOC_SAMPLES_DIR or lay "
              "shared/samples beside the repository; CI has it")
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the corpus tests, but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def _events_schema():
    """The test process's embedded events engine (settings_test gives it a temporary
    path), with its table; removed when the session ends."""
    from search import engine

    engine.ensure_schema()
    yield engine.engine()
    path = getattr(engine.engine(), "path", None)
    engine.close()
    if path is not None and str(path).startswith(tempfile.gettempdir()):
        shutil.rmtree(path, ignore_errors=True)
        Path(str(path) + ".lock").unlink(missing_ok=True)


@pytest.fixture
def events_engine(_events_schema):
    """The events engine, emptied after the test so that tests stay independent."""
    from search import engine

    engine.engine().truncate()  # whatever a test without this fixture left
    yield engine.engine()
    engine.ensure_schema()  # a test may have closed and reopened it
    engine.engine().truncate()


@pytest.fixture(autouse=True)
def _events_engine_emptied(request):
    """Every test that uses the database starts and ends with an empty events engine, as
    it starts with an empty database."""
    if _uses_db(request):
        request.getfixturevalue("events_engine")


def _uses_db(request):
    names = set(request.fixturenames)
    return bool(names & {"db", "transactional_db", "live_server", "django_db_setup"}) or \
        request.node.get_closest_marker("django_db") is not None
