"""Workspaces gained a time zone (tenancy 0002, default UTC), which new schedules now start in. Before, a
new schedule started in the zone the workspace's schedules were last saved in: seed each workspace's zone
with that one, so nobody's next schedule silently moves to UTC."""

from django.db import migrations

ZONED_KINDS = ("interval", "hourly", "daily", "weekly", "cron")


def seed(apps, schema_editor):
    Sync = apps.get_model("syncs", "Sync")
    Workspace = apps.get_model("tenancy", "Workspace")
    latest = {}
    rows = Sync.objects.filter(schedule_kind__in=ZONED_KINDS).order_by("updated_at")
    for workspace_id, zone in rows.values_list("workspace_id", "schedule_timezone"):
        latest[workspace_id] = zone  # the most recently saved wins
    for workspace_id, zone in latest.items():
        if zone and zone != "UTC":
            Workspace.objects.filter(pk=workspace_id, time_zone="UTC").update(time_zone=zone)


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0002_workspace_time_zone"),
        ("syncs", "0009_syncrun_api_key"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
