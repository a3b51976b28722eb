"""`manage.py grant_app_role`: the role the console runs as may only add to the activity log."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from inventory import activity
from inventory.models import Activity
from tests.conftest import SYSTEM, make_token
from tests.factories import make_alert
from tests.search.factories import default_workspace, ingest


def app_role():
    # Roles are the cluster's, not the database's: named for this test database.
    return f"{connection.settings_dict['NAME']}_app"[:63]


def grant(role):
    out = StringIO()
    call_command("grant_app_role", "--role", role, stdout=out)
    return out.getvalue()


def refused(cursor, sql):
    with pytest.raises(DatabaseError, match="permission denied|must be owner"), \
            transaction.atomic():
        cursor.execute(sql)


def test_the_app_role_may_only_insert_and_select_the_activity_log(p, monkeypatch):
    monkeypatch.delenv("APP_DATABASE_URL", raising=False)
    if connection.vendor != "postgresql":
        with pytest.raises(CommandError, match="PostgreSQL only"):
            grant("soc_app")
        return
    role = app_role()
    # The test's transaction is rolled back at its end, the role with it.
    assert f"created role {role}" in grant(role)
    assert "created role" not in grant(role)  # idempotent
    before = Activity.objects.count()
    with connection.cursor() as cursor:
        cursor.execute(f'SET ROLE "{role}"')
        try:
            with transaction.atomic():
                activity.record(actor=SYSTEM, verb="x.test", target_type="t")
            assert Activity.objects.count() == before + 1
            for sql in ("TRUNCATE inventory_activity",
                        "DELETE FROM inventory_activity",
                        "UPDATE inventory_activity SET verb = 'forged'",
                        "ALTER TABLE inventory_activity DISABLE TRIGGER ALL",
                        "ALTER TABLE inventory_activity DISABLE TRIGGER "
                        "inventory_activity_append_only",
                        "DROP TRIGGER inventory_activity_no_truncate ON inventory_activity",
                        "DROP TABLE inventory_activity"):
                refused(cursor, sql)
            # What the console does while it runs still works as this role: alerts (COPY
            # included), a token, and events (their day's count in the database).
            make_alert(p.sub)
            make_token(p.sub, name="as the app role")
            report = ingest(default_workspace(p.sub), "SecurityEvent", [
                {"TimeGenerated": "2026-10-02T10:00:00Z", "Computer": "vm-1", "EventID": 4625}])
            assert report.accepted == 1
            cursor.execute("SELECT current_user")
            assert cursor.fetchone()[0] == role
        finally:
            cursor.execute("RESET ROLE")
    assert Activity.objects.count() > before + 1


def test_it_refuses_the_migration_role_itself(db, monkeypatch):
    monkeypatch.delenv("APP_DATABASE_URL", raising=False)
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        me = cursor.fetchone()[0]
    with pytest.raises(CommandError, match="the app role must be another one"):
        grant(me)


def test_it_reads_the_role_and_password_from_app_database_url(db, monkeypatch):
    if connection.vendor != "postgresql":
        return
    role = app_role()
    monkeypatch.setenv("APP_DATABASE_URL", f"postgres://{role}:s3cret@db:5432/soc")
    out = StringIO()
    call_command("grant_app_role", stdout=out)
    assert f"created role {role}" in out.getvalue()
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolcanlogin, rolpassword IS NOT NULL FROM pg_authid "
                       "WHERE rolname = %s", [role])
        assert cursor.fetchone() == (True, True)
    with pytest.raises(CommandError, match="not the app URL's user"):
        call_command("grant_app_role", "--role", "someone_else", stdout=out)


def test_it_writes_the_app_url_file_once_with_a_new_password(db, monkeypatch, tmp_path):
    monkeypatch.delenv("APP_DATABASE_URL", raising=False)
    if connection.vendor != "postgresql":
        return
    role = app_role()
    path = tmp_path / "app-database-url"
    out = StringIO()
    call_command("grant_app_role", "--role", role, "--url-file", str(path), stdout=out)
    url = path.read_text().strip()
    assert url.startswith(f"postgres://{role}:") and (path.stat().st_mode & 0o777) == 0o600
    call_command("grant_app_role", "--url-file", str(path), stdout=out)
    assert path.read_text().strip() == url  # kept, and the role's password set from it
