"""Backups and support: `manage.py dumpdata` and `loaddata` cross every workspace on purpose, through the
scoping's explicit bypass (apps/tenancy/scoping.py), and say so on stderr."""

import io
from datetime import datetime

import pytest
from django.apps import apps
from django.core.management import call_command

from apps.connections.models import Connection
from apps.syncs.models import LedgerEntry, RecordResult, Sync, SyncRun
from apps.tenancy.models import Membership, Workspace
from apps.tenancy.scoping import UnscopedQueryError, WorkspaceOwnedModel
from tests.factories import MembershipFactory, SyncRunFactory

# A backup of the project's data: Django's own tables that migrations fill (content types, permissions)
# are left out, as Django's documentation advises for a dump meant to be loaded into a migrated database.
BACKUP = ["--natural-foreign", "--exclude=contenttypes", "--exclude=auth.permission"]


def _ms(value):
    # Django's JSON serialiser writes times to the millisecond (as JavaScript reads them).
    return (
        value.replace(microsecond=value.microsecond // 1000 * 1000) if isinstance(value, datetime) else value
    )


def _rows():
    """Every tenant-owned row, and the workspaces, as plain values."""
    tables = [m for m in apps.get_models() if issubclass(m, WorkspaceOwnedModel)]
    querysets = {m._meta.label: m.objects.across_all_workspaces_unsafe() for m in tables}
    querysets["tenancy.Workspace"] = Workspace.objects.all()
    return {
        label: sorted(tuple(map(_ms, row)) for row in qs.values_list()) for label, qs in querysets.items()
    }


def _dump(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("dumpdata", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db(transaction=True)  # flush truncates: not inside the test's transaction
def test_dumpdata_flush_loaddata_gives_back_the_same_rows(tmp_path):
    for _ in range(2):  # two workspaces: the dump is of the whole instance
        run = SyncRunFactory()
        MembershipFactory(workspace=run.workspace)
        LedgerEntry.objects.create(workspace=run.workspace, sync=run.sync, key="1", row_hash="7")
        RecordResult.objects.create(
            workspace=run.workspace, run=run, key="2", outcome="rejected", code="bad", message="Bad."
        )
    before = _rows()
    assert all(before[label] for label in ("syncs.Sync", "syncs.SyncRun", "syncs.LedgerEntry"))
    secrets_before = {c.pk: c.credentials for c in Connection.objects.across_all_workspaces_unsafe()}

    dump, said = _dump(*BACKUP)
    assert "every workspace" in said  # the bypass is loud
    assert str(next(iter(secrets_before.values()))["access_token"]) not in dump  # secrets stay encrypted
    (tmp_path / "backup.json").write_text(dump)

    call_command("flush", "--no-input", verbosity=0)
    assert not Sync.objects.across_all_workspaces_unsafe().exists()

    err = io.StringIO()
    call_command("loaddata", str(tmp_path / "backup.json"), verbosity=0, stderr=err)
    assert "every workspace" in err.getvalue()
    after = _rows()
    for label in before:
        assert after[label] == before[label], label
    assert {c.pk: c.credentials for c in Connection.objects.across_all_workspaces_unsafe()} == secrets_before
    assert SyncRun.objects.across_all_workspaces_unsafe().count() == 2


@pytest.mark.django_db
def test_dumpdata_of_one_app_works_and_scoping_is_back_on_afterwards():
    MembershipFactory()
    dump, _ = _dump("tenancy.membership")
    assert '"model": "tenancy.membership"' in dump
    with pytest.raises(UnscopedQueryError):
        list(Membership.objects.all())


@pytest.mark.django_db(transaction=True)
def test_the_block_opens_only_its_own_thread():
    import threading

    from apps.tenancy.scoping import every_workspace_unsafe

    MembershipFactory()
    seen = []

    def other_thread():
        try:
            list(Membership.objects.all())
            seen.append("ran")
        except UnscopedQueryError:
            seen.append("refused")

    with every_workspace_unsafe("test"):
        assert len(list(Membership.objects.all())) == 1
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    assert seen == ["refused"]
