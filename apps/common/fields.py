import json

from django.db import models

from apps.common import crypto


class EncryptedJSONField(models.TextField):
    """A JSON value (a dict of credentials) stored encrypted: the database only ever holds a Fernet token."""

    description = "JSON, encrypted at rest"

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return json.loads(crypto.decrypt(value))

    def get_prep_value(self, value):
        if value is None:
            return None
        return crypto.encrypt(json.dumps(value, sort_keys=True).encode())

    def to_python(self, value):
        # A string is the serialised form (loaddata reads back what value_to_string wrote): the ciphertext.
        if isinstance(value, str):
            return json.loads(crypto.decrypt(value))
        return value

    def value_to_string(self, obj):
        # Serialisation (dumpdata) keeps the ciphertext, never the secret.
        return self.get_prep_value(self.value_from_object(obj))


def encrypted_fields():
    """Every (model, field) pair that holds an encrypted value, across installed apps."""
    from django.apps import apps

    return [
        (model, field)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedJSONField)
    ]
