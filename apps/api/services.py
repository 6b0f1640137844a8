"""API keys: created (the secret returned once), touched when used, revoked."""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.api.models import VISIBLE_CHARS, ApiKey, hash_secret, new_secret
from apps.tenancy.models import Role, User, Workspace

# Writing last_used_at on every call would turn each API read into a write; a minute is precise enough.
LAST_USED_PRECISION = timedelta(minutes=1)


class ApiKeyError(Exception):
    pass


def _name_taken_message(name: str) -> str:
    return f"An active key is already named “{name}”. Choose another name, or revoke that key first."


def api_key_create(
    *, workspace: Workspace, user: User | None, name: str, role: Role = Role.EDITOR
) -> tuple[ApiKey, str]:
    """The new key and its secret. The secret is not stored anywhere: the caller shows it once. A viewer
    key only reads; an editor key also changes and triggers."""
    name = name.strip()
    if ApiKey.objects.for_workspace(workspace).filter(name=name, revoked_at=None).exists():
        raise ApiKeyError(_name_taken_message(name))
    secret = new_secret()
    try:
        with transaction.atomic():
            api_key = ApiKey.objects.create(
                workspace=workspace,
                name=name,
                role=role,
                prefix=secret[:VISIBLE_CHARS],
                secret_hash=hash_secret(secret),
                created_by=user,
            )
    except IntegrityError as error:  # the same name created at the same moment
        raise ApiKeyError(_name_taken_message(name)) from error
    return api_key, secret


def api_key_revoke(*, workspace: Workspace, api_key: ApiKey, user: User | None) -> ApiKey:
    """Revoking is immediate and final; a key already revoked keeps its first revocation."""
    ApiKey.objects.for_workspace(workspace).filter(pk=api_key.pk, revoked_at=None).update(
        revoked_at=timezone.now(), revoked_by=user, updated_at=timezone.now()
    )
    api_key.refresh_from_db()
    return api_key


def api_key_mark_used(*, api_key: ApiKey) -> None:
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_PRECISION:
        ApiKey.objects.for_workspace(api_key.workspace_id).filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
