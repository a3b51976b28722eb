"""On PostgreSQL a trigger refuses UPDATE and DELETE on the activity log."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION inventory_activity_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the activity log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER inventory_activity_append_only
    BEFORE UPDATE OR DELETE ON inventory_activity
    FOR EACH ROW EXECUTE FUNCTION inventory_activity_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS inventory_activity_append_only ON inventory_activity;
DROP FUNCTION IF EXISTS inventory_activity_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
