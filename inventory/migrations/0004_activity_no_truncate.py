"""On PostgreSQL a statement trigger refuses TRUNCATE on the activity log too.

Row triggers do not fire for TRUNCATE, so 0002's trigger let it empty the table. The owner
can still disable triggers: in production the application's role must not own the table
(docs/operations.md, `manage.py grant_app_role`)."""

from django.db import migrations

FORWARD = """
CREATE TRIGGER inventory_activity_no_truncate
    BEFORE TRUNCATE ON inventory_activity
    FOR EACH STATEMENT EXECUTE FUNCTION inventory_activity_append_only();
"""

BACKWARD = "DROP TRIGGER IF EXISTS inventory_activity_no_truncate ON inventory_activity;"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0003_workspace_retention_days")]
    operations = [migrations.RunPython(forward, backward)]
