"""Running aggregates: each incident counts its active alerts, and each membership
carries its alert's time, so correlation summarises an incident from its stored
figures and a few of its alerts read through an index, never from all of them."""

from django.db import migrations, models

ACTIVE = """
UPDATE incidents_incident SET active_count = (
    SELECT count(*) FROM incidents_incidentalert m
    JOIN alerts_alert a ON a.id = m.alert_id
    WHERE m.incident_id = incidents_incident.id AND a.status = 'active')
"""
TIMES = """
UPDATE incidents_incidentalert SET time = (
    SELECT a.time FROM alerts_alert a WHERE a.id = incidents_incidentalert.alert_id)
"""


class Migration(migrations.Migration):

    dependencies = [
        ('incidents', '0004_savedview'),
    ]

    operations = [
        migrations.AddField(
            model_name='incident',
            name='active_count',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='incidentalert',
            name='time',
            field=models.DateTimeField(null=True),
        ),
        migrations.RunSQL(ACTIVE, migrations.RunSQL.noop),
        migrations.RunSQL(TIMES, migrations.RunSQL.noop),
        migrations.AlterField(
            model_name='incidentalert',
            name='time',
            field=models.DateTimeField(),
        ),
        migrations.AlterField(
            model_name='incidentalert',
            name='incident',
            field=models.ForeignKey(db_index=False, on_delete=models.deletion.CASCADE,
                                    related_name='members', to='incidents.incident'),
        ),
        migrations.AddIndex(
            model_name='incidentalert',
            index=models.Index(fields=['incident', 'time', 'alert'], name='membership_time'),
        ),
    ]
