from django.core.management.base import BaseCommand
from django.db import connection, transaction

from apps.common import crypto
from apps.common.fields import encrypted_fields


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret with the first key of FIELD_ENCRYPTION_KEYS. Run it after putting a "
        "new key first; afterwards the old keys can be removed."
    )

    def handle(self, *args, **options):
        total = 0
        for model, field in encrypted_fields():
            table, column = model._meta.db_table, field.column
            quote = connection.ops.quote_name
            # Raw SQL on purpose: this works on the ciphertext, across every workspace, without decoding.
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT {quote(model._meta.pk.column)}, {quote(column)} FROM {quote(table)} "  # noqa: S608
                    f"WHERE {quote(column)} IS NOT NULL"
                )
                rows = cursor.fetchall()
                for pk, token in rows:
                    cursor.execute(
                        f"UPDATE {quote(table)} SET {quote(column)} = %s "  # noqa: S608
                        f"WHERE {quote(model._meta.pk.column)} = %s",
                        [crypto.rotate(token), pk],
                    )
            total += len(rows)
            self.stdout.write(f"{model._meta.label}.{field.name}: {len(rows)} re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"Done: {total} secrets now use the first key."))
