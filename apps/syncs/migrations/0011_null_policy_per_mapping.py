"""The sync-wide "Don't overwrite with null" option becomes a null policy per mapping (`on_null`), chosen so
that no sync changes what it sends silently:

- `dont_overwrite_with_null: true`: NULLs were left out, so every mapping keeps Intercom's value ("keep").
- false or absent: NULLs were sent as null, so a field Intercom can clear clears ("clear"); a field it cannot
  clear keeps ("keep"). Those nulls were refused on every run: no longer sending them is the one change.

The option key is removed. The nullability below is frozen here, as the spec (2.16) gave it when this
migration was written (the catalog's `nullable` flags), so the migration means the same thing forever.
"""

from django.db import migrations

CONTACT_NULLABLE = {"name", "phone", "avatar", "signed_up_at", "last_seen_at", "owner_id",
                    "unsubscribed_from_emails"}  # fmt: skip
NULLABLE_FIELDS = {"contact": CONTACT_NULLABLE, "user": CONTACT_NULLABLE, "lead": CONTACT_NULLABLE,
                   "company": set()}  # fmt: skip
CUSTOM_NULLABLE = {"contact": True, "user": True, "lead": True, "company": False}
OPTION = "dont_overwrite_with_null"


def policy(object_key: str, mapping: dict, *, nulls_were_sent: bool) -> str:
    if not nulls_were_sent:
        return "keep"
    if mapping.get("custom"):
        nullable = CUSTOM_NULLABLE.get(object_key, False)
    else:
        nullable = mapping.get("target") in NULLABLE_FIELDS.get(object_key, set())
    return "clear" if nullable else "keep"


def to_policies(apps, schema_editor):
    Sync = apps.get_model("syncs", "Sync")
    for pk, object_key, mappings, options in Sync.objects.values_list(
        "pk", "object_key", "mappings", "options"
    ).iterator():
        options = dict(options or {})
        nulls_were_sent = not options.pop(OPTION, False)
        converted = [
            # A mapping that has a policy already was saved after this change: left as it is.
            m if "on_null" in m else {**m, "on_null": policy(object_key, m, nulls_were_sent=nulls_were_sent)}
            for m in mappings or []
        ]
        # update(), not save(): `updated_at` stays the time a person last saved the sync.
        Sync.objects.filter(pk=pk).update(mappings=converted, options=options)


def to_option(apps, schema_editor):
    """Back to the option: on where no mapping clears (NULLs were left out), off otherwise."""
    Sync = apps.get_model("syncs", "Sync")
    for pk, mappings, options in Sync.objects.values_list("pk", "mappings", "options").iterator():
        mappings = mappings or []
        clears = any(m.get("on_null") == "clear" for m in mappings)
        options = dict(options or {})
        if mappings and not clears:
            options[OPTION] = True
        stripped = [{k: v for k, v in m.items() if k != "on_null"} for m in mappings]
        Sync.objects.filter(pk=pk).update(mappings=stripped, options=options)


class Migration(migrations.Migration):
    dependencies = [("syncs", "0010_seed_workspace_time_zones")]

    operations = [migrations.RunPython(to_policies, to_option)]
