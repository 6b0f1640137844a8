"""Syncs as code: a workspace's sources, models, syncs, schedules and alerts as YAML files (`syncline/v1`).

    yamlio.py    reading YAML with the line of every value (YAML 1.2 scalars: `yes` and `0x1` stay as
                 written) and writing it deterministically
    schema.py    the JSON Schema of the format, served at /schema/syncline-v1.json for editors
    document.py  the files as one document: structure checked against the schema, names and references
                 checked, every problem with its file, line and field
    state.py     a workspace as the document would describe it (what `export` writes and `plan` compares)
    plan.py      the changes, field by field, and the fingerprint of the state they were planned against
    apply.py     the changes made through the services of each app, in one transaction

The top layer of the import contracts: it uses connections, models, syncs and alerts, and nothing uses it.
"""
