"""Row fingerprints became 64-bit integers written in decimal (they were md5s in hex): an old one can never
equal a new one, and the ledger's digest adds them up as integers, so the old ones are forgotten. The
next run of each sync reads every row once (fingerprint pass, then the rows), finds the payloads Intercom
already has, sends nothing and stores the new fingerprints."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("syncs", "0007_dash_record_result_indexes")]

    operations = [
        migrations.RunSQL(
            "UPDATE syncs_ledgerentry SET row_hash = '' WHERE length(row_hash) = 32",
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
