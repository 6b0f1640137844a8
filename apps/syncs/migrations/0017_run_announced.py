from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("syncs", "0016_record_lookup")]

    operations = [
        migrations.AddField(
            model_name="syncrun", name="announced", field=models.JSONField(blank=True, default=list)
        ),
    ]
