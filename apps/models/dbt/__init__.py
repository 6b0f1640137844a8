"""dbt models as Syncline models: a dbt project's manifest.json, attached to the warehouse connection its
models are built in, lists the relations (tables and views) dbt builds; a Syncline model picked from it
reads its relation with ``SELECT * FROM <relation>``.

    manifest.py    plain Python: read a manifest.json (only the few fields Syncline uses), or say why not
    relations.py   plain Python: a dbt relation as a SELECT in the warehouse's own SQL dialect
    services.py    load a manifest into a connection's dbt project (new, changed, missing models), make a
                   Syncline model from a dbt model
    selectors.py, forms.py, views.py   the "dbt" page under Models, and the "Use this model" form
"""
