import pytest
from django.core.management import CommandError, call_command

from tests.fixtures.syncs import m, make_sync

pytestmark = pytest.mark.django_db


def test_run_sync_prints_the_counts(workspace, warehouse, destination, intercom_emulator, capsys):
    warehouse.table("people", "email VARCHAR, name VARCHAR", [("a@example.com", "A"), ("b@example.com", "B")])
    model = warehouse.model("SELECT * FROM people", "email", ["email", "name"])
    sync = make_sync(
        workspace,
        model,
        destination,
        object_key="user",
        behavior="upsert",
        key_column="email",
        key_identifier="email",
        mappings=[m("name", "string", "name")],
        name="People",
    )
    call_command("run_sync", workspace.slug, "People")
    out = capsys.readouterr()
    assert "Succeeded" in out.out and "created" in out.out and "2" in out.out
    assert "rows" in out.err  # the progress bar
    call_command("run_sync", workspace.slug, str(sync.pk))
    assert "unchanged" in capsys.readouterr().out


def test_run_sync_names_the_syncs_when_it_cannot_find_one(workspace):
    with pytest.raises(CommandError, match="No sync 'nope'"):
        call_command("run_sync", workspace.slug, "nope")
